//! One rule of the catalogue: where it applies, whom it sends to, and how specific it is ([`Rank`]).

use super::*;

/// The place a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum PlaceScope {
    /// Anywhere in the city.
    Any,
    /// One district (区), by code.
    District(String),
    /// One street/town (街道/乡镇), by code.
    Street(String),
    /// One community/village (社区/村), by code.
    Community(String),
}

impl PlaceScope {
    /// 0 any, 1 district, 2 street, 3 community — more is more specific.
    pub fn level(&self) -> u8 {
        match self {
            PlaceScope::Any => 0,
            PlaceScope::District(_) => 1,
            PlaceScope::Street(_) => 2,
            PlaceScope::Community(_) => 3,
        }
    }
    pub fn code(&self) -> Option<&str> {
        match self {
            PlaceScope::Any => None,
            PlaceScope::District(c) | PlaceScope::Street(c) | PlaceScope::Community(c) => Some(c),
        }
    }
    /// The CSV form: `*`, `district:110108`, `street:110108010`, `community:110108010001`.
    pub fn to_field(&self) -> String {
        match self {
            PlaceScope::Any => "*".into(),
            PlaceScope::District(c) => format!("district:{c}"),
            PlaceScope::Street(c) => format!("street:{c}"),
            PlaceScope::Community(c) => format!("community:{c}"),
        }
    }
    /// Parses the CSV form (`*` or empty = anywhere).
    pub fn parse_field(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s == "*" {
            return Ok(PlaceScope::Any);
        }
        let (level, code) = s.split_once(':').ok_or_else(|| {
            format!("place '{s}' is not '*', 'district:CODE', 'street:CODE' or 'community:CODE'")
        })?;
        let code = code.trim();
        if code.is_empty() || code.contains(char::is_whitespace) {
            return Err(format!("place '{s}' has an empty or malformed code"));
        }
        match level.trim() {
            "district" => Ok(PlaceScope::District(code.into())),
            "street" => Ok(PlaceScope::Street(code.into())),
            "community" => Ok(PlaceScope::Community(code.into())),
            other => Err(format!(
                "place level '{other}' is not district, street or community"
            )),
        }
    }
    /// The unit kind the code must have in the organisation tree.
    pub fn unit_kind(&self) -> Option<UnitKind> {
        match self {
            PlaceScope::Any => None,
            PlaceScope::District(_) => Some(UnitKind::District),
            PlaceScope::Street(_) => Some(UnitKind::StreetTown),
            PlaceScope::Community(_) => Some(UnitKind::Community),
        }
    }
    pub(super) fn matches(&self, p: &NormPlace<'_>) -> bool {
        match self {
            PlaceScope::Any => true,
            PlaceScope::District(c) => p.district == c,
            PlaceScope::Street(c) => p.street == c,
            PlaceScope::Community(c) => p.community == c,
        }
    }
}

pub(crate) fn level_label_zh(level: u8) -> &'static str {
    match level {
        0 => "全市",
        1 => "区",
        2 => "街乡",
        _ => "社区村",
    }
}
pub(crate) fn level_label_en(level: u8) -> &'static str {
    match level {
        0 => "anywhere",
        1 => "district",
        2 => "street/town",
        _ => "community",
    }
}

/// Who a rule sends the ticket to: a concrete unit, or a slot resolved from the request's place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "ref", content = "value", rename_all = "snake_case")]
pub enum UnitRef {
    /// A concrete unit code (`CD012`, `SE003`, `110108D03`, …). CSV: the code itself.
    Unit(String),
    /// The street/town of the request — 直派, "过站不停车". CSV: `{street}` (or `street`).
    Street,
    /// The district of the request itself (its 12345 sub-centre). CSV: `{district}` (or `district`).
    District,
    /// The department in slot `Dnn` of the request's district (unit code `{district}Dnn`).
    /// CSV: `{district}D03`.
    DistrictDept(String),
    /// The e-commerce firm named in the title or text (by its name in the org tree; names with
    /// `/` or `、` give several aliases). CSV: `{ecommerce}` (or `ecommerce`).
    Ecommerce,
}

impl UnitRef {
    pub fn to_field(&self) -> String {
        match self {
            UnitRef::Unit(c) => c.clone(),
            UnitRef::Street => "{street}".into(),
            UnitRef::District => "{district}".into(),
            UnitRef::DistrictDept(slot) => format!("{{district}}{slot}"),
            UnitRef::Ecommerce => "{ecommerce}".into(),
        }
    }
    pub fn parse_field(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s {
            "{street}" | "street" => return Ok(UnitRef::Street),
            "{district}" | "district" => return Ok(UnitRef::District),
            "{ecommerce}" | "ecommerce" => return Ok(UnitRef::Ecommerce),
            _ => {}
        }
        if let Some(slot) = s.strip_prefix("{district}") {
            if valid_slot(slot) {
                return Ok(UnitRef::DistrictDept(slot.into()));
            }
            return Err(format!(
                "'{s}': a district department slot is written {{district}}Dnn (D01 … D99)"
            ));
        }
        if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "{}:;,|".contains(c)) {
            return Err(format!("'{s}' is not a unit code or a slot"));
        }
        Ok(UnitRef::Unit(s.into()))
    }
}

/// `D` followed by two digits.
pub(crate) fn valid_slot(slot: &str) -> bool {
    let b = slot.as_bytes();
    b.len() == 3 && b[0] == b'D' && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// One unit of a rule's dispatch, lead (主办) or assist (协办).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleAssignment {
    pub unit: UnitRef,
    pub role: AssignmentRole,
}

/// One version of one duty-catalogue rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable across versions; `(id, effective_from)` identifies a version.
    pub id: String,
    /// First city-local date the version is in force.
    pub effective_from: NaiveDate,
    /// First city-local date it is no longer in force (exclusive); `None` = open-ended.
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Explicit precedence, compared first; 0 by default.
    #[serde(default)]
    pub priority: i32,
    /// A category code (any level); the rule covers that node and everything below. "" = any.
    pub category_prefix: String,
    pub place: PlaceScope,
    /// Keyword conditions on title + text: **all** entries must match (AND); an entry may list
    /// alternatives separated by `|` of which **any** must appear (OR). Case-sensitive substring.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// `Some(true)`: enterprise requests (企业诉求) only; `Some(false)`: citizens only.
    #[serde(default)]
    pub enterprise: Option<bool>,
    /// Exactly one lead, any number of assists.
    pub assignments: Vec<RuleAssignment>,
    /// The default deadline tier.
    pub tier: DeadlineTier,
    #[serde(default)]
    pub note: String,
}

/// How specific a rule is; compared field by field (derive order), greater wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rank {
    pub priority: i32,
    pub place_level: u8,
    pub prefix_len: u16,
    pub keyword_count: u16,
    pub enterprise_specified: bool,
}

impl Rule {
    pub fn rank(&self) -> Rank {
        Rank {
            priority: self.priority,
            place_level: self.place.level(),
            prefix_len: self.category_prefix.len().min(u16::MAX as usize) as u16,
            keyword_count: self.keywords.len().min(u16::MAX as usize) as u16,
            enterprise_specified: self.enterprise.is_some(),
        }
    }
    /// Whether the version is in force on a city-local date.
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|t| date < t)
    }
    /// Whether the two versions' date ranges share a day.
    pub fn dates_overlap(&self, other: &Rule) -> bool {
        let a_before_b_ends = other.effective_to.is_none_or(|t| self.effective_from < t);
        let b_before_a_ends = self.effective_to.is_none_or(|t| other.effective_from < t);
        a_before_b_ends && b_before_a_ends
    }
    /// Whether the keyword conditions hold for this title and text.
    pub fn keywords_match(&self, title: &str, text: &str) -> bool {
        self.keywords.iter().all(|group| {
            group
                .split('|')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .any(|k| title.contains(k) || text.contains(k))
        })
    }
    /// The lead's unit reference.
    pub fn lead(&self) -> Option<&UnitRef> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
            .map(|a| &a.unit)
    }
    /// The part of a rule that, with the priority, decides when two rules are "the same scope".
    pub(crate) fn scope_key(&self) -> ScopeKey {
        let mut kw: Vec<String> = self
            .keywords
            .iter()
            .map(|g| {
                let mut alts: Vec<&str> = g.split('|').map(str::trim).collect();
                alts.sort_unstable();
                alts.join("|")
            })
            .collect();
        kw.sort();
        ScopeKey {
            priority: self.priority,
            place: self.place.clone(),
            prefix: self.category_prefix.clone(),
            keywords: kw,
            enterprise: self.enterprise,
        }
    }
    /// The assignments encoded as in CSV: `lead:{street};assist:{district}D03`.
    pub fn assignments_field(&self) -> String {
        self.assignments
            .iter()
            .map(|a| format!("{}:{}", a.role.as_str(), a.unit.to_field()))
            .collect::<Vec<_>>()
            .join(";")
    }
    /// A one-line description of the rule's scope, in Chinese and English.
    pub fn scope_text(&self) -> (String, String) {
        let cat = if self.category_prefix.is_empty() {
            ("任意分类".to_string(), "any category".to_string())
        } else {
            (
                format!("分类 {}", self.category_prefix),
                format!("category {}", self.category_prefix),
            )
        };
        let place = match &self.place {
            PlaceScope::Any => ("全市".to_string(), "anywhere".to_string()),
            p => (
                format!("{} {}", level_label_zh(p.level()), p.code().unwrap_or("")),
                format!("{} {}", level_label_en(p.level()), p.code().unwrap_or("")),
            ),
        };
        let mut zh = format!("{} · {}", cat.0, place.0);
        let mut en = format!("{}, {}", cat.1, place.1);
        if !self.keywords.is_empty() {
            let _ = write!(zh, " · 关键词 {}", self.keywords.join("+"));
            let _ = write!(en, ", keywords {}", self.keywords.join(" AND "));
        }
        match self.enterprise {
            Some(true) => {
                zh.push_str(" · 企业诉求");
                en.push_str(", enterprise requests");
            }
            Some(false) => {
                zh.push_str(" · 非企业诉求");
                en.push_str(", non-enterprise requests");
            }
            None => {}
        }
        if self.priority != 0 {
            let _ = write!(zh, " · 优先级 {}", self.priority);
            let _ = write!(en, ", priority {}", self.priority);
        }
        (zh, en)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ScopeKey {
    pub priority: i32,
    pub place: PlaceScope,
    pub prefix: String,
    pub keywords: Vec<String>,
    pub enterprise: Option<bool>,
}
