//! Text plumbing shared by search and duplicate detection: the knowledge base's [`Analyzer`]
//! (jieba + the synonym words and place names as a user dictionary), term keys, character
//! bigrams, the synonym table and the place gazetteer.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jiesu_domain::org::UnitKind;
use jiesu_text::features::word_key;
use jiesu_text::{Analysis, Analyzer};

/// The shipped synonym table (`data/synonyms.txt`).
pub const SYNONYMS: &str = include_str!("../data/synonyms.txt");

const TAG_SHIFT: u32 = 60;
const TAG_BIGRAM: u64 = 0x1 << TAG_SHIFT;
const TAG_GROUP: u64 = 0x2 << TAG_SHIFT;
const TAG_PLACE: u64 = 0x3 << TAG_SHIFT;
const TAG_MASK: u64 = !(0xF << TAG_SHIFT);

/// Key of a word term (the analyser's word hash with the top nibble cleared).
#[inline]
pub fn word_term(w: &str) -> u64 {
    word_key(w) & TAG_MASK
}

/// Key of a word term from the analyser's word key ([`jiesu_text::Analysis::word_keys`]).
#[inline]
pub fn word_term_of_key(k: u64) -> u64 {
    k & TAG_MASK
}

/// Key of a character-bigram term.
#[inline]
pub fn bigram_term(a: char, b: char) -> u64 {
    TAG_BIGRAM | ((a as u64) << 21) | b as u64
}

/// Key of a synonym-group term.
#[inline]
pub fn group_term(g: u32) -> u64 {
    TAG_GROUP | g as u64
}

/// Key of a place term (a district or street code).
#[inline]
pub fn place_term(code: &str) -> u64 {
    TAG_PLACE | (word_key(code) & TAG_MASK)
}

/// The four kinds of terms an index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Word,
    Bigram,
    Group,
    Place,
}

/// The kind of a term key.
#[inline]
pub fn term_kind(key: u64) -> TermKind {
    match key >> TAG_SHIFT {
        0x1 => TermKind::Bigram,
        0x2 => TermKind::Group,
        0x3 => TermKind::Place,
        _ => TermKind::Word,
    }
}

/// A CJK unified ideograph (the basic block and extension A).
#[inline]
pub fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// Calls `f(a, b)` for every pair of adjacent CJK characters of an already normalised text.
#[inline]
pub fn for_each_bigram(normalized: &str, mut f: impl FnMut(char, char)) {
    let mut prev: Option<char> = None;
    for c in normalized.chars() {
        if is_cjk(c) {
            if let Some(p) = prev {
                f(p, c);
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
}

/// Calls `f(a, b)` for every pair of adjacent CJK characters inside the kept words of an
/// analysis, and across two kept words that touch in the text. Pairs that involve a stop word
/// (`什么时候` → `什么`, `么时`) are thereby left out.
#[inline]
pub fn for_each_kept_bigram(a: &Analysis, mut f: impl FnMut(char, char)) {
    let base = a.normalized().as_ptr() as usize;
    let mut prev_end = usize::MAX;
    let mut prev_last: Option<char> = None;
    for tok in a.tokens() {
        let start = tok.as_ptr() as usize - base;
        let mut prev = if start == prev_end { prev_last } else { None };
        for c in tok.chars() {
            if is_cjk(c) {
                if let Some(p) = prev {
                    f(p, c);
                }
                prev = Some(c);
            } else {
                prev = None;
            }
        }
        prev_end = start + tok.len();
        prev_last = prev;
    }
}

/// Calls `f(group)` for the synonym groups of the sub-words of a word that is not itself in a
/// group (`采暖期` → the group of `采暖`): every substring of 2+ characters that is a group
/// member, longest first, at most 3 groups.
pub fn for_each_subword_group(syn: &Synonyms, word: &str, mut f: impl FnMut(u32)) {
    let cs: Vec<(usize, char)> = word.char_indices().collect();
    let n = cs.len();
    if !(3..=8).contains(&n) || !cs.iter().all(|&(_, c)| is_cjk(c)) {
        return;
    }
    let mut found: [u32; 3] = [u32::MAX; 3];
    let mut k = 0;
    for len in (2..n).rev() {
        for i in 0..=n - len {
            let a = cs[i].0;
            let b = if i + len < n {
                cs[i + len].0
            } else {
                word.len()
            };
            if let Some(g) = syn.group_of(&word[a..b]) {
                if !found.contains(&g) && k < 3 {
                    found[k] = g;
                    k += 1;
                    f(g);
                }
            }
        }
    }
}

/// Hasher for term keys: a multiply-xorshift finaliser, so structured keys (bigram code points,
/// small group ids) spread over the table.
#[derive(Default, Clone, Copy)]
pub struct MixHasher(u64);

impl std::hash::Hasher for MixHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01B3);
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 ^= i;
    }
}

/// Map keyed by term keys.
pub type TermMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<MixHasher>>;

/// The synonym table: word → group id, and each group's words.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    by_key: TermMap<u32>,
}

impl Synonyms {
    /// Parses a table: one group per line, words separated by whitespace, `#` comment lines.
    /// Words are normalised; a word already in an earlier group is ignored in later ones, and
    /// groups left with fewer than two words are dropped.
    pub fn parse(text: &str) -> Self {
        let mut s = Synonyms::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words: Vec<String> = Vec::new();
            for w in line.split_whitespace() {
                let w = jiesu_text::analyzer::normalize(w);
                if w.is_empty() || words.contains(&w) || s.by_key.contains_key(&word_term(&w)) {
                    continue;
                }
                words.push(w);
            }
            if words.len() < 2 {
                continue;
            }
            let g = s.groups.len() as u32;
            for w in &words {
                s.by_key.insert(word_term(w), g);
            }
            s.groups.push(words);
        }
        s
    }

    /// The shipped table.
    pub fn shipped() -> &'static Synonyms {
        static S: OnceLock<Synonyms> = OnceLock::new();
        S.get_or_init(|| Synonyms::parse(SYNONYMS))
    }

    /// The group of a word (normalised), if any.
    #[inline]
    pub fn group_of(&self, word: &str) -> Option<u32> {
        self.group_of_key(word_term(word))
    }

    /// The group of a word term key, if any.
    #[inline]
    pub fn group_of_key(&self, key: u64) -> Option<u32> {
        self.by_key.get(&key).copied()
    }

    /// The words of a group (first = display form).
    pub fn words(&self, group: u32) -> &[String] {
        self.groups
            .get(group as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every group.
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }
}

/// A place named in text: a district, optionally narrowed to a street/town.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaceRef {
    /// 6-digit district code.
    pub district: String,
    /// 9-digit street/town code when the name is a street's.
    pub street: Option<String>,
}

impl PlaceRef {
    /// The most specific code.
    pub fn code(&self) -> &str {
        self.street.as_deref().unwrap_or(&self.district)
    }
}

/// Place names of the demo city (districts and streets/towns, full and short forms) → places.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    by_key: TermMap<Vec<PlaceRef>>,
    names: Vec<String>,
    display: HashMap<String, String>,
}

/// Street-level name suffixes that people drop (`望京街道` → `望京`).
const STREET_SUFFIXES: [&str; 4] = ["街道", "地区", "镇", "乡"];

impl Gazetteer {
    /// Builds the gazetteer from `jiesu_refdata::divisions()`. A short district name (`朝阳`)
    /// wins over a street of the same short name (`海淀街道` keeps only its full name).
    pub fn build() -> Self {
        let d = jiesu_refdata::divisions::divisions();
        let mut g = Gazetteer::default();
        for dist in &d.districts {
            let p = PlaceRef {
                district: dist.code.clone(),
                street: None,
            };
            g.display.insert(dist.code.clone(), dist.name.clone());
            g.add(&dist.name, p.clone());
            if let Some(short) = dist.name.strip_suffix('区') {
                if short.chars().count() >= 2 {
                    g.add(short, p);
                }
            }
        }
        let district_shorts: Vec<String> = d
            .districts
            .iter()
            .map(|x| x.name.trim_end_matches('区').to_string())
            .collect();
        for st in &d.streets {
            let p = PlaceRef {
                district: st.district_code.clone(),
                street: Some(st.code.clone()),
            };
            g.display.insert(st.code.clone(), st.name.clone());
            g.add(&st.name, p.clone());
            for suf in STREET_SUFFIXES {
                if let Some(short) = st.name.strip_suffix(suf) {
                    if short.chars().count() >= 2 && !district_shorts.iter().any(|s| s == short) {
                        g.add(short, p.clone());
                    }
                    break;
                }
            }
        }
        g
    }

    /// The shared gazetteer.
    pub fn shipped() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::build)
    }

    fn add(&mut self, name: &str, p: PlaceRef) {
        let n = jiesu_text::analyzer::normalize(name);
        let e = self.by_key.entry(word_term(&n)).or_default();
        if e.is_empty() {
            self.names.push(n);
        }
        if !e.contains(&p) {
            e.push(p);
        }
    }

    /// The places a word (normalised) names.
    #[inline]
    pub fn lookup(&self, word: &str) -> &[PlaceRef] {
        self.lookup_key(word_term(word))
    }

    /// The places a word term key names.
    #[inline]
    pub fn lookup_key(&self, key: u64) -> &[PlaceRef] {
        self.by_key.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every name (normalised), for the analyser's user dictionary.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The official name of a district or street code.
    pub fn name_of(&self, code: &str) -> Option<&str> {
        self.display.get(code).map(String::as_str)
    }
}

/// The place of a unit: a street/town or community gives its street and district, a district or
/// district department gives its district; city departments and firms are city-wide (`None`).
pub fn unit_place(code: &str) -> Option<PlaceRef> {
    let org = jiesu_refdata::org();
    let u = org.get(code)?;
    match u.kind {
        UnitKind::District => Some(PlaceRef {
            district: u.code.clone(),
            street: None,
        }),
        UnitKind::DistrictDepartment => Some(PlaceRef {
            district: u.parent.clone()?,
            street: None,
        }),
        UnitKind::StreetTown => Some(PlaceRef {
            district: u.parent.clone()?,
            street: Some(u.code.clone()),
        }),
        UnitKind::Community => {
            let street = org.get(u.parent.as_deref()?)?;
            Some(PlaceRef {
                district: street.parent.clone()?,
                street: Some(street.code.clone()),
            })
        }
        _ => None,
    }
}

/// The words the knowledge base adds to jieba's dictionary: every synonym and place name.
pub fn kb_user_words() -> Vec<String> {
    let mut v: Vec<String> = Synonyms::shipped()
        .groups()
        .iter()
        .flatten()
        .cloned()
        .collect();
    v.extend(Gazetteer::shipped().names().iter().cloned());
    v
}

/// The knowledge base's extra stop words (`data/kb_stopwords.txt`).
pub const KB_STOPWORDS: &str = include_str!("../data/kb_stopwords.txt");

/// A new analyser: jieba-text's stop words plus [`KB_STOPWORDS`], and the synonym and place
/// names as a user dictionary (takes ~0.2 s: jieba's dictionary).
pub fn kb_analyzer() -> Analyzer {
    let mut stop = jiesu_text::analyzer::parse_stopwords(jiesu_text::analyzer::DEFAULT_STOPWORDS);
    stop.extend(jiesu_text::analyzer::parse_stopwords(KB_STOPWORDS));
    Analyzer::from_parts(stop, kb_user_words(), false)
}

/// The process-wide knowledge-base analyser, built on first use.
pub fn shared_analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| Arc::new(kb_analyzer())).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_parse_and_lookup() {
        let s = Synonyms::shipped();
        let g = s.group_of("暖气").unwrap();
        assert_eq!(s.group_of("供暖"), Some(g));
        assert_eq!(s.group_of("采暖"), Some(g));
        assert_ne!(s.group_of("公积金"), Some(g));
        assert_eq!(s.group_of("公积金"), s.group_of("住房公积金"));
        assert!(s.group_of("不存在的词").is_none());
        let lines = SYNONYMS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(
            s.groups().len(),
            lines,
            "a shipped group was dropped or merged"
        );
        let t = Synonyms::parse("# c\na b\nb c\nsolo\n");
        assert_eq!(t.groups().len(), 1, "b is taken, c alone is dropped");
    }

    #[test]
    fn gazetteer_finds_districts_and_streets() {
        let g = Gazetteer::shipped();
        assert_eq!(g.lookup("朝阳区")[0].district, "110105");
        assert_eq!(g.lookup("朝阳")[0].district, "110105");
        let w = g.lookup("望京");
        assert_eq!(w[0].street.as_deref(), Some("110105026"));
        assert_eq!(g.lookup("望京街道")[0].street.as_deref(), Some("110105026"));
        // 海淀 is the district, not 海淀街道.
        assert!(g.lookup("海淀").iter().all(|p| p.street.is_none()));
        assert_eq!(g.name_of("110105"), Some("朝阳区"));
    }

    #[test]
    fn unit_places() {
        assert_eq!(unit_place("110105D11").unwrap().district, "110105");
        let s = unit_place("110105026").unwrap();
        assert_eq!(s.street.as_deref(), Some("110105026"));
        assert!(unit_place("CD019").is_none());
        assert!(unit_place("nope").is_none());
    }

    #[test]
    fn term_kinds_are_distinct() {
        assert_eq!(term_kind(word_term("供暖")), TermKind::Word);
        assert_eq!(term_kind(bigram_term('供', '暖')), TermKind::Bigram);
        assert_eq!(term_kind(group_term(3)), TermKind::Group);
        assert_eq!(term_kind(place_term("110105")), TermKind::Place);
        let mut v = Vec::new();
        for_each_bigram("供暖,时间a暖", |a, b| v.push(format!("{a}{b}")));
        assert_eq!(v, ["供暖", "时间"]);
    }
}
