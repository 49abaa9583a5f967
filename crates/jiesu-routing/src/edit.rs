//! Editing a catalogue one rule at a time (the admin page's inline editor): add or change a rule
//! version, or remove one, and get back the whole catalogue — or every problem, named by rule.
//!
//! The edited rule is checked by the same parser as a file ([`Catalogue::from_csv`] on a
//! one-row table), so a rule typed in the browser and a rule imported from CSV obey exactly the same
//! rules; the result is then checked as a whole for overlaps ([`Catalogue::structural_problems`]).

use crate::catalogue::{Catalogue, Rule};
use crate::csvio::COLUMNS;
use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use serde::{Deserialize, Serialize};

/// One rule version as the text of its catalogue columns (see [`crate::csvio`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleFields {
    pub id: String,
    pub effective_from: String,
    pub effective_to: String,
    pub priority: String,
    pub category_prefix: String,
    pub place: String,
    pub keywords: String,
    pub enterprise: String,
    pub assignments: String,
    pub tier: String,
    pub note: String,
}

impl RuleFields {
    /// The columns of a rule version, as an export writes them.
    pub fn of(r: &Rule) -> Self {
        RuleFields {
            id: r.id.clone(),
            effective_from: r.effective_from.to_string(),
            effective_to: r.effective_to.map(|d| d.to_string()).unwrap_or_default(),
            priority: r.priority.to_string(),
            category_prefix: if r.category_prefix.is_empty() {
                "*".to_string()
            } else {
                r.category_prefix.clone()
            },
            place: r.place.to_field(),
            keywords: r.keywords.join(";"),
            enterprise: match r.enterprise {
                None => "",
                Some(true) => "yes",
                Some(false) => "no",
            }
            .to_string(),
            assignments: r.assignments_field(),
            tier: r.tier.as_str().to_string(),
            note: r.note.clone(),
        }
    }

    /// The values in [`COLUMNS`] order.
    pub fn values(&self) -> [&str; 11] {
        [
            &self.id,
            &self.effective_from,
            &self.effective_to,
            &self.priority,
            &self.category_prefix,
            &self.place,
            &self.keywords,
            &self.enterprise,
            &self.assignments,
            &self.tier,
            &self.note,
        ]
    }
}

/// A rule version's key: its id and first day in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleKey {
    pub id: String,
    pub effective_from: NaiveDate,
}

/// 编辑目录 — one change to a draft catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RuleEdit {
    /// Adds a rule version, or replaces `replaces` (default: the version with the same key).
    Upsert {
        rule: Box<RuleFields>,
        #[serde(default)]
        replaces: Option<RuleKey>,
    },
    /// Removes a rule version from the draft (history keeps the published versions).
    Remove { key: RuleKey },
}

/// One problem of an edit, named by the rule(s) it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditProblem {
    /// The rule the problem is about (`None` for the edit as a whole).
    pub rule: Option<String>,
    /// The other rule of an overlap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_rule: Option<String>,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for EditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.rule, &self.other_rule) {
            (Some(a), Some(b)) => write!(f, "rules {a} and {b}")?,
            (Some(a), None) => write!(f, "rule {a}")?,
            _ => write!(f, "edit")?,
        }
        if let Some(c) = &self.column {
            write!(f, " [{c}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Applies one edit to `base` and validates the result. On success the new catalogue; otherwise
/// every problem, and `base` is untouched (it is borrowed, never changed).
pub fn apply_edit(
    base: &Catalogue,
    edit: &RuleEdit,
    org: &OrgTree,
    categories: &CategoryTree,
) -> Result<Catalogue, Vec<EditProblem>> {
    let mut rules: Vec<Rule> = base.rules().to_vec();
    let edited_id;
    match edit {
        RuleEdit::Remove { key } => {
            let before = rules.len();
            rules.retain(|r| !(r.id == key.id && r.effective_from == key.effective_from));
            if rules.len() == before {
                return Err(vec![EditProblem {
                    rule: Some(key.id.clone()),
                    other_rule: None,
                    column: None,
                    message: format!(
                        "no version of rule {} starts on {} in this catalogue",
                        key.id, key.effective_from
                    ),
                }]);
            }
            return Ok(Catalogue::new(rules));
        }
        RuleEdit::Upsert { rule, replaces } => {
            edited_id = rule.id.trim().to_string();
            let new_rule = parse_one(rule, org, categories)?;
            let key = replaces.clone().unwrap_or(RuleKey {
                id: new_rule.id.clone(),
                effective_from: new_rule.effective_from,
            });
            if let Some(r) = replaces {
                if !rules
                    .iter()
                    .any(|x| x.id == r.id && x.effective_from == r.effective_from)
                {
                    return Err(vec![EditProblem {
                        rule: Some(r.id.clone()),
                        other_rule: None,
                        column: None,
                        message: format!(
                            "the version being edited (rule {} from {}) is no longer in the draft; reload",
                            r.id, r.effective_from
                        ),
                    }]);
                }
            }
            rules.retain(|x| !(x.id == key.id && x.effective_from == key.effective_from));
            rules.push(new_rule);
        }
    }
    let cat = Catalogue::new(rules);
    // Only problems that involve the edited rule: the rest of the draft was valid before.
    let problems: Vec<EditProblem> = cat
        .structural_problems()
        .into_iter()
        .filter(|(a, b, _)| {
            cat.rules()[*a].id == edited_id || b.is_some_and(|b| cat.rules()[b].id == edited_id)
        })
        .map(|(a, b, msg)| EditProblem {
            rule: Some(cat.rules()[a].id.clone()),
            other_rule: b.map(|b| cat.rules()[b].id.clone()),
            column: None,
            message: msg,
        })
        .collect();
    if problems.is_empty() {
        Ok(cat)
    } else {
        Err(problems)
    }
}

/// Parses one rule through the file parser (a header and one row), so that every check a CSV
/// row gets applies here too; problems are renamed from "line 2" to the rule.
fn parse_one(
    f: &RuleFields,
    org: &OrgTree,
    categories: &CategoryTree,
) -> Result<Rule, Vec<EditProblem>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let row: Vec<String> = f.values().iter().map(|v| one_line(v)).collect();
    let bytes = w
        .write_record(COLUMNS)
        .and_then(|_| w.write_record(&row))
        .map_err(|e| e.to_string())
        .and_then(|_| w.into_inner().map_err(|e| e.to_string()))
        .map_err(|e| {
            vec![EditProblem {
                rule: None,
                other_rule: None,
                column: None,
                message: e,
            }]
        })?;
    let rule_name = (!f.id.trim().is_empty()).then(|| f.id.trim().to_string());
    match Catalogue::from_csv(&bytes, org, categories) {
        Ok(c) => c.into_rules().into_iter().next().ok_or_else(|| {
            vec![EditProblem {
                rule: rule_name.clone(),
                other_rule: None,
                column: None,
                message: "the rule is empty".into(),
            }]
        }),
        Err(report) => Err(report
            .problems
            .into_iter()
            .map(|p| EditProblem {
                rule: rule_name.clone(),
                other_rule: None,
                column: p.column,
                message: p.message,
            })
            .collect()),
    }
}
