//! The monthly scorecard (三率) over HTTP: public, no personal data, JSON or CSV.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiesu_score::{Level, Month, PolicySet};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Fmt {
    format: Option<String>,
}

/// `GET /api/v1/scores/{YYYY-MM}/{street|district|department|enterprise}?format=json|csv`
pub async fn scorecard(
    State(st): State<AppState>,
    Path((period, level)): Path<(String, String)>,
    Query(f): Query<Fmt>,
) -> ApiResult<Response> {
    let month = Month::parse(&period).ok_or_else(|| {
        ApiError::invalid(
            "period",
            format!("'{period}' is not a month (YYYY-MM)"),
            "月份格式应为 YYYY-MM",
        )
    })?;
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
            &s2.store,
            month,
            &[lvl],
            &PolicySet::shipped_default(),
            jiesu_score::service::LoadOptions::default(),
        )?;
        cards.pop().ok_or_else(|| anyhow::anyhow!("no scorecard"))
    })
    .await?
    .map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "score_failed",
            e.to_string(),
            "无法计算该月考核结果",
        )
    })?;
    let mut buf = Vec::new();
    if csv {
        jiesu_score::output::write_scorecard_csv(&card, &mut buf).map_err(ApiError::internal)?;
        if xlsx {
            let text = String::from_utf8_lossy(&buf).to_string();
            let book = crate::xlsx::csv_to_xlsx(&text, "考核结果").map_err(ApiError::internal)?;
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
        Ok(([(header::CONTENT_TYPE, "application/json")], buf).into_response())
    }
}
