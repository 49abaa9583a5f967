//! Measuring the virtual agent's answer-or-hand-over (智能问答) on `data/agent_questions.tsv`:
//! out-of-scope questions (any answer is a confident wrong answer), near misses (the listed
//! article or a hand-over is right) and in-scope paraphrases of the demo articles. See
//! `docs/KB.md` §5c; `cargo run -p jiesu-kb --example agent_eval` prints the figures.

use chrono::NaiveDate;

use crate::agent::AgentThresholds;
use crate::kb::KnowledgeBase;

/// The shipped question set.
pub const AGENT_QUESTIONS: &str = include_str!("../data/agent_questions.tsv");

/// What a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuestionKind {
    /// Nothing the hotline's knowledge base answers (weather, jokes, other cities …).
    Out,
    /// Looks like an article but is not, or only one specific article is right.
    Near,
    /// A paraphrase of an article's question.
    In,
}

/// One labelled question.
#[derive(Debug, Clone)]
pub struct AgentQuestion {
    pub question: String,
    /// Acceptable article ids (empty = must hand over).
    pub expected: Vec<String>,
    pub kind: QuestionKind,
    /// `true` for the tuning half, `false` for the reporting half.
    pub tune: bool,
}

/// Parses the TSV (`question, expected, kind, split`; `#` comments).
pub fn parse_questions(tsv: &str) -> Result<Vec<AgentQuestion>, String> {
    let mut v = Vec::new();
    for (i, l) in tsv.lines().enumerate() {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() < 4 {
            return Err(format!("line {}: expected 4 tab-separated fields", i + 1));
        }
        let kind = match f[2] {
            "out" => QuestionKind::Out,
            "near" => QuestionKind::Near,
            "in" => QuestionKind::In,
            k => return Err(format!("line {}: unknown kind {k}", i + 1)),
        };
        let expected = if f[1] == "none" {
            Vec::new()
        } else {
            f[1].split('|').map(str::to_string).collect()
        };
        v.push(AgentQuestion {
            question: f[0].to_string(),
            expected,
            kind,
            tune: f[3] == "tune",
        });
    }
    Ok(v)
}

/// Counts for one group of questions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentCounts {
    pub questions: usize,
    pub answered: usize,
    /// Answered with an acceptable article.
    pub right: usize,
    /// Answered with an article that is not acceptable (for `out`: any answer).
    pub wrong: usize,
    pub handed_over: usize,
}

impl AgentCounts {
    /// Right answers / answers (1.0 when nothing was answered).
    pub fn precision(&self) -> f64 {
        if self.answered == 0 {
            1.0
        } else {
            self.right as f64 / self.answered as f64
        }
    }
    /// Hand-overs / questions.
    pub fn handover_rate(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            self.handed_over as f64 / self.questions as f64
        }
    }
}

/// The figures of one run.
#[derive(Debug, Clone, Default)]
pub struct AgentEval {
    pub out: AgentCounts,
    pub near: AgentCounts,
    pub inside: AgentCounts,
    /// `question → answered id / handover` for every wrong case.
    pub mistakes: Vec<String>,
}

/// Runs the agent on `questions` (the tuning or the reporting half, or all).
pub fn evaluate(
    kb: &KnowledgeBase,
    questions: &[AgentQuestion],
    day: NaiveDate,
    th: &AgentThresholds,
) -> AgentEval {
    let mut e = AgentEval::default();
    for q in questions {
        let r = kb.answer_with(&q.question, th, Some(day));
        let c = match q.kind {
            QuestionKind::Out => &mut e.out,
            QuestionKind::Near => &mut e.near,
            QuestionKind::In => &mut e.inside,
        };
        c.questions += 1;
        match &r.answer {
            Some(a) => {
                c.answered += 1;
                if q.expected.contains(&a.article_id) {
                    c.right += 1;
                } else {
                    c.wrong += 1;
                    e.mistakes.push(format!(
                        "{:?} {} → answered {} (conf {:.2} qcov {:.2} acov {:.2}), want {}",
                        q.kind,
                        q.question,
                        a.article_id,
                        a.confidence,
                        a.query_coverage,
                        a.article_coverage,
                        if q.expected.is_empty() {
                            "hand-over".to_string()
                        } else {
                            q.expected.join("|")
                        }
                    ));
                }
            }
            None => {
                c.handed_over += 1;
                if q.kind == QuestionKind::In {
                    let best = kb
                        .agent_candidates(&q.question, Some(day))
                        .into_iter()
                        .take(2)
                        .map(|(id, j)| {
                            format!(
                                "{id} conf {:.2} qcov {:.2} acov {:.2} s {:.2}",
                                j.confidence, j.query_coverage, j.article_coverage, j.score
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    e.mistakes.push(format!(
                        "In {} → handed over (best {best}), want {}",
                        q.question,
                        q.expected.join("|")
                    ));
                }
            }
        }
    }
    e
}

impl std::fmt::Display for AgentEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |f: &mut std::fmt::Formatter<'_>, name: &str, c: &AgentCounts| {
            writeln!(
                f,
                "{name:<6} questions {:>3}  answered {:>3}  right {:>3}  wrong {:>3}  handed over {:>3}  precision {:.3}  hand-over rate {:.3}",
                c.questions, c.answered, c.right, c.wrong, c.handed_over, c.precision(), c.handover_rate()
            )
        };
        line(f, "out", &self.out)?;
        line(f, "near", &self.near)?;
        line(f, "in", &self.inside)?;
        writeln!(
            f,
            "confident wrong on out-of-scope: {}; in-scope precision {:.3}",
            self.out.wrong,
            self.inside.precision()
        )
    }
}
