//! The three-level category tree (诉求分类) and the 七有五性 livelihood domains.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// 七有五性 — the livelihood domains every leaf category maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivelihoodDomain {
    /// 幼有所育
    Childcare,
    /// 学有所教
    Education,
    /// 劳有所得
    Employment,
    /// 病有所医
    Health,
    /// 老有所养
    Elderly,
    /// 住有所居
    Housing,
    /// 弱有所扶
    Welfare,
    /// 便利性
    Convenience,
    /// 宜居性
    Liveability,
    /// 多样性
    Diversity,
    /// 公正性
    Fairness,
    /// 安全性
    Safety,
    /// 社会评价 — general opinions about public services
    SocialEvaluation,
}

impl LivelihoodDomain {
    /// Every value, in declaration order.
    pub const ALL: [LivelihoodDomain; 13] = [
        Self::Childcare,
        Self::Education,
        Self::Employment,
        Self::Health,
        Self::Elderly,
        Self::Housing,
        Self::Welfare,
        Self::Convenience,
        Self::Liveability,
        Self::Diversity,
        Self::Fairness,
        Self::Safety,
        Self::SocialEvaluation,
    ];
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Childcare => "幼有所育",
            Self::Education => "学有所教",
            Self::Employment => "劳有所得",
            Self::Health => "病有所医",
            Self::Elderly => "老有所养",
            Self::Housing => "住有所居",
            Self::Welfare => "弱有所扶",
            Self::Convenience => "便利性",
            Self::Liveability => "宜居性",
            Self::Diversity => "多样性",
            Self::Fairness => "公正性",
            Self::Safety => "安全性",
            Self::SocialEvaluation => "社会评价",
        }
    }
    /// Parses a Chinese label.
    pub fn parse_zh(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.label_zh() == s)
    }
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Childcare => "childcare",
            Self::Education => "education",
            Self::Employment => "employment",
            Self::Health => "health",
            Self::Elderly => "elderly",
            Self::Housing => "housing",
            Self::Welfare => "welfare",
            Self::Convenience => "convenience",
            Self::Liveability => "liveability",
            Self::Diversity => "diversity",
            Self::Fairness => "fairness",
            Self::Safety => "safety",
            Self::SocialEvaluation => "social_evaluation",
        }
    }
}

/// One node of the category tree. Codes are hierarchical: a level-2 code starts with its parent's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// The code.
    pub code: String,
    /// The name.
    pub name: String,
    /// 1, 2 or 3.
    pub level: u8,
    /// The parent's code.
    pub parent: Option<String>,
    /// Set on leaves (and optionally inner nodes).
    pub domain: Option<LivelihoodDomain>,
    /// Whether it is still in use.
    pub active: bool,
}

/// The category tree with look-ups.
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    cats: Vec<Category>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
}

impl CategoryTree {
    /// Builds it from its items.
    pub fn new(cats: Vec<Category>) -> Self {
        let mut by_code = HashMap::with_capacity(cats.len());
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in cats.iter().enumerate() {
            by_code.insert(c.code.clone(), i);
            if let Some(p) = &c.parent {
                children.entry(p.clone()).or_default().push(i);
            }
        }
        CategoryTree {
            cats,
            by_code,
            children,
        }
    }
    /// Every item.
    pub fn all(&self) -> &[Category] {
        &self.cats
    }
    /// Looks a code up.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.by_code.get(code).map(|&i| &self.cats[i])
    }
    /// The direct children of a code.
    pub fn children(&self, code: &str) -> impl Iterator<Item = &Category> {
        self.children
            .get(code)
            .into_iter()
            .flatten()
            .map(|&i| &self.cats[i])
    }
    /// Whether the code has no children.
    pub fn is_leaf(&self, code: &str) -> bool {
        self.by_code.contains_key(code) && !self.children.contains_key(code)
    }
    /// The node and its ancestors, nearest first.
    pub fn path<'a>(&'a self, code: &str) -> impl Iterator<Item = &'a Category> + 'a {
        let mut next = self.get(code);
        std::iter::from_fn(move || {
            let cur = next?;
            next = cur.parent.as_deref().and_then(|p| self.get(p));
            Some(cur)
        })
    }
    /// The level-1 ancestor of a category.
    pub fn top(&self, code: &str) -> Option<&Category> {
        self.path(code).last()
    }
    /// "市场管理 › 网络交易 › 退换货" style path, top first.
    pub fn path_label(&self, code: &str) -> String {
        let mut names: Vec<&str> = self.path(code).map(|c| c.name.as_str()).collect();
        names.reverse();
        names.join(" › ")
    }
    /// Every leaf.
    pub fn leaves(&self) -> impl Iterator<Item = &Category> {
        self.cats
            .iter()
            .filter(|c| !self.children.contains_key(&c.code))
    }
    /// The top-level items.
    pub fn roots(&self) -> impl Iterator<Item = &Category> {
        self.cats.iter().filter(|c| c.parent.is_none())
    }
}
