//! The monthly scorecard (三率) over HTTP: public, no personal data, JSON or CSV.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiesu_score::{Level, Month, PolicySet};
use serde::Deserialize;

/// The `{YYYY-MM}` path segment, or a 422 naming `period`.
pub(crate) fn parse_month(period: &str) -> ApiResult<Month> {
    Month::parse(period).ok_or_else(|| {
        ApiError::invalid(
            "period",
            format!("'{period}' is not a month (YYYY-MM)"),
            "月份格式应为 YYYY-MM",
        )
    })
}

/// A month the scorecard could not be computed for (422, the reason in English).
pub(crate) fn score_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "score_failed",
        e.to_string(),
        "无法计算该月考核结果",
    )
}

/// The citizen-facing name of the shipped default policy.
pub const PUBLIC_DEFAULT_POLICY_NAME: &str = "接诉即办考核办法";

/// The policy's name as the public (no log-in) sees it: the shipped default's internal name
/// ("默认考核办法 (shipped default)") becomes [`PUBLIC_DEFAULT_POLICY_NAME`]; a city's own policy
/// keeps its name. Staff see the real name.
fn public_policy_name(id: &str, name: &str) -> String {
    if id == "default" || name.contains("shipped default") || name.starts_with("默认") {
        PUBLIC_DEFAULT_POLICY_NAME.to_string()
    } else {
        name.to_string()
    }
}

/// The public view of a scorecard or drill-down JSON body: the policy's public name.
fn public_view(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        let id = o
            .get("policy_id")
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string();
        if let Some(name) = o
            .get("policy_name")
            .and_then(|x| x.as_str())
            .map(str::to_string)
        {
            o.insert("policy_name".into(), public_policy_name(&id, &name).into());
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct Fmt {
    format: Option<String>,
}

/// `GET /api/v1/scores/{YYYY-MM}/{street|district|department|enterprise}?format=json|csv`
pub async fn scorecard(
    State(st): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((period, level)): Path<(String, String)>,
    Query(f): Query<Fmt>,
) -> ApiResult<Response> {
    let month = parse_month(&period)?;
    let lvl = Level::parse(&level).ok_or_else(|| {
        ApiError::invalid(
            "level",
            format!("'{level}' is not one of street, district, department, enterprise"),
            "层级应为 street、district、department 或 enterprise",
        )
    })?;
    let (csv, xlsx) = match f.format.as_deref() {
        None | Some("json") => (false, false),
        Some("csv") => (true, false),
        Some("xlsx") => (true, true),
        Some(o) => {
            return Err(ApiError::invalid(
                "format",
                format!("'{o}' is not json, csv or xlsx"),
                "格式应为 json、csv 或 xlsx",
            ))
        }
    };
    let s2 = st.clone();
    let card = tokio::task::spawn_blocking(move || -> anyhow::Result<jiesu_score::Scorecard> {
        let (mut cards, _) = jiesu_score::service::monthly_scorecards(
            &**s2.reads(),
            month,
            &[lvl],
            &PolicySet::shipped_default(),
            jiesu_score::service::LoadOptions::default(),
        )?;
        cards.pop().ok_or_else(|| anyhow::anyhow!("no scorecard"))
    })
    .await?
    .map_err(score_failed)?;
    let mut buf = Vec::new();
    if csv {
        jiesu_score::output::write_scorecard_csv(&card, &mut buf).map_err(ApiError::internal)?;
        if xlsx {
            let text = String::from_utf8_lossy(&buf).to_string();
            let book =
                jiesu_io::xlsx::csv_to_xlsx(&text, "考核结果").map_err(ApiError::internal)?;
            let name = format!("attachment; filename=\"scorecard-{period}-{level}.xlsx\"");
            return Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (header::CONTENT_DISPOSITION, name),
                ],
                book,
            )
                .into_response());
        }
        let name = format!("attachment; filename=\"scorecard-{period}-{level}.csv\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            buf,
        )
            .into_response())
    } else {
        jiesu_score::output::write_scorecard_json(&card, &mut buf).map_err(ApiError::internal)?;
        if caller.is_ok() {
            return Ok(([(header::CONTENT_TYPE, "application/json")], buf).into_response());
        }
        let mut v: serde_json::Value = serde_json::from_slice(&buf).map_err(ApiError::internal)?;
        public_view(&mut v);
        Ok(axum::Json(v).into_response())
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct DrillQuery {
    measure: Option<String>,
    level: Option<String>,
    scope: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
    format: Option<String>,
}

/// `GET /api/v1/scores/{YYYY-MM}/units/{code}/tickets?measure=&level=&scope=unit|industry&page=&page_size=&format=json|csv`
/// — the assignments behind one figure of a unit's line (下钻), chosen by the scorecard's own code
/// (their number is the figure, returned beside them), with the policy that counted them. Public:
/// the rows are the export's (no personal data).
pub async fn drill(
    State(st): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((period, code)): Path<(String, String)>,
    Query(q): Query<DrillQuery>,
) -> ApiResult<Response> {
    use jiesu_domain::org::UnitKind;
    let month = parse_month(&period)?;
    let unit = st.org.get(&code).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no unit has the code '{code}'"),
            format!("没有代码为 {code} 的单位"),
        )
    })?;
    let lvl = match q.level.as_deref() {
        Some(l) => Level::parse(l).ok_or_else(|| {
            ApiError::invalid(
                "level",
                format!("'{l}' is not one of street, district, department, enterprise"),
                "层级应为 street、district、department 或 enterprise",
            )
        })?,
        None => match unit.kind {
            UnitKind::StreetTown => Level::Street,
            UnitKind::District => Level::District,
            UnitKind::CityDepartment => Level::Department,
            UnitKind::StateEnterprise => Level::Enterprise,
            _ => {
                return Err(ApiError::invalid(
                    "level",
                    format!("'{code}' ({}) is not scored at any level", unit.name),
                    format!("{}（{code}）不属于任何考核层级", unit.name),
                ))
            }
        },
    };
    run_drill(st, month, lvl, Some(code), q, caller.is_ok()).await
}

/// `GET /api/v1/scores/{YYYY-MM}/{level}/tickets?measure=&page=&page_size=&format=` — the
/// assignments behind the level's totals (全市同级合计): every row any unit of the level counts.
pub async fn level_drill(
    State(st): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((period, level)): Path<(String, String)>,
    Query(q): Query<DrillQuery>,
) -> ApiResult<Response> {
    let month = parse_month(&period)?;
    let lvl = Level::parse(&level).ok_or_else(|| {
        ApiError::invalid(
            "level",
            format!("'{level}' is not one of street, district, department, enterprise"),
            "层级应为 street、district、department 或 enterprise",
        )
    })?;
    run_drill(st, month, lvl, None, q, caller.is_ok()).await
}

async fn run_drill(
    st: AppState,
    month: Month,
    lvl: Level,
    code: Option<String>,
    q: DrillQuery,
    signed_in: bool,
) -> ApiResult<Response> {
    use jiesu_score::{DrillError, Measure, Scope};
    let measure_name = q.measure.as_deref().unwrap_or("counted");
    let measure = Measure::parse(measure_name).ok_or_else(|| {
        ApiError::invalid(
            "measure",
            format!("'{measure_name}' is not one of: {}", Measure::names()),
            format!("指标应为以下之一：{}", Measure::names()),
        )
    })?;
    let scope = match q.scope.as_deref() {
        None => Scope::Unit,
        Some(s) => Scope::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "scope",
                format!("'{s}' is not unit or industry"),
                "范围应为 unit（本单位）或 industry（行业三率）",
            )
        })?,
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(o) => {
            return Err(ApiError::invalid(
                "format",
                format!("'{o}' is not json or csv"),
                "格式应为 json 或 csv",
            ))
        }
    };
    let page_size = q.page_size.unwrap_or(100).clamp(1, 1000) as usize;
    let page = q.page.unwrap_or(1).max(1) as usize;
    let s2 = st.clone();
    let code2 = code.clone();
    let d = tokio::task::spawn_blocking(move || {
        jiesu_score::service::monthly_drill(
            &**s2.reads(),
            month,
            lvl,
            code2.as_deref(),
            scope,
            measure,
            &PolicySet::shipped_default(),
            jiesu_score::CacheMode::Use,
        )
    })
    .await?
    .map_err(score_failed)?
    .map_err(|e| {
        let field = match e {
            DrillError::NotAMember { .. } => "level",
            DrillError::NoIndustry { .. } => "scope",
            DrillError::IndustryMeasure { .. } => "measure",
            DrillError::Score(_) => "period",
        };
        ApiError::invalid(field, e.to_string(), e.message_zh())
    })?;
    let mut buf = Vec::new();
    if csv {
        jiesu_score::output::write_drill_csv(&d, &mut buf).map_err(ApiError::internal)?;
        let name = format!(
            "attachment; filename=\"tickets-{month}-{}-{}-{}.csv\"",
            code.as_deref().unwrap_or(lvl.as_str()),
            scope.as_str(),
            measure.as_str()
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            buf,
        )
            .into_response());
    }
    let total = d.rows.len();
    let items: Vec<&jiesu_score::DrillRow> = d
        .rows
        .iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .collect();
    let mut v = serde_json::to_value(&d).map_err(ApiError::internal)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("rows");
        o.insert("total".into(), total.into());
        o.insert("page".into(), page.into());
        o.insert("page_size".into(), page_size.into());
        o.insert(
            "items".into(),
            serde_json::to_value(items).map_err(ApiError::internal)?,
        );
    }
    if !signed_in {
        public_view(&mut v);
    }
    Ok(axum::Json(v).into_response())
}
