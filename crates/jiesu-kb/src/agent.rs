//! The virtual agent's decision (智能问答): answer from an article only when the article really
//! covers the question, otherwise say plainly that it does not know and hand over.
//!
//! BM25's relative confidence (`score / max_score`) says how strongly the best article matches
//! the query terms that *exist in the index*; it cannot see the words that exist nowhere
//! (`烤鸭`, `比特币`) and rewards an article for a single common word. So the agent also looks,
//! word by word, at the question's content words (IDF-weighted; a word unknown to the index gets
//! the highest IDF):
//!
//! - **query coverage** — how much of the question the article's question and tags cover (a
//!   word found only in the answer text counts 0.5); words of the city itself (`北京`, `本市`)
//!   are left out;
//! - **article coverage** — how much of the article's own question the citizen asked about (the
//!   article `居住证丢了怎么补办` is not the answer to `居住证怎么办`: 丢, 补办 are not asked);
//! - **scope** — a question naming another province, city or country (`data/agent_scope.txt`)
//!   and not this city is another city's matter.
//!
//! The candidates (the search's top 8) are re-ranked by `confidence × (0.5 + 0.5 × article
//! coverage) × query coverage` (× 0.7 for a district's or street's article when the question
//! names no place: `居住证怎么办` is not asking about 望京), and the best one is answered when query coverage, article
//! coverage and confidence reach [`AgentThresholds`] and it leads the next article by a margin.
//! The thresholds were chosen on the tuning half of `data/agent_questions.tsv` (docs/KB.md §5c).

use std::collections::HashSet;
use std::sync::OnceLock;

use jiesu_text::{Analysis, Analyzer};

use crate::index::SearchIndex;
use crate::text::{
    bigram_term, for_each_kept_bigram, for_each_subword_group, group_term, is_cjk,
    word_term_of_key, Gazetteer, Synonyms,
};

/// Scope words (`data/agent_scope.txt`).
pub const AGENT_SCOPE: &str = include_str!("../data/agent_scope.txt");

/// The thresholds of the agent's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentThresholds {
    /// BM25 relative confidence of the chosen article.
    pub min_confidence: f32,
    /// Share of the question (IDF-weighted content words) the article covers.
    pub min_query_coverage: f32,
    /// Share of the article's question the citizen asked about.
    pub min_article_coverage: f32,
    /// The chosen article's agent score over the runner-up's must be at least this.
    pub min_margin: f32,
    /// Below this article coverage the chosen article is not answered when another article
    /// covers the question as well (within 0.05): the question is too short to tell which one
    /// is meant (`居住证怎么办`: 办理, 签注 or 补办?), so the agent lists them and hands over.
    pub clear_article_coverage: f32,
}

impl Default for AgentThresholds {
    fn default() -> Self {
        AgentThresholds {
            min_confidence: crate::kb::DEFAULT_ANSWER_CONFIDENCE,
            min_query_coverage: 0.55,
            min_article_coverage: 0.20,
            // a margin of 1.1–1.2 over the runner-up was tried: it handed over right answers
            // and removed no wrong one on the tuning half, so it is off by default
            min_margin: 1.0,
            clear_article_coverage: 0.5,
        }
    }
}

struct Scope {
    home: HashSet<String>,
    elsewhere: HashSet<String>,
}

fn scope() -> &'static Scope {
    static S: OnceLock<Scope> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Scope {
            home: HashSet::new(),
            elsewhere: HashSet::new(),
        };
        let mut section = "";
        for l in AGENT_SCOPE.lines().map(str::trim) {
            if l.starts_with('#') || l.is_empty() {
                continue;
            }
            if l.starts_with('[') {
                section = l;
                continue;
            }
            let set = match section {
                "[home]" => &mut s.home,
                "[elsewhere]" => &mut s.elsewhere,
                _ => continue,
            };
            set.extend(l.split_whitespace().map(str::to_string));
        }
        s
    })
}

/// One content word of a text.
#[derive(Debug, Clone)]
struct Word {
    key: u64,
    /// The word's only character, for a one-character word.
    single: Option<char>,
    groups: Vec<u64>,
    bigrams: Vec<u64>,
    weight: f32,
}

/// The terms of a text (words, groups, bigrams) and its content words.
#[derive(Debug, Default)]
struct Terms {
    set: HashSet<u64>,
    /// Every pair of adjacent ideographs of the normalised text (segmentation-independent).
    pairs: HashSet<u64>,
    /// Every ideograph of the normalised text.
    chars: HashSet<char>,
    words: Vec<Word>,
    /// Whether the text names a place of elsewhere / of the city (home word or gazetteer place).
    elsewhere: bool,
    home: bool,
}

fn terms(analyzer: &Analyzer, text: &str) -> Terms {
    let syn = Synonyms::shipped();
    let gaz = Gazetteer::shipped();
    let sc = scope();
    let mut a = Analysis::default();
    analyzer.analyze_into(text, &mut a);
    let mut t = Terms::default();
    let n_words = a.len();
    for (w, &k) in a.tokens().zip(a.word_keys()) {
        let key = word_term_of_key(k);
        t.set.insert(key);
        let mut groups = Vec::new();
        match syn.group_of_key(key) {
            Some(g) => groups.push(group_term(g)),
            None => for_each_subword_group(syn, w, |g| groups.push(group_term(g))),
        }
        t.set.extend(groups.iter().copied());
        let cs: Vec<char> = w.chars().collect();
        let bigrams: Vec<u64> = if cs.len() >= 2 && cs.iter().all(|&c| is_cjk(c)) {
            cs.windows(2).map(|p| bigram_term(p[0], p[1])).collect()
        } else {
            Vec::new()
        };
        if sc.elsewhere.contains(w) {
            t.elsewhere = true;
            continue;
        }
        if sc.home.contains(w) || !gaz.lookup_key(key).is_empty() {
            // the city and its places: scored by the search's place terms, not as content
            t.home = true;
            continue;
        }
        let weight = if cs.len() == 1 && n_words > 1 {
            0.3
        } else {
            1.0
        };
        t.words.push(Word {
            key,
            single: if cs.len() == 1 { Some(cs[0]) } else { None },
            groups,
            bigrams,
            weight,
        });
    }
    for_each_kept_bigram(&a, |x, y| {
        t.set.insert(bigram_term(x, y));
    });
    let cs: Vec<char> = a.normalized().chars().collect();
    t.chars.extend(cs.iter().copied().filter(|&c| is_cjk(c)));
    for p in cs.windows(2) {
        if is_cjk(p[0]) && is_cjk(p[1]) {
            t.pairs.insert(bigram_term(p[0], p[1]));
        }
    }
    t
}

/// How well text `t` contains word `w`: 1 for the word or a synonym; else, independently of how
/// jieba cut either text, 0.8 × the share of the word's character pairs found in the text (when
/// at least half are), or 0.8 for a one-character word whose character occurs.
fn word_match(w: &Word, t: &Terms) -> f32 {
    if t.set.contains(&w.key) || w.groups.iter().any(|g| t.set.contains(g)) {
        return 1.0;
    }
    if let Some(c) = w.single {
        return if t.chars.contains(&c) { 0.8 } else { 0.0 };
    }
    if w.bigrams.is_empty() {
        return 0.0;
    }
    let found = w.bigrams.iter().filter(|b| t.pairs.contains(b)).count();
    let share = found as f32 / w.bigrams.len() as f32;
    if share >= 0.5 {
        0.8 * share
    } else {
        0.0
    }
}

fn idf_of(index: &SearchIndex, key: u64) -> f32 {
    let n = index.len().max(1) as f32;
    index
        .idf_of(key)
        .unwrap_or_else(|| (1.0 + (n + 0.5) / 0.5).ln())
}

/// The prepared question: its terms, computed once per question.
pub struct AgentQuery {
    q: Terms,
}

/// One candidate's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub confidence: f32,
    pub query_coverage: f32,
    pub article_coverage: f32,
    /// `confidence × (0.5 + 0.5 × article_coverage) × query_coverage`.
    pub score: f32,
}

impl AgentQuery {
    pub fn new(analyzer: &Analyzer, question: &str) -> Self {
        AgentQuery {
            q: terms(analyzer, question),
        }
    }

    /// Whether the question is about another city's matters (names elsewhere, not the city).
    pub fn out_of_town(&self) -> bool {
        self.q.elsewhere && !self.q.home
    }

    /// Whether the question has no content word at all (`你好`, `？？？`).
    pub fn is_empty(&self) -> bool {
        self.q.words.is_empty()
    }

    /// Judges one candidate article (its question, tags and answer) at BM25 `confidence`.
    pub fn judge(
        &self,
        analyzer: &Analyzer,
        index: &SearchIndex,
        question: &str,
        tags: &str,
        answer: &str,
        confidence: f32,
    ) -> Judgement {
        let head = terms(analyzer, &format!("{question} {tags}"));
        let body = terms(analyzer, answer);
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for w in &self.q.words {
            let wt = w.weight * idf_of(index, w.key);
            den += wt;
            num += wt * word_match(w, &head).max(0.5 * word_match(w, &body));
        }
        let query_coverage = if den > 0.0 { num / den } else { 0.0 };
        // the article's question often asks two things (`养老金每月几号发放，今年涨了多少？`):
        // its coverage is that of its best-covered clause
        let mut article_coverage = 0.0f32;
        for clause in question
            .split(['，', ',', '。', '？', '?', '！', '!', '；', ';', '、'])
            .filter(|c| !c.trim().is_empty())
        {
            let aq = terms(analyzer, clause);
            let (mut an, mut ad) = (0.0f32, 0.0f32);
            for w in &aq.words {
                let wt = w.weight * idf_of(index, w.key);
                ad += wt;
                an += wt * word_match(w, &self.q);
            }
            if ad > 0.0 {
                article_coverage = article_coverage.max(an / ad);
            }
        }
        Judgement {
            confidence,
            query_coverage,
            article_coverage,
            score: confidence * (0.5 + 0.5 * article_coverage) * query_coverage,
        }
    }
}
