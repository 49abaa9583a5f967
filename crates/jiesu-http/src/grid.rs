//! 网格上报 — grid reports: a grid worker (网格员) files a problem of their grid from the phone
//! page (`/grid` in the UI) with its position (the phone's geolocation stored as the ticket's
//! `lat`/`lng`; or, without one, the street, community and address picked by hand) and then
//! photos. The report is a ticket of channel `grid` through the same intake as every other, so
//! routing, scoring and the analytics see it like any ticket.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use jiesu_domain::capability::Capability;
use jiesu_domain::intake::{Filer, IntakeForm};
use jiesu_domain::ticket::Channel;
use serde_json::json;

/// `POST /api/v1/grid/reports` — a grid worker files a report (the intake form; the channel is
/// always `grid`; `Idempotency-Key` supported, so a retry on a weak mobile connection files once).
pub async fn file(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Json(mut form): Json<IntakeForm>,
) -> ApiResult<impl IntoResponse> {
    crate::auth::require(&actor, Capability::GridReport)?;
    form.channel = Some(Channel::Grid.as_str().into());
    if form.request_type.trim().is_empty() {
        form.request_type = "report".into();
    }
    if form.lat.is_some() != form.lng.is_some() {
        return Err(ApiError::invalid(
            "lat",
            "give both lat and lng, or neither (then the street and community place it)",
            "经纬度须同时提供，或都不提供（由街乡镇、社区定位）",
        ));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| format!("grid:{}:{k}", actor.user));
    let (created, _) =
        crate::tickets::file_marked(&st, form, Filer::Public, actor.to_ref(None), key).await?;
    let t = &created.state;
    let code = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        code,
        axum::Json(json!({
            "id": t.id,
            "number": t.number,
            "channel": t.intake.channel.as_str(),
            "status": t.status.as_str(),
            "status_label": t.status.label_zh(),
            "lat": t.intake.place.lat,
            "lng": t.intake.place.lng,
            "tracking_code": created.tracking_code,
            "replayed": created.replayed,
            "photos_href": format!("/api/v1/grid/reports/{}/photos", t.id),
        })),
    ))
}

/// `POST /api/v1/grid/reports/{id}/photos?name=photo.jpg` — a photo (an image, the file as the
/// body) of a report the caller filed; any other ticket is 404.
pub async fn photo(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(q): Query<crate::attachments::UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    crate::auth::require(&actor, Capability::GridReport)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let s2 = st.clone();
    let (t, _) = tokio::task::spawn_blocking(move || s2.store.load_ticket(id))
        .await??
        .ok_or_else(ApiError::not_found)?;
    if !jiesu_domain::auth::own_grid_report(&actor, &t) {
        return Err(ApiError::not_found());
    }
    let image = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("image/"));
    if !image {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_an_image",
            "a grid report's photo is an image (Content-Type: image/…)",
            "网格上报的照片须为图片（Content-Type: image/…）",
        ));
    }
    let name = crate::attachments::clean_name(q.name.as_deref().unwrap_or("photo.jpg"));
    let v = crate::attachments::store_file(&st, &actor, &t, name, &headers, body).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}
