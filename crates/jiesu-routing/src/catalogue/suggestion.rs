//! What routing looks at ([`RouteFacts`]) and what it answers: a [`Suggestion`] with its
//! [`Explanation`] (the rules considered and why each won or lost).

use super::*;

/// The facts of a request that routing looks at (owned, so callers can stream them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RouteFacts {
    pub category_code: String,
    /// May be empty if the street is known (the district is then taken from the org tree).
    pub district_code: String,
    pub street_code: String,
    #[serde(default)]
    pub community_code: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub enterprise: bool,
    /// A tier set at intake (e.g. urgent); the suggestion uses the more urgent of it and the rule's.
    #[serde(default)]
    pub tier: Option<DeadlineTier>,
}

impl RouteFacts {
    pub fn from_intake(i: &Intake) -> Self {
        RouteFacts {
            category_code: i.category_code.clone(),
            district_code: i.place.district_code.clone(),
            street_code: i.place.street_code.clone(),
            community_code: i.place.community_code.clone(),
            title: i.title.clone(),
            text: i.text.clone(),
            enterprise: i.enterprise,
            tier: i.tier,
        }
    }
}

impl From<&Intake> for RouteFacts {
    fn from(i: &Intake) -> Self {
        RouteFacts::from_intake(i)
    }
}

/// The request's place with the district filled in.
pub(crate) struct NormPlace<'a> {
    pub district: &'a str,
    pub street: &'a str,
    pub community: &'a str,
}

/// One unit of a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedAssignment {
    pub unit_code: String,
    pub unit_name: String,
    pub unit_kind: UnitKind,
    pub role: AssignmentRole,
}

/// A complete alternative dispatch (used for runner-ups and conflicts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub rule_id: String,
    pub rank: Rank,
    pub assignments: Vec<SuggestedAssignment>,
    pub tier: DeadlineTier,
}

impl Alternative {
    pub fn lead(&self) -> Option<&SuggestedAssignment> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
    }
}

/// How one candidate rule fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// The rule used.
    Won,
    /// Equally specific as the winner: a conflict, lost on the rule-id tie-break.
    Tie,
    /// Less specific than the winner.
    Lost,
    /// Matched, but its lead unit could not be resolved.
    Skipped,
}

/// One matching rule and why it did or did not win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsideredRule {
    pub rule_id: String,
    pub rank: Rank,
    pub status: CandidateStatus,
    pub reason_zh: String,
    pub reason_en: String,
}

/// Why the suggestion is what it is, for the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Explanation {
    pub zh: String,
    pub en: String,
    /// Every matching rule, best first.
    pub considered: Vec<ConsideredRule>,
}

/// The engine's proposal for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Lead first, then assists. Empty when no rule resolved.
    pub assignments: Vec<SuggestedAssignment>,
    pub tier: DeadlineTier,
    /// The winning rule (`None` when none matched).
    pub rule_id: Option<String>,
    pub rank: Option<Rank>,
    pub explanation: Explanation,
    /// The next best dispatches, each with a lead different from the winner's and from each other
    /// (best first) — for "return approved → re-dispatch with the next suggestion".
    pub runner_ups: Vec<Alternative>,
    /// Rules as specific as the winner that also matched (the tie was broken by rule id).
    pub conflicts: Vec<Alternative>,
    /// Assist units dropped because they could not be resolved (lead kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Suggestion {
    pub fn lead(&self) -> Option<&SuggestedAssignment> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
    }
    /// The best alternative whose lead is none of `returned_units` (units that already returned
    /// the ticket), the winner included: the re-dispatch after an approved return.
    pub fn next_after(&self, returned_units: &[&str]) -> Option<Alternative> {
        let winner = self.rule_id.as_ref().and_then(|id| {
            Some(Alternative {
                rule_id: id.clone(),
                rank: self.rank?,
                assignments: self.assignments.clone(),
                tier: self.tier,
            })
        });
        winner
            .into_iter()
            .chain(self.runner_ups.iter().cloned())
            .find(|a| {
                a.lead()
                    .is_some_and(|l| !returned_units.contains(&l.unit_code.as_str()))
            })
    }
}
