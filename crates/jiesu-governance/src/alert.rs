//! 预警处置 — an early-warning alert's life: raised by the detector on a cell-day, sent to the
//! responsible unit and its district, then acknowledged (已知悉), handled (已处置, saying what was
//! done) or dismissed (不予处置, saying why). Every step is recorded; the share of alerts handled
//! among those closed is the rate of useful alerts.

use crate::warn::{DayKind, Detector, Explained};
use crate::warn_eval::CellSeries;
use serde::{Deserialize, Serialize};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// 待处置 — raised, nobody has looked yet.
    Open,
    /// 已知悉 — the unit has seen it and is looking into it.
    Acknowledged,
    /// 已处置 — the unit acted on it (useful).
    Handled,
    /// 不予处置 — the unit found nothing to act on (not useful).
    Dismissed,
}

impl AlertStatus {
    /// Every status.
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::Open,
        AlertStatus::Acknowledged,
        AlertStatus::Handled,
        AlertStatus::Dismissed,
    ];
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Handled => "handled",
            AlertStatus::Dismissed => "dismissed",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            AlertStatus::Open => "待处置",
            AlertStatus::Acknowledged => "已知悉",
            AlertStatus::Handled => "已处置",
            AlertStatus::Dismissed => "不予处置",
        }
    }
    /// Closed (handled or dismissed): no further step.
    pub fn is_closed(self) -> bool {
        matches!(self, AlertStatus::Handled | AlertStatus::Dismissed)
    }
}

/// A step on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// 知悉
    Acknowledge,
    /// 处置 — with what was done.
    Handle,
    /// 不予处置 — with why.
    Dismiss,
}

impl AlertAction {
    /// The wire name (as in the route `/alerts/{id}/{action}`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Handle => "handle",
            AlertAction::Dismiss => "dismiss",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<AlertAction> {
        [
            AlertAction::Acknowledge,
            AlertAction::Handle,
            AlertAction::Dismiss,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A step refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// The alert is closed.
    #[error("the alert is already {0:?}; it takes no further step")]
    Closed(AlertStatus),
    /// Acknowledging twice.
    #[error("the alert is already acknowledged")]
    AlreadyAcknowledged,
    /// Handling or dismissing needs a reason.
    #[error("say what was done (handle) or why not (dismiss): the reason is empty")]
    ReasonRequired,
    /// A reason longer than 2,000 characters.
    #[error("the reason is longer than 2,000 characters")]
    ReasonTooLong,
}

/// The domain's decision on a step: the status after it, or why not.
pub fn transition(
    from: AlertStatus,
    action: AlertAction,
    reason: &str,
) -> Result<AlertStatus, AlertError> {
    if from.is_closed() {
        return Err(AlertError::Closed(from));
    }
    if reason.chars().count() > 2000 {
        return Err(AlertError::ReasonTooLong);
    }
    match action {
        AlertAction::Acknowledge if from == AlertStatus::Acknowledged => {
            Err(AlertError::AlreadyAcknowledged)
        }
        AlertAction::Acknowledge => Ok(AlertStatus::Acknowledged),
        AlertAction::Handle | AlertAction::Dismiss if reason.trim().is_empty() => {
            Err(AlertError::ReasonRequired)
        }
        AlertAction::Handle => Ok(AlertStatus::Handled),
        AlertAction::Dismiss => Ok(AlertStatus::Dismissed),
    }
}

/// The share of closed alerts that were handled (useful), `None` before any closed.
pub fn useful_rate(handled: u64, dismissed: u64) -> Option<f64> {
    (handled + dismissed > 0).then(|| handled as f64 / (handled + dismissed) as f64)
}

/// When the server raises an alert (docs/GOVERNANCE.md: over every cell of a city the share of
/// alarms on ordinary cell-days must be far below the evaluation's 0.5 %, or staff drown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// The detector's statistic at or above which a cell-day alarms (`−log10` of the tail
    /// probability: 5 = one in 100,000 ordinary cell-days).
    pub threshold: f64,
    /// Fewer requests than this in the window raise no alert (two requests are not a trend).
    pub min_observed: u32,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            threshold: 5.0,
            min_observed: 3,
        }
    }
}

/// A cell-day that alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Index of the cell.
    pub cell: usize,
    /// Why.
    pub explained: Explained,
}

/// The cells that alarm on day `t` under `policy`, strongest first. A cell whose parent place
/// (its district's or street's cell of the same category) alarms on the same day with the same
/// window is kept too: each level has its own owner.
pub fn alarms_on(
    cells: &[CellSeries],
    kinds: &[DayKind],
    detector: &Detector,
    policy: &AlertPolicy,
    t: usize,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c.counts.get(t).copied().unwrap_or(0) > 0)
        .filter_map(|(i, c)| {
            let e = detector.explain(&c.counts, kinds, t)?;
            (e.score >= policy.threshold && e.observed >= policy.min_observed).then_some(
                Candidate {
                    cell: i,
                    explained: e,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.explained.score.total_cmp(&a.explained.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warn::{DayFactors, DetectorParams};
    use proptest::prelude::*;

    #[test]
    fn handle_and_dismiss_need_a_reason_and_close_the_alert() {
        use AlertAction::*;
        use AlertStatus::*;
        assert_eq!(transition(Open, Acknowledge, ""), Ok(Acknowledged));
        assert_eq!(
            transition(Acknowledged, Acknowledge, ""),
            Err(AlertError::AlreadyAcknowledged)
        );
        assert_eq!(
            transition(Open, Handle, "  "),
            Err(AlertError::ReasonRequired)
        );
        assert_eq!(
            transition(Acknowledged, Handle, "已协调水务抢修"),
            Ok(Handled)
        );
        assert_eq!(transition(Open, Dismiss, "重复来电"), Ok(Dismissed));
        assert_eq!(
            transition(Handled, Dismiss, "x"),
            Err(AlertError::Closed(Handled))
        );
        assert_eq!(useful_rate(3, 1), Some(0.75));
        assert_eq!(useful_rate(0, 0), None);
    }

    proptest! {
        #[test]
        fn a_closed_alert_never_changes_and_every_path_is_at_most_three_steps(
            steps in proptest::collection::vec((0u8..3, any::<bool>()), 0..10)
        ) {
            let mut s = AlertStatus::Open;
            let mut accepted = 0;
            for (a, with_reason) in steps {
                let action = [AlertAction::Acknowledge, AlertAction::Handle, AlertAction::Dismiss][a as usize];
                let before = s;
                match transition(s, action, if with_reason { "因为" } else { "" }) {
                    Ok(next) => {
                        prop_assert!(!before.is_closed());
                        prop_assert_ne!(next, AlertStatus::Open);
                        s = next;
                        accepted += 1;
                    }
                    Err(_) => prop_assert_eq!(s, before),
                }
            }
            prop_assert!(accepted <= 2);
        }
    }

    #[test]
    fn a_burst_in_a_quiet_cell_alarms_and_a_quiet_day_does_not() {
        let kinds: Vec<DayKind> = (0..140).map(|i| DayKind::Weekday((i % 7) as u8)).collect();
        let mut quiet = vec![0u32; 140];
        for t in (0..130).step_by(10) {
            quiet[t] = 1;
        }
        let mut burst = quiet.clone();
        burst[139] = 6;
        let cell = |c: Vec<u32>, n: &str| CellSeries {
            name: n.into(),
            level: "street×category".into(),
            place: "110105001".into(),
            category: "06".into(),
            counts: c,
        };
        let cells = vec![cell(quiet, "quiet"), cell(burst, "burst")];
        let d = Detector {
            params: DetectorParams::default(),
            factors: DayFactors::default(),
        };
        let got = alarms_on(&cells, &kinds, &d, &AlertPolicy::default(), 139);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].cell, 1);
        assert_eq!(got[0].explained.observed, 6);
    }
}
