//! Attachments (附件): the bytes are stored on disk beside the database (fsynced before the event
//! is written), the metadata in the database, the `attachment_added` event in the ticket's log.

use crate::auth::{new_token, Caller};
use crate::error::{ApiError, ApiResult};
use crate::tickets::load_visible;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use jiesu_domain::auth::authorize;
use jiesu_domain::command::{execute, Command};
use jiesu_domain::TicketState;
use jiesu_store::AttachmentRow;
use serde::Deserialize;
use serde_json::json;
use std::io::Write;

/// The largest attachment accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct UploadQuery {
    pub(crate) name: Option<String>,
}

pub(crate) fn clean_name(n: &str) -> String {
    let base = n.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if s.trim().is_empty() {
        "attachment".into()
    } else {
        s
    }
}

/// `POST /api/v1/tickets/{id}/attachments?name=photo.jpg` with the file as the body.
pub async fn upload(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (t, _) = load_visible(&st, &actor, id).await?;
    crate::auth::require_action(&actor, jiesu_domain::Action::Attach)?;
    let name = clean_name(q.name.as_deref().unwrap_or("attachment"));
    let v = store_file(&st, &actor, &t, name, &headers, body).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// Stores an attached file and writes its `attachment_added` event (the domain authorizes the
/// attach on the ticket being changed): the one path of staff attachments and grid photos.
pub(crate) async fn store_file(
    st: &AppState,
    actor: &jiesu_domain::auth::Actor,
    t: &TicketState,
    name: String,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<serde_json::Value> {
    if body.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty", "文件为空"));
    }
    if body.len() > MAX_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "files are limited to 10 MB",
            "附件不能超过 10 MB",
        ));
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() < 100)
        .map(str::to_string)
        .unwrap_or_else(|| {
            mime_guess::from_path(&name)
                .first_or_octet_stream()
                .to_string()
        });
    let att_id = new_token()[..24].to_string();
    let path = jiesu_store::attachment_files::attachment_path(
        &jiesu_store::attachment_files::attachments_dir(st.store.path()),
        t.id,
        &att_id,
    );
    let (p2, bytes) = (path.clone(), body.clone());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(p2.parent().unwrap_or(std::path::Path::new(".")))?;
        let mut f = std::fs::File::create(&p2)?;
        f.write_all(&bytes)?;
        f.sync_all()
    })
    .await?
    .map_err(|e| ApiError::internal(format!("cannot store the file: {e}")))?;
    let row = AttachmentRow {
        id: att_id.clone(),
        ticket_id: t.id,
        file_name: name.clone(),
        content_type: ctype.clone(),
        size: body.len() as u64,
        stored_path: path.to_string_lossy().to_string(),
        created_at: jiesu_store::time::fmt(st.now()),
    };
    let (s2, a2, now) = (st.clone(), actor.clone(), st.now());
    let cmd = Command::Attach {
        id: att_id.clone(),
        file_name: name.clone(),
        content_type: ctype.clone(),
        size: body.len() as u64,
    };
    let r = tokio::task::spawn_blocking(move || {
        let org = s2.org.clone();
        s2.store.attach(
            row,
            Box::new(move |t: &mut TicketState| {
                authorize(&a2, &cmd, t, &org)?;
                Ok(execute(t, &cmd, &a2.to_ref(None), now)?)
            }),
        )
    })
    .await?;
    if let Err(e) = r {
        let _ = std::fs::remove_file(&path);
        return Err(e.into());
    }
    Ok(
        json!({"id": att_id, "file_name": name, "content_type": ctype, "size": body.len(),
                      "href": format!("/api/v1/tickets/{}/attachments/{}", t.id, att_id)}),
    )
}

/// `GET /api/v1/tickets/{id}/attachments/{att}` — for those who may see the ticket.
pub async fn download(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, att)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let _ = load_visible(&st, &actor, id).await?;
    let s2 = st.clone();
    let row = tokio::task::spawn_blocking(move || s2.store.attachment(&att))
        .await??
        .filter(|r| r.ticket_id == id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such attachment",
                "附件不存在",
            )
        })?;
    // the city's attachments folder first: a restored or moved city finds its files there;
    // the path recorded when the file was written otherwise
    let here = jiesu_store::attachment_files::attachment_path(
        &jiesu_store::attachment_files::attachments_dir(st.store.path()),
        id,
        &row.id,
    );
    let p = if here.is_file() {
        here
    } else {
        std::path::PathBuf::from(&row.stored_path)
    };
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(p))
        .await?
        .map_err(|e| ApiError::internal(format!("attachment file missing: {e}")))?;
    let disp = format!("attachment; filename*=UTF-8''{}", percent(&row.file_name));
    Ok((
        [
            (header::CONTENT_TYPE, row.content_type),
            (header::CONTENT_DISPOSITION, disp),
        ],
        bytes,
    ))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
