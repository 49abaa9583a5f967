//! Our three-level category tree (`data/categories.csv`).
//!
//! Built from the categories and sub-categories Beijing's report names (疫情防控, 市场管理 ›
//! 网络交易, …) and our own leaves; not a copy of any published taxonomy. Codes are hierarchical:
//! level 1 `01`–`28`, level 2 `0101`, level 3 (leaf) `010101`. Every leaf carries a 七有五性
//! domain. Columns: `code,name,level,parent,domain_zh,weight`, where `weight` is the relative size
//! within the parent (level 1: the three-year volume in 万件; level 2: the report's sub-category
//! count in 万件 where it gives one; leaves: relative). Weights are read by [`mod@crate::profiles`].

use crate::{err, read_csv, shipped, DataError};
use jiesu_domain::category::{Category, CategoryTree, LivelihoodDomain};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) const CATEGORIES: &str = include_str!("../data/categories.csv");
const FILE: &str = "categories.csv";

#[derive(Deserialize)]
pub(crate) struct CategoryRow {
    pub code: String,
    pub name: String,
    pub level: u8,
    pub parent: String,
    pub domain_zh: String,
    pub weight: f64,
}

pub(crate) fn rows() -> Result<Vec<CategoryRow>, DataError> {
    read_csv(FILE, CATEGORIES)
}

/// Parses and checks `categories.csv`: unique codes, parents listed before children, codes that
/// extend their parent's by two digits, levels 1–3, a domain on every leaf and positive weights.
pub fn parse() -> Result<Vec<Category>, DataError> {
    let rows = rows()?;
    let mut out: Vec<Category> = Vec::with_capacity(rows.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut has_children = vec![false; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        if !(1..=3).contains(&r.level) {
            return Err(err(FILE, line, format!("level {} not in 1..=3", r.level)));
        }
        if r.code.len() != 2 * r.level as usize || !r.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                FILE,
                line,
                format!("code {} does not fit level {}", r.code, r.level),
            ));
        }
        if !(r.weight > 0.0 && r.weight.is_finite()) {
            return Err(err(FILE, line, "weight must be positive"));
        }
        let parent = if r.level == 1 {
            if !r.parent.is_empty() {
                return Err(err(FILE, line, "a level-1 category has no parent"));
            }
            None
        } else {
            let &pi = index
                .get(&r.parent)
                .ok_or_else(|| err(FILE, line, format!("parent {} not listed before", r.parent)))?;
            if out[pi].level + 1 != r.level || !r.code.starts_with(&r.parent) {
                return Err(err(
                    FILE,
                    line,
                    format!("{} does not extend {}", r.code, r.parent),
                ));
            }
            has_children[pi] = true;
            Some(r.parent.clone())
        };
        let domain = if r.domain_zh.is_empty() {
            None
        } else {
            Some(LivelihoodDomain::parse_zh(&r.domain_zh).ok_or_else(|| {
                err(
                    FILE,
                    line,
                    format!("unknown 七有五性 domain {}", r.domain_zh),
                )
            })?)
        };
        if index.insert(r.code.clone(), out.len()).is_some() {
            return Err(err(FILE, line, format!("duplicate code {}", r.code)));
        }
        out.push(Category {
            code: r.code.clone(),
            name: r.name.clone(),
            level: r.level,
            parent,
            domain,
            active: true,
        });
    }
    for (i, c) in out.iter().enumerate() {
        if !has_children[i] {
            if c.level != 3 {
                return Err(err(
                    FILE,
                    i + 2,
                    format!("{} is a leaf above level 3", c.code),
                ));
            }
            if c.domain.is_none() {
                return Err(err(FILE, i + 2, format!("leaf {} has no domain", c.code)));
            }
        }
    }
    Ok(out)
}

/// The category tree, shared (built once).
pub fn categories() -> &'static CategoryTree {
    static T: OnceLock<CategoryTree> = OnceLock::new();
    T.get_or_init(|| CategoryTree::new(shipped(parse())))
}

/// The category tree (a fresh copy of the cached one).
pub fn category_tree() -> CategoryTree {
    categories().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shape_of_the_tree() {
        let t = categories();
        let n = |l| t.all().iter().filter(|c| c.level == l).count();
        assert_eq!(n(1), 28);
        assert!((100..=140).contains(&n(2)), "{} level-2", n(2));
        assert_eq!(n(3), 350);
        assert_eq!(t.leaves().count(), 350);
        assert!(t.leaves().all(|c| c.level == 3 && c.domain.is_some()));
        assert_eq!(t.roots().count(), 28);
        let codes: HashSet<_> = t.all().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.len(), t.all().len());
        // every level-1 and level-2 node has children
        for c in t.all().iter().filter(|c| c.level < 3) {
            assert!(t.children(&c.code).count() >= 1, "{}", c.code);
        }
        // names unique among siblings
        for c in t.all().iter().filter(|c| c.level < 3) {
            let names: HashSet<_> = t.children(&c.code).map(|k| k.name.as_str()).collect();
            assert_eq!(names.len(), t.children(&c.code).count(), "{}", c.name);
        }
    }

    #[test]
    fn the_reports_categories_are_there() {
        let t = categories();
        let roots: Vec<&str> = t.roots().map(|c| c.name.as_str()).collect();
        for name in [
            "疫情防控",
            "市场管理",
            "住房",
            "城乡建设",
            "交通管理",
            "公共服务",
            "社会秩序",
            "卫生健康",
            "教育",
            "劳动和社会保障",
            "物业管理",
            "市容环卫",
            "环境保护",
            "市政",
            "供暖",
            "农村管理",
            "公共安全",
            "垃圾分类",
            "企业服务",
        ] {
            assert!(roots.contains(&name), "{name} missing");
        }
        assert_eq!(t.get("01").unwrap().name, "疫情防控");
        assert_eq!(
            t.path_label("020101"),
            "市场管理 › 网络交易 › 网购退换货纠纷"
        );
        let market = t
            .children("02")
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>();
        for sub in [
            "网络交易",
            "市场环境秩序",
            "商品服务质量",
            "预付式消费",
            "合同违法行为",
        ] {
            assert!(market.contains(&sub), "{sub}");
        }
    }

    #[test]
    fn every_domain_is_used() {
        let used: HashSet<_> = categories().leaves().filter_map(|c| c.domain).collect();
        for d in LivelihoodDomain::ALL {
            assert!(used.contains(&d), "{} unused", d.label_zh());
        }
    }
}
