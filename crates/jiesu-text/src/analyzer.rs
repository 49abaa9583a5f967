//! Chinese text analysis: normalisation, jieba segmentation, stop-word filtering.
//!
//! One [`Analyzer`] serves every text feature of Jiesu (classification now; search and duplicate
//! detection later), so that a word means the same thing everywhere.
//!
//! Input may be raw text (`A3区联丰路的小区停水了！`) or text that was already segmented with
//! spaces (`A3 区 联丰路 小区 停水`). Both go through the same path: the text is normalised
//! (full-width forms folded to ASCII, Latin lower-cased), whitespace is removed except between two
//! ASCII letters/digits (so `wifi 信号` keeps nothing but `new york` keeps its space), and the
//! result is segmented again by jieba. Tokens without a letter or digit (punctuation, symbols,
//! emoji), single ASCII letters or digits, and stop words are dropped. Re-segmenting
//! pre-segmented text makes the words of a training file look like the words of a raw message.

use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasherDefault;

use jieba_rs::Jieba;

use crate::features::{word_key, KeyHasher};

/// A dictionary entry no real text contains (two private-use characters) whose frequency brings a
/// restricted dictionary's total up to the full dictionary's ([`Analyzer::restricted_to`]).
const TOTAL_FILLER: &str = "\u{F8FE}\u{F8FF}";

/// The stop-word list shipped with the crate (`data/stopwords.txt`).
pub const DEFAULT_STOPWORDS: &str = include_str!("../data/stopwords.txt");

/// Parses a stop-word file: one word per line, `#` starts a comment line, blank lines ignored.
pub fn parse_stopwords(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(normalize)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Segmenter + stop words + domain dictionary. Cheap to share behind an `Arc`; `Sync`.
pub struct Analyzer {
    jieba: Jieba,
    /// Keys ([`word_key`]) of the stop words: a 64-bit hash set is faster than strings.
    stopwords: HashSet<u64, BuildHasherDefault<KeyHasher>>,
    stopword_list: Vec<String>,
    user_words: Vec<String>,
    hmm: bool,
    /// The restricted dictionary ([`Analyzer::restricted_to`]); `None` for jieba's default.
    dictionary: Option<Vec<(String, u64)>>,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("stopwords", &self.stopword_list.len())
            .field("user_words", &self.user_words.len())
            .field("hmm", &self.hmm)
            .field("dictionary", &self.dictionary.as_ref().map(Vec::len))
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// The words an analysis kept, as byte ranges of the normalised text. Reuse one value across
/// calls to [`Analyzer::analyze_into`] to avoid allocations.
#[derive(Debug, Default, Clone)]
pub struct Analysis {
    normalized: String,
    spans: Vec<(u32, u32)>,
    keys: Vec<u64>,
}

impl Analysis {
    /// The kept words, in order.
    pub fn tokens(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.spans
            .iter()
            .map(move |&(a, b)| &self.normalized[a as usize..b as usize])
    }
    /// Word `i` (panics if out of range).
    pub fn token(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.normalized[a as usize..b as usize]
    }
    /// [`word_key`] of each kept word (computed once for the stop-word check).
    pub fn word_keys(&self) -> &[u64] {
        &self.keys
    }
    /// Number of kept words.
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    /// True when no word was kept.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    /// The normalised text the words point into.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl Analyzer {
    /// jieba's default dictionary, the shipped stop words, HMM for unknown words off
    /// (see `docs/TEXT.md`: it made no difference to accuracy and costs time).
    pub fn new() -> Self {
        Self::from_parts(parse_stopwords(DEFAULT_STOPWORDS), Vec::new(), false)
    }

    /// As [`Analyzer::new`] plus domain words (unit names, places, category terms) that jieba must
    /// keep whole.
    pub fn with_user_dict<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut a = Self::new();
        for w in words {
            a.add_word(w.as_ref());
        }
        a
    }

    /// Full control: stop words, domain words and whether jieba's HMM guesses unknown words.
    pub fn from_parts(stopwords: Vec<String>, user_words: Vec<String>, hmm: bool) -> Self {
        Self::build(Jieba::new(), stopwords, user_words, hmm)
    }

    fn build(jieba: Jieba, stopwords: Vec<String>, user_words: Vec<String>, hmm: bool) -> Self {
        let mut a = Analyzer {
            jieba,
            stopwords: HashSet::default(),
            stopword_list: Vec::new(),
            user_words: Vec::new(),
            hmm,
            dictionary: None,
        };
        for s in stopwords {
            let s = normalize(&s);
            if !s.is_empty() && a.stopwords.insert(word_key(&s)) {
                a.stopword_list.push(s);
            }
        }
        for w in user_words {
            a.add_word(&w);
        }
        a
    }

    /// A copy of this analyser whose segmentation dictionary (领域词典, a domain dictionary built
    /// from the data) holds only the dictionary words that segmenting `texts` used, plus every
    /// single-character entry and this analyser's domain words; stop words and HMM stay.
    ///
    /// Segmenting is a walk of jieba's dictionary trie from every character, and with the full
    /// dictionary (≈ 350,000 words, a ≈ 16 MB table) nearly every step is a cache miss; the
    /// words a corpus of complaints actually uses (≈ 50,000) fit in cache, which makes
    /// segmentation about 1.5× faster. Words the corpus never used cannot be features of a model
    /// trained on it anyway; a new text containing one is cut into known pieces instead.
    /// Frequencies are jieba's own (read through `suggest_freq`, exact to ±1), and so is the
    /// total, so the training texts are cut as with the full dictionary.
    pub fn restricted_to<S: AsRef<str> + Sync>(&self, texts: &[S], threads: usize) -> Analyzer {
        let chunk = texts.len().div_ceil(threads.max(1)).max(1);
        let mut words: HashSet<String> = std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut seen: HashSet<String> = HashSet::new();
                        let mut norm = String::new();
                        for t in part {
                            normalize_into(crate::model::clip_text(t.as_ref()), &mut norm);
                            for tok in self.jieba.cut(&norm, self.hmm) {
                                if !seen.contains(tok.word) && self.jieba.has_word(tok.word) {
                                    seen.insert(tok.word.to_owned());
                                }
                            }
                        }
                        seen
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("segmentation thread panicked"))
                .collect()
        });
        // Every single character jieba knows (CJK extension A and the basic block): a character
        // the corpus never used alone keeps its own frequency instead of falling to 1.
        let mut buf = [0u8; 4];
        for c in ('\u{3400}'..='\u{4DBF}').chain('\u{4E00}'..='\u{9FFF}') {
            let w: &str = c.encode_utf8(&mut buf);
            if self.jieba.has_word(w) {
                words.insert(w.to_owned());
            }
        }
        for w in &self.user_words {
            words.remove(w); // re-added below with their own frequency
        }
        let mut entries: Vec<(String, u64)> = words
            .into_iter()
            .map(|w| {
                let f = self.jieba.suggest_freq(&w).saturating_sub(1).max(1) as u64;
                (w, f)
            })
            .collect();
        entries.sort_unstable();
        // jieba scores a cut by Σ ln(freq / total): keep the full dictionary's total, so that the
        // corpus is cut exactly as before. It is not exposed; for two frequent characters a, b
        // (cut apart) `suggest_freq("ab")` = ⌊f_a·f_b / total⌋ + 1 gives it to ±0.1 %.
        let kept: u64 = entries.iter().map(|(_, f)| f).sum();
        let total = self.estimated_total();
        if total > kept {
            entries.push((TOTAL_FILLER.to_owned(), total - kept));
        }
        Analyzer::with_dictionary(
            self.stopword_list.clone(),
            self.user_words.clone(),
            self.hmm,
            entries,
        )
    }

    /// The total frequency of jieba's dictionary, estimated from the frequent pairs 的的, 是是, 了了
    /// (median).
    fn estimated_total(&self) -> u64 {
        let mut estimates: Vec<f64> = ["的", "是", "了"]
            .iter()
            .filter_map(|c| {
                let f = self.jieba.suggest_freq(c).saturating_sub(1) as f64;
                let pair = format!("{c}{c}");
                let s = self.jieba.suggest_freq(&pair).saturating_sub(1) as f64;
                (f > 1000.0 && s > 10.0 && !self.jieba.has_word(&pair)).then(|| f * f / s)
            })
            .collect();
        estimates.sort_by(f64::total_cmp);
        estimates.get(estimates.len() / 2).map_or(0, |&t| t as u64)
    }

    /// An analyser segmenting with exactly `entries` (word, frequency) as its dictionary instead
    /// of jieba's default one (see [`Analyzer::restricted_to`]), plus `user_words`.
    pub fn with_dictionary(
        stopwords: Vec<String>,
        user_words: Vec<String>,
        hmm: bool,
        entries: Vec<(String, u64)>,
    ) -> Self {
        let mut jieba = Jieba::empty();
        let mut dict = String::with_capacity(entries.len() * 12);
        for (w, f) in &entries {
            // Words with whitespace cannot be dictionary lines; jieba never produces them.
            if !w.is_empty() && !w.contains(char::is_whitespace) {
                dict.push_str(w);
                dict.push(' ');
                dict.push_str(&f.max(&1).to_string());
                dict.push('\n');
            }
        }
        jieba
            .load_dict(&mut dict.as_bytes())
            .expect("dictionary lines are well formed");
        let mut a = Self::build(jieba, stopwords, user_words, hmm);
        a.dictionary = Some(entries);
        a
    }

    /// The restricted dictionary, if this analyser has one (`None`: jieba's default).
    pub fn dictionary(&self) -> Option<&[(String, u64)]> {
        self.dictionary.as_deref()
    }

    /// Adds one domain word. Whitespace-only or empty words are ignored.
    pub fn add_word(&mut self, word: &str) {
        let w = normalize(word);
        if w.is_empty() || w.contains(' ') || self.user_words.contains(&w) {
            return;
        }
        // A frequency high enough that jieba prefers the whole word over its parts.
        let freq = self.jieba.suggest_freq(&w).max(1000);
        self.jieba.add_word(&w, Some(freq), None);
        self.user_words.push(w);
    }

    /// Domain words added so far (normalised).
    pub fn user_words(&self) -> &[String] {
        &self.user_words
    }

    /// Stop words in use (normalised).
    pub fn stopwords(&self) -> &[String] {
        &self.stopword_list
    }

    /// Whether jieba's HMM is used for unknown words.
    pub fn hmm(&self) -> bool {
        self.hmm
    }

    /// True when `word` (already normalised) is a stop word.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(&word_key(word))
    }

    /// The kept words of `text`, owned. Convenience over [`Analyzer::analyze_into`].
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut a = Analysis::default();
        self.analyze_into(text, &mut a);
        a.tokens().map(str::to_owned).collect()
    }

    /// Analyses `text` into `out` (cleared first).
    pub fn analyze_into(&self, text: &str, out: &mut Analysis) {
        normalize_into(text, &mut out.normalized);
        out.spans.clear();
        out.keys.clear();
        if out.normalized.is_empty() {
            return;
        }
        let base = out.normalized.as_ptr() as usize;
        for tok in self.jieba.cut(&out.normalized, self.hmm) {
            let w = tok.word;
            if !keep_token(w) {
                continue;
            }
            let key = word_key(w);
            if self.stopwords.contains(&key) {
                continue;
            }
            let start = w.as_ptr() as usize - base;
            out.spans.push((start as u32, (start + w.len()) as u32));
            out.keys.push(key);
        }
    }
}

/// A token is content when it has a letter or digit and is not one lone ASCII letter/digit.
fn keep_token(w: &str) -> bool {
    if let Some(c) = w.chars().next() {
        if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            return true; // CJK ideograph: the common case, no table lookup
        }
    }
    let mut chars = w.chars();
    match (chars.next(), chars.next()) {
        (None, _) => false,
        (Some(c), None) => c.is_alphanumeric() && !c.is_ascii(),
        _ => w.chars().any(char::is_alphanumeric),
    }
}

/// Folds one character: full-width ASCII forms and the ideographic space to ASCII, upper case to
/// lower case. Returns `None` for characters that only separate (whitespace, controls, BOM,
/// zero-width marks).
#[inline]
fn fold(c: char) -> Option<char> {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    {
        return None;
    }
    Some(c)
}

/// Normalises `text` into `out`: see the module documentation.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    out.reserve(text.len());
    let mut pending_space = false;
    let mut prev_alnum = false;
    // Characters that stay as they are (nearly all of a Chinese text) are copied in runs.
    let mut run_start = 0;
    for (i, raw) in text.char_indices() {
        let plain = if raw.is_ascii() {
            raw.is_ascii_lowercase() || raw.is_ascii_digit() || (raw.is_ascii_punctuation())
        } else {
            ('\u{4E00}'..='\u{9FFF}').contains(&raw)
        };
        if plain && !pending_space {
            prev_alnum = raw.is_ascii_alphanumeric();
            continue;
        }
        out.push_str(&text[run_start..i]);
        run_start = i + raw.len_utf8();
        let Some(c) = fold(raw) else {
            pending_space = true;
            continue;
        };
        let is_alnum = c.is_ascii_alphanumeric();
        if pending_space && prev_alnum && is_alnum {
            out.push(' ');
        }
        pending_space = false;
        if c.is_ascii_uppercase() {
            out.push(c.to_ascii_lowercase());
        } else if !c.is_ascii() && (c as u32) < 0x2C00 && c.is_uppercase() {
            // (scripts with case all sit below U+2C00; CJK skips the table lookup)
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_alnum = is_alnum;
    }
    out.push_str(&text[run_start..]);
    // Spreadsheet escapes of line breaks and tabs (`_x000D_`: Excel's carriage return, 747
    // times in the TipDM training file, a line break in the raw messages) are whitespace.
    if out.contains("_x00") {
        for esc in ["_x000d_", "_x000a_", "_x0009_"] {
            if out.contains(esc) {
                *out = out.replace(esc, "");
            }
        }
    }
}

/// Normalised copy of `text`.
pub fn normalize(text: &str) -> String {
    let mut s = String::new();
    normalize_into(text, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn analyzer() -> &'static Analyzer {
        static A: OnceLock<Analyzer> = OnceLock::new();
        A.get_or_init(Analyzer::new)
    }

    #[test]
    fn normalize_folds_full_width_and_whitespace() {
        assert_eq!(normalize("ＡＢＣ１２３，你好"), "abc123,你好");
        assert_eq!(normalize("小区 高层\t二次\n供水"), "小区高层二次供水");
        assert_eq!(normalize("new  york 公园"), "new york公园");
        assert_eq!(normalize("A1 区 蔡锷 南路"), "a1区蔡锷南路");
        assert_eq!(normalize("\u{FEFF}你\u{200B}好\u{3000}"), "你好");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("楼顶水箱_x000D_\n长年不洗"), "楼顶水箱长年不洗");
    }

    #[test]
    fn raw_and_presegmented_give_same_tokens() {
        let a = analyzer();
        let raw = "小区高层二次供水楼顶水箱长年不洗";
        let seg = "小区 高层 二次 供水 楼顶 水箱 长年 不洗";
        assert_eq!(a.tokens(raw), a.tokens(seg));
        assert!(a.tokens(raw).contains(&"水箱".to_string()));
    }

    #[test]
    fn stopwords_punctuation_and_emoji_are_dropped() {
        let a = analyzer();
        let t = a.tokens("我们的小区停水了！！😡😡 请问怎么办？");
        assert!(t.contains(&"小区".to_string()), "{t:?}");
        assert!(t.contains(&"停水".to_string()), "{t:?}");
        for w in ["我们", "的", "了", "！", "😡", "?", "怎么办"] {
            assert!(!t.contains(&w.to_string()), "{w} kept in {t:?}");
        }
    }

    #[test]
    fn negations_are_kept() {
        // 不缴 vs 缴, 没有人管 vs 有人管: a complaint's meaning hangs on its negation.
        let a = analyzer();
        for w in [
            "不", "没", "没有", "未", "无", "别", "勿", "不要", "不能", "不会", "不是", "不得",
            "不了",
        ] {
            assert!(!a.is_stopword(w), "negation {w} is a stop word");
        }
        let t = a.tokens("物业没有人管，垃圾不清运，问题解决不了");
        assert!(t.iter().any(|w| w.contains('没')), "{t:?}");
        assert!(t.iter().any(|w| w.contains('不')), "{t:?}");
        // The stop-word list still does its job.
        assert!(a.is_stopword("的") && a.is_stopword("了"));
    }

    #[test]
    fn restricted_dictionary_segments_its_corpus_alike() {
        let full = analyzer();
        let corpus = [
            "小区高层二次供水楼顶水箱长年不洗",
            "物业公司收取停车费不开发票",
            "电梯坏了一个月没有人修理",
        ];
        let r = full.restricted_to(&corpus, 1);
        let dict = r.dictionary().expect("restricted");
        assert!(dict.iter().any(|(w, _)| w == "水箱"), "corpus word kept");
        assert!(
            !dict.iter().any(|(w, _)| w == "中华人民共和国"),
            "unused word dropped"
        );
        assert!(dict.len() < 30_000, "{} entries", dict.len());
        for t in corpus {
            assert_eq!(r.tokens(t), full.tokens(t), "{t}");
        }
        // Stop words, domain words and HMM carry over.
        let with_user = Analyzer::with_user_dict(["蔡锷南路华庭"]);
        let r = with_user.restricted_to(&["蔡锷南路华庭停水"], 1);
        assert_eq!(r.user_words(), with_user.user_words());
        assert!(r
            .tokens("蔡锷南路华庭停水")
            .contains(&"蔡锷南路华庭".to_string()));
        assert!(r.is_stopword("的"));
    }

    #[test]
    fn single_ascii_tokens_dropped_but_codes_kept() {
        let a = analyzer();
        let t = a.tokens("A市 A3区 3 号 G2栋");
        assert!(!t.iter().any(|w| w == "a" || w == "3"), "{t:?}");
        assert!(t.iter().any(|w| w.contains("a3")), "{t:?}");
    }

    #[test]
    fn user_dict_keeps_domain_words_whole() {
        let word = "蔡锷南路华庭";
        let before = analyzer().tokens("蔡锷南路华庭停水");
        assert!(!before.contains(&word.to_string()));
        let a = Analyzer::with_user_dict([word]);
        let after = a.tokens("蔡锷南路华庭停水");
        assert!(after.contains(&word.to_string()), "{after:?}");
        assert_eq!(a.user_words(), &[word.to_string()]);
    }

    #[test]
    fn odd_input_is_fine() {
        let a = analyzer();
        assert!(a.tokens("").is_empty());
        assert!(a.tokens("   \n\t ").is_empty());
        assert!(a.tokens("！？。，、").is_empty());
        let mixed = a.tokens("Подъезд 电梯坏了 elevator broken ١٢٣ 🚧");
        assert!(mixed.contains(&"电梯".to_string()), "{mixed:?}");
        assert!(mixed.contains(&"elevator".to_string()), "{mixed:?}");
        let long = "停水".repeat(20_000);
        assert_eq!(a.tokens(&long).len(), 20_000);
    }
}
