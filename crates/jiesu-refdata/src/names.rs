//! Name pools for synthetic requests (`data/names/*.txt`, one entry per line).
//!
//! Road and estate names are in Beijing's style (many are real place names, which are public
//! facts); shop and company names are invented. Requester names are composed from a surname and
//! one or two given-name characters, so no real person is named.

use std::sync::OnceLock;

const ROADS: &str = include_str!("../data/names/roads.txt");
const ESTATES: &str = include_str!("../data/names/estates.txt");
const SURNAMES: &str = include_str!("../data/names/surnames.txt");
const GIVEN_CHARS: &str = include_str!("../data/names/given_chars.txt");
const SHOPS: &str = include_str!("../data/names/shops.txt");
const COMPANIES: &str = include_str!("../data/names/companies.txt");

/// The pools, borrowed from the binary.
#[derive(Debug, Clone)]
pub struct NamePools {
    /// 100 road names (建国路, 朝阳北路 …) for `{road}`.
    pub roads: Vec<&'static str>,
    /// 150 estate (小区) names (望京花园, 金台里 …) for `{estate}`.
    pub estates: Vec<&'static str>,
    /// 200 common surnames, most frequent first.
    pub surnames: Vec<&'static str>,
    /// Given-name characters (one or two make a given name).
    pub given_chars: Vec<&'static str>,
    /// Invented shop names for `{shop}`.
    pub shops: Vec<&'static str>,
    /// Invented company names for `{company}`.
    pub companies: Vec<&'static str>,
}

fn lines(s: &'static str) -> Vec<&'static str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// The name pools (parsed on first use, then cached).
pub fn pools() -> &'static NamePools {
    static P: OnceLock<NamePools> = OnceLock::new();
    P.get_or_init(|| NamePools {
        roads: lines(ROADS),
        estates: lines(ESTATES),
        surnames: lines(SURNAMES),
        given_chars: lines(GIVEN_CHARS),
        shops: lines(SHOPS),
        companies: lines(COMPANIES),
    })
}

impl NamePools {
    /// A person's name from three indices (e.g. three random draws): surname `a`, then one given
    /// character `b`, or two (`b`, `c`) when `c` is odd — so roughly half the names have three
    /// characters, as in Beijing.
    pub fn person_name(&self, a: usize, b: usize, c: usize) -> String {
        let s = self.surnames[a % self.surnames.len()];
        let g1 = self.given_chars[b % self.given_chars.len()];
        if c % 2 == 1 {
            let g2 = self.given_chars[(c / 2) % self.given_chars.len()];
            format!("{s}{g1}{g2}")
        } else {
            format!("{s}{g1}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn unique(v: &[&str]) -> bool {
        v.iter().collect::<HashSet<_>>().len() == v.len()
    }

    #[test]
    fn sizes_and_uniqueness() {
        let p = pools();
        assert_eq!(p.roads.len(), 100);
        assert_eq!(p.estates.len(), 150);
        assert_eq!(p.surnames.len(), 200);
        assert!(p.given_chars.len() >= 100);
        assert!(p.shops.len() >= 50);
        assert!(p.companies.len() >= 50);
        for v in [
            &p.roads,
            &p.estates,
            &p.surnames,
            &p.given_chars,
            &p.shops,
            &p.companies,
        ] {
            assert!(unique(v));
        }
        assert!(p.surnames.iter().all(|s| s.chars().count() == 1));
        assert!(p.given_chars.iter().all(|s| s.chars().count() == 1));
        assert!(p.roads.contains(&"建国路") && p.roads.contains(&"朝阳北路"));
        assert!(p.estates.contains(&"望京花园") && p.estates.contains(&"金台里"));
    }

    #[test]
    fn person_names() {
        let p = pools();
        assert_eq!(p.person_name(0, 0, 0), "王伟");
        assert_eq!(p.person_name(0, 0, 3).chars().count(), 3);
        assert_eq!(p.person_name(200, 0, 0), "王伟");
    }
}
