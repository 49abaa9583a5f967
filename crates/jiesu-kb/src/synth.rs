//! Synthetic variation of text for benchmarks and labelled samples: synonym swaps, dropped
//! sentences, place substitution in the real (masked) data, and the demo city's place list.

use crate::rng::Rng;
use crate::text::Synonyms;

/// One street/town of the demo city with its district.
#[derive(Debug, Clone)]
pub struct StreetPlace {
    pub district_code: String,
    pub district: String,
    pub street_code: String,
    pub street: String,
    /// The everyday short form (`望京街道` → `望京`), or the full name when too short.
    pub street_short: String,
}

/// Every regular street/town (special zones left out), in code order.
pub fn street_places() -> Vec<StreetPlace> {
    let d = jiesu_refdata::divisions::divisions();
    d.streets
        .iter()
        .filter(|s| !s.is_special_zone())
        .filter_map(|s| {
            let dist = d.district(&s.district_code)?;
            let short = ["街道", "地区", "镇", "乡"]
                .iter()
                .find_map(|suf| s.name.strip_suffix(suf))
                .filter(|x| x.chars().count() >= 2)
                .unwrap_or(&s.name)
                .to_string();
            Some(StreetPlace {
                district_code: dist.code.clone(),
                district: dist.name.clone(),
                street_code: s.code.clone(),
                street: s.name.clone(),
                street_short: short,
            })
        })
        .collect()
}

/// Replaces, with probability `p` each, occurrences of synonym-group members by another member
/// of their group (longest members first, at most `max_swaps` swaps).
pub fn swap_synonyms(text: &str, rng: &mut Rng, p: f64, max_swaps: usize) -> String {
    let syn = Synonyms::shipped();
    let mut out = text.to_string();
    let mut swaps = 0;
    for (gi, words) in syn.groups().iter().enumerate() {
        if swaps >= max_swaps {
            break;
        }
        let _ = gi;
        let mut sorted: Vec<&String> = words.iter().collect();
        sorted.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        for w in sorted {
            if out.contains(w.as_str()) {
                if rng.chance(p) {
                    let others: Vec<&String> = words.iter().filter(|x| *x != w).collect();
                    if !others.is_empty() {
                        let r = *rng.pick(&others);
                        out = out.replacen(w.as_str(), r, 1);
                        swaps += 1;
                    }
                }
                break;
            }
        }
    }
    out
}

/// Splits into sentences ending with `。！？；` (the terminator kept).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut v = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '。' | '！' | '？' | '；' | '\n') {
            let end = i + c.len_utf8();
            if text[start..end].trim().chars().count() > 1 {
                v.push(&text[start..end]);
            }
            start = end;
        }
    }
    if text[start..].trim().chars().count() > 1 {
        v.push(&text[start..]);
    }
    v
}

/// Drops one random sentence other than the first when there are at least `min` sentences.
pub fn drop_sentence(text: &str, rng: &mut Rng, min: usize) -> String {
    let s = sentences(text);
    if s.len() < min.max(2) {
        return text.to_string();
    }
    let k = 1 + rng.below(s.len() - 1);
    s.iter()
        .enumerate()
        .filter(|&(i, _)| i != k)
        .map(|(_, x)| *x)
        .collect()
}

/// Replaces the real data's masked place names: `A市` → `北京市`, `A1区`…`A9区` (and other
/// `A<n>区`) → `district`, `西地省` → `北京市`.
pub fn unmask_places(text: &str, district: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let cs: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        if (cs[i] == 'A' || cs[i] == 'Ａ') && i + 1 < cs.len() {
            if cs[i + 1] == '市' {
                out.push_str("北京市");
                i += 2;
                continue;
            }
            let mut j = i + 1;
            while j < cs.len() && cs[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 && j < cs.len() && (cs[j] == '区' || cs[j] == '县') {
                out.push_str(district);
                i = j + 1;
                continue;
            }
        }
        if cs[i] == '西' && i + 2 < cs.len() && cs[i + 1] == '地' && cs[i + 2] == '省' {
            out.push_str("北京市");
            i += 3;
            continue;
        }
        out.push(cs[i]);
        i += 1;
    }
    out
}

/// The first `n` characters of `text` (cut at a sentence end when one is near).
pub fn head_chars(text: &str, n: usize) -> String {
    let cs: Vec<char> = text.chars().collect();
    if cs.len() <= n {
        return text.to_string();
    }
    let mut end = n;
    if let Some(p) = (n * 2 / 3..n)
        .rev()
        .find(|&i| matches!(cs[i], '。' | '！' | '？' | '，'))
    {
        end = p + 1;
    }
    cs[..end].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmask_and_sentences() {
        assert_eq!(
            unmask_places("A市A2区景蓉华苑，A12区和西地省", "朝阳区"),
            "北京市朝阳区景蓉华苑，朝阳区和北京市"
        );
        assert_eq!(unmask_places("ABC A区", "朝阳区"), "ABC A区");
        assert_eq!(
            sentences("一句。二句！三三"),
            vec!["一句。", "二句！", "三三"]
        );
        let mut r = Rng::new(1);
        let d = drop_sentence("甲甲。乙乙。丙丙。", &mut r, 3);
        assert!(d.starts_with("甲甲。") && d.chars().count() == 6, "{d}");
        assert_eq!(head_chars("短", 10), "短");
    }

    #[test]
    fn synonym_swaps_change_words_within_groups() {
        let mut r = Rng::new(3);
        let s = swap_synonyms("暖气不热", &mut r, 1.0, 3);
        assert_ne!(s, "暖气不热");
        assert!(s.ends_with("不热"));
        let places = street_places();
        assert!(places.len() > 300);
        assert!(places.iter().any(|p| p.street_short == "望京"));
    }
}
