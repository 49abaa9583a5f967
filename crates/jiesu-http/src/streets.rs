//! 治理类街乡镇 — the month's classification of every street and town (先进 / 进步 / 整改 / 治理),
//! its entries, exits, tracking and 未进先治 pre-warnings: the street scorecards of the month and
//! the months before it (`jiesu_score`), classified by `jiesu_governance::streets`, each month
//! under the version of the city's street policy in effect in it (`crate::gov_policies`).

use crate::auth::{require, Caller};
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use jiesu_domain::auth::Role;
use jiesu_domain::capability::Capability;
use jiesu_governance::streets::{in_effect, StreetMonth, StreetPolicy, StreetStanding};
use jiesu_score::{Level, Month, PolicySet};
use jiesu_store::Store;
use schemars::JsonSchema;
use serde::Serialize;

/// Months of history replayed before the month asked (entries, exits and tracking need them).
pub const HISTORY_MONTHS: i32 = 12;

/// The street scorecards of `month` and up to `HISTORY_MONTHS` before it (months without any
/// counted assignment are left out), oldest first, as the classification reads them.
pub fn street_history(
    store: &dyn Store,
    month: Month,
) -> anyhow::Result<Vec<(String, Vec<StreetMonth>)>> {
    let mut out = Vec::new();
    for back in (0..=HISTORY_MONTHS).rev() {
        let m = month.plus(-back);
        let (mut cards, _) = jiesu_score::service::monthly_scorecards(
            store,
            m,
            &[Level::Street],
            &PolicySet::shipped_default(),
            jiesu_score::service::LoadOptions {
                base_period: false,
                ..Default::default()
            },
        )?;
        let Some(card) = cards.pop() else { continue };
        let streets: Vec<StreetMonth> = card
            .units
            .into_iter()
            .map(|u| StreetMonth {
                code: u.unit_code,
                name: u.unit_name,
                district: u.district_code.unwrap_or_default(),
                volume: u.counts.counted,
                composite: u.composite,
                rank: u.rank,
            })
            .collect();
        if streets.iter().any(|s| s.volume > 0) {
            out.push((m.to_string(), streets));
        }
    }
    Ok(out)
}

/// The month's classification.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StreetsView {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The policy applied (id, name, parameters): the version in effect in the month.
    pub policy: serde_json::Value,
    /// Its stored version (0: the shipped default).
    pub policy_version: i64,
    /// Months replayed (oldest first).
    pub months: Vec<String>,
    /// Streets on the 治理 list this month.
    pub listed: usize,
    /// 未进先治 pre-warnings this month.
    pub pre_warnings: usize,
    /// Every street in scope, by volume rank.
    pub streets: Vec<StreetRow>,
}

/// One street's month.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StreetRow {
    pub code: String,
    pub name: String,
    pub district: String,
    /// Assignments counted this month.
    pub volume: u32,
    /// Rank by volume (1 = most).
    pub volume_rank: u32,
    /// 三率 composite, 0–100.
    pub composite: Option<f64>,
    /// Rank by composite (1 = best).
    pub rank: Option<u32>,
    /// Rank change on the previous month (positive: better).
    pub rank_change: Option<i64>,
    /// `advanced` (先进), `improved` (进步), `rectify` (整改), `govern` (治理) or `ordinary` (一般).
    pub class: String,
    /// The class in Chinese.
    pub class_label: String,
    pub listed: bool,
    pub listed_since: Option<String>,
    /// Months running that met the exit rule.
    pub exit_progress: u32,
    /// Left the list and tracked until this month.
    pub tracked_until: Option<String>,
    /// 未进先治.
    pub pre_warning: bool,
    /// The rule that classified it (Chinese).
    pub reason: String,
    /// The street's scorecard line.
    pub drill: String,
}

fn row(s: StreetStanding, period: &str) -> StreetRow {
    StreetRow {
        drill: format!(
            "#/scores?period={period}&level=street&unit={}",
            s.street.code
        ),
        code: s.street.code,
        name: s.street.name,
        district: s.street.district,
        volume: s.street.volume,
        volume_rank: s.volume_rank,
        composite: s.street.composite.map(|c| (c * 100.0).round() / 100.0),
        rank: s.street.rank,
        rank_change: s.rank_change,
        class: serde_json::to_value(s.class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        class_label: s.class.label_zh().into(),
        listed: s.listed,
        listed_since: s.listed_since,
        exit_progress: s.exit_progress,
        tracked_until: s.tracked_until,
        pre_warning: s.pre_warning,
        reason: s.reason,
    }
}

/// `GET /api/v1/governance/streets/{period}`.
pub async fn streets(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(period): Path<String>,
) -> ApiResult<Json<StreetsView>> {
    require(&actor, Capability::Analytics)?;
    let month = crate::scores::parse_month(&period)?;
    // a unit manager sees the streets of their district (or their own street)
    let scope: Option<String> = match actor.role {
        Role::UnitManager => Some(actor.unit.clone().unwrap_or_default()),
        _ => None,
    };
    let s2 = st.clone();
    let history = tokio::task::spawn_blocking(move || street_history(&*s2.store, month))
        .await?
        .map_err(crate::scores::score_failed)?;
    let (standings, (policy_version, policy)) =
        crate::gov_policies::classify_stored(&*st.store, &history)
            .map_err(crate::scores::score_failed)?;
    let (standings, (policy_version, policy)) =
        if history.last().map(|h| h.0.as_str()) == Some(period.as_str()) {
            (standings, (policy_version, policy))
        } else {
            let versions = crate::gov_policies::street_versions(&*st.store)
                .map_err(crate::scores::score_failed)?;
            let policies: Vec<StreetPolicy> = versions.iter().map(|v| v.1.clone()).collect();
            let p = in_effect(&policies, &period)
                .cloned()
                .unwrap_or_else(StreetPolicy::shipped_default);
            let v = versions.iter().rev().find(|v| v.1 == p).map_or(0, |v| v.0);
            (Vec::new(), (v, p))
        };
    let rows: Vec<StreetRow> = standings
        .into_iter()
        .filter(|s| match &scope {
            None => true,
            Some(u) => st.org.is_within(&s.street.code, u),
        })
        .map(|s| row(s, &period))
        .collect();
    Ok(Json(StreetsView {
        period: period.clone(),
        policy: serde_json::to_value(&policy).unwrap_or_default(),
        policy_version,
        months: history.into_iter().map(|h| h.0).collect(),
        listed: rows.iter().filter(|r| r.listed).count(),
        pre_warnings: rows.iter().filter(|r| r.pre_warning).count(),
        streets: rows,
    }))
}
