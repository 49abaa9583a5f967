//! Raw text (原始留言) reconstructed from a pre-segmented, stop-word-filtered training file, for
//! evaluating the classifier end to end on text that looks like what citizens type.
//!
//! The labelled TipDM file was made by cutting `title + detail` with jieba (HMM on) and removing
//! every token on its makers' stop-word list (function words, punctuation, lone digits, the
//! masked `A` of `A市`, negations …). Raw messages of the same board without labels
//! (`tipdm2020_gov_messages_votes_replies`) show what was removed and where: [`GapModel::learn`]
//! cuts them the same way, calls a token *removed* when it has no letter or digit or when it is
//! frequent in raw text (in at least `min_docs` messages) yet never a token of the training file,
//! and records, after each kept word, the exact run of removed text that followed it in the raw
//! message (`，`, `的`, `了。\n`, `2`, nothing, …). [`GapModel::reconstruct`] puts such runs back
//! between the words of a training text, drawn (seeded) from what followed the same word in raw
//! messages, or from all gaps when the word was seen too rarely. The result has the punctuation,
//! function words, negations, digits and line breaks of real messages at their real rates, in
//! their real places relative to the content words, while the content words stay those of the
//! labelled message.

use std::collections::{HashMap, HashSet};

use jieba_rs::Jieba;

use crate::svm::SplitMix64;

/// A word seen fewer times than this as a kept word in the raw corpus draws its gap from all
/// gaps instead of its own.
const MIN_CONTEXT: u32 = 20;

/// What followed each kept word in raw messages, and which tokens count as removed.
#[derive(Debug, Clone, Default)]
pub struct GapModel {
    /// Gap runs after a kept word: (cumulative count, run).
    by_prev: HashMap<String, Vec<(u32, String)>>,
    /// All gap runs (cumulative count, run).
    global: Vec<(u32, String)>,
    /// Gap runs before the first kept word.
    start: Vec<(u32, String)>,
    removed: HashSet<String>,
    /// Raw messages learnt from.
    pub n_messages: usize,
    /// Kept words and removed tokens seen in them.
    pub kept_tokens: usize,
    pub removed_tokens: usize,
    /// Characters of kept words and of removed runs.
    pub kept_chars: usize,
    pub removed_chars: usize,
}

fn is_content(w: &str) -> bool {
    w.chars().any(char::is_alphanumeric)
}

fn push(counts: &mut HashMap<String, u32>, run: &str) {
    *counts.entry(run.to_owned()).or_default() += 1;
}

fn cumulative(counts: HashMap<String, u32>) -> Vec<(u32, String)> {
    let mut v: Vec<(String, u32)> = counts.into_iter().collect();
    v.sort_unstable(); // deterministic order
    let mut total = 0;
    v.into_iter()
        .map(|(s, c)| {
            total += c;
            (total, s)
        })
        .collect()
}

fn draw<'a>(dist: &'a [(u32, String)], rng: &mut SplitMix64) -> &'a str {
    let Some(&(total, _)) = dist.last() else {
        return "";
    };
    let u = rng.below(total as usize) as u32;
    let i = dist.partition_point(|&(c, _)| c <= u);
    dist.get(i).map_or("", |(_, s)| s.as_str())
}

impl GapModel {
    /// Learns from raw messages (`title + detail`, as typed) and the training file's segmented
    /// texts (space-separated tokens). A token absent from the training file is *removed* when it
    /// occurs in at least `min_docs` raw messages (rarer ones are just other messages' words).
    ///
    /// `corpora` are one or more sets of raw messages (e.g. one per file); a word must reach
    /// `min_docs` in *each* of them, so that a hot topic of one file (a housing estate many
    /// people wrote about) is not mistaken for a function word.
    pub fn learn<R: AsRef<str>, S: AsRef<str>>(
        corpora: &[&[R]],
        segmented: &[S],
        min_docs: usize,
    ) -> Self {
        let jieba = Jieba::new();
        let train_words: HashSet<&str> = segmented
            .iter()
            .flat_map(|t| t.as_ref().split_whitespace())
            .collect();
        let per_corpus: Vec<Vec<Vec<&str>>> = corpora
            .iter()
            .map(|raw| {
                raw.iter()
                    .map(|t| {
                        jieba
                            .cut(t.as_ref(), true)
                            .into_iter()
                            .map(|tok| tok.word)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut df: HashMap<&str, Vec<usize>> = HashMap::new();
        for (c, cuts) in per_corpus.iter().enumerate() {
            for cut in cuts {
                let distinct: HashSet<&str> = cut.iter().copied().collect();
                for w in distinct {
                    if is_content(w) && !train_words.contains(w) {
                        df.entry(w).or_insert_with(|| vec![0; corpora.len()])[c] += 1;
                    }
                }
            }
        }
        let removed: HashSet<String> = df
            .into_iter()
            .filter(|(_, n)| n.iter().all(|&n| n >= min_docs.max(1)))
            .map(|(w, _)| w.to_owned())
            .collect();
        let cuts: Vec<&Vec<&str>> = per_corpus.iter().flatten().collect();
        let mut m = GapModel {
            n_messages: cuts.len(),
            ..GapModel::default()
        };
        let mut by_prev: HashMap<String, HashMap<String, u32>> = HashMap::new();
        let mut global = HashMap::new();
        let mut start = HashMap::new();
        for cut in cuts {
            let mut prev: Option<&str> = None;
            let mut run = String::new();
            for &w in cut.iter() {
                if !is_content(w) || removed.contains(w) {
                    run.push_str(w);
                    m.removed_tokens += 1;
                    m.removed_chars += w.chars().count();
                    continue;
                }
                match prev {
                    Some(p) => {
                        push(by_prev.entry(p.to_owned()).or_default(), &run);
                        push(&mut global, &run);
                    }
                    None => push(&mut start, &run),
                }
                run.clear();
                prev = Some(w);
                m.kept_tokens += 1;
                m.kept_chars += w.chars().count();
            }
            if let Some(p) = prev {
                push(by_prev.entry(p.to_owned()).or_default(), &run);
                push(&mut global, &run);
            }
        }
        m.by_prev = by_prev
            .into_iter()
            .filter(|(_, c)| c.values().sum::<u32>() >= MIN_CONTEXT)
            .map(|(w, c)| (w, cumulative(c)))
            .collect();
        m.global = cumulative(global);
        m.start = cumulative(start);
        m.removed = removed;
        m
    }

    /// Number of distinct tokens counted as removed (stop words the training file's makers
    /// filtered, as measured).
    pub fn removed_words(&self) -> usize {
        self.removed.len()
    }

    /// The tokens counted as removed, sorted.
    pub fn removed_list(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.removed.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Whether `w` (a jieba token of raw text) counts as removed.
    pub fn is_removed(&self, w: &str) -> bool {
        !is_content(w) || self.removed.contains(w)
    }

    /// The training file's form of a raw text, as its makers made it: cut by `jieba` (HMM on),
    /// removed tokens dropped, words separated by spaces. Lets a model's predictions on real raw
    /// messages be compared with its predictions on their segmented form.
    pub fn segment_like_training(&self, jieba: &Jieba, raw: &str) -> String {
        let mut out = String::with_capacity(raw.len());
        for tok in jieba.cut(raw, true) {
            if !self.is_removed(tok.word) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(tok.word);
            }
        }
        out
    }

    /// A raw-looking text from a segmented one: its tokens written together with removed runs
    /// drawn after each word (see the module documentation).
    pub fn reconstruct(&self, segmented: &str, rng: &mut SplitMix64) -> String {
        let mut out = String::with_capacity(segmented.len() * 2);
        out.push_str(draw(&self.start, rng));
        for w in segmented.split_whitespace() {
            out.push_str(w);
            let dist = self.by_prev.get(w).unwrap_or(&self.global);
            out.push_str(draw(dist, rng));
        }
        out
    }
}

/// Groups of messages that are the same message posted again (the same last 20 tokens, i.e. the
/// same detail): they must fall on the same side of a split, or a test message is in effect
/// also a training message. Returns one group id per text.
pub fn message_groups<S: AsRef<str>>(segmented: &[S]) -> Vec<usize> {
    let mut ids: HashMap<String, usize> = HashMap::new();
    segmented
        .iter()
        .map(|t| {
            let toks: Vec<&str> = t.as_ref().split_whitespace().collect();
            let key = toks[toks.len().saturating_sub(20)..].join(" ");
            let next = ids.len();
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_follow_the_words_they_followed_in_raw_text() {
        let raw: Vec<String> = (0..40)
            .map(|i| format!("小区停水了，物业不管。{}号楼的电梯坏了！", i % 7 + 2))
            .collect();
        let segmented = ["小区 停水 物业 不管 号楼 电梯 坏"];
        let m = GapModel::learn(&[raw.as_slice()], &segmented, 5);
        assert!(m.is_removed("了") && m.is_removed("，") && m.is_removed("的"));
        assert!(!m.is_removed("小区") && !m.is_removed("电梯"));
        let mut rng = SplitMix64::new(1);
        let r = m.reconstruct("小区 停水 物业 电梯", &mut rng);
        assert!(r.starts_with("小区停水了，物业"), "{r}");
        assert!(r.contains("电梯"), "{r}");
        assert!(m.removed_tokens > 0 && m.kept_tokens > 0);
    }

    #[test]
    fn reposted_messages_share_a_group() {
        let detail = "小区 停水 三天 物业 不管 ".repeat(5);
        let g = message_groups(&[
            format!("甲 标题 {detail}"),
            format!("乙 另一 标题 {detail}"),
            "学校 收费".to_string(),
        ]);
        assert_eq!(g[0], g[1]);
        assert_ne!(g[0], g[2]);
    }
}
