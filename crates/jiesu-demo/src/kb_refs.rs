//! Which knowledge-base (知识库) article an agent's direct answer cites: the shipped demo
//! articles (`crates/jiesu-kb/data/articles.csv`, the same file the server seeds its knowledge
//! base from), indexed by category. A generated direct answer records the id of an article of its
//! leaf (or, failing that, of the same level-2 or level-1 category), so the knowledge-base page's
//! "direct answers per article" counts real articles. Before, the generator made up ids
//! (`KB-<leaf>-<n>`) that no article has, and every row of the page showed 0.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The shipped articles' CSV (read only for the `id` and `categories` columns).
const ARTICLES_CSV: &str = include_str!("../../jiesu-kb/data/articles.csv");

/// Article ids per category code, for leaf, level-2 (4 digits) and level-1 (2 digits) prefixes.
fn by_category() -> &'static BTreeMap<String, Vec<String>> {
    static MAP: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut r = csv::Reader::from_reader(ARTICLES_CSV.as_bytes());
        let headers = r.headers().cloned().unwrap_or_default();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(id_col), Some(cat_col), to_col) = (col("id"), col("categories"), col("valid_to"))
        else {
            return map;
        };
        for rec in r.records().flatten() {
            let (Some(id), Some(cats)) = (rec.get(id_col), rec.get(cat_col)) else {
                continue;
            };
            // expired articles (the 2021 epidemic ones) are not cited by today's answers
            if to_col
                .and_then(|c| rec.get(c))
                .is_some_and(|t| !t.trim().is_empty())
            {
                continue;
            }
            for c in cats.split(';').map(str::trim).filter(|c| !c.is_empty()) {
                for len in [c.len(), 4, 2] {
                    if let Some(p) = c.get(..len.min(c.len())) {
                        let v = map.entry(p.to_string()).or_default();
                        if !v.iter().any(|x| x == id) {
                            v.push(id.to_string());
                        }
                    }
                }
            }
        }
        map
    })
}

/// The article a direct answer of category `leaf` cites, chosen by `pick` (any number; the same
/// number gives the same article): an article of the leaf, else of its level-2, else of its
/// level-1 category; `None` when the knowledge base has nothing on the topic.
pub fn article_for(leaf: &str, pick: usize) -> Option<String> {
    let map = by_category();
    [leaf.len(), 4, 2]
        .into_iter()
        .filter_map(|n| leaf.get(..n.min(leaf.len())))
        .find_map(|p| map.get(p).filter(|v| !v.is_empty()))
        .map(|v| v[pick % v.len()].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_answer_cites_a_shipped_article_of_its_category() {
        // 170301 供暖时间 has KB0001
        let a = article_for("170301", 0).expect("an article");
        assert!(a.starts_with("KB0"), "{a}");
        assert!(by_category()["170301"].contains(&a));
        // a leaf without its own article falls back to its level-2/level-1 category
        let any = by_category().len();
        assert!(any > 50, "{any}");
    }

    #[test]
    fn every_cited_id_is_a_shipped_article_id() {
        let ids: Vec<&str> = ARTICLES_CSV
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .collect();
        for leaf in ["170301", "150201", "010101", "999999"] {
            for pick in 0..12 {
                if let Some(a) = article_for(leaf, pick) {
                    assert!(ids.contains(&a.as_str()), "{leaf} → {a}");
                }
            }
        }
    }
}
