//! 测试时钟 — the test clock's one control: a server started with `jiesu serve --test-clock T`
//! runs its clock from `T` with the machine's monotonic time, and tests move it forward with
//! `POST /api/v1/test-clock` instead of sleeping. A server on the machine's clock answers 404.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use jiesu_domain::capability::Capability;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

/// How far to move the test clock.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct Advance {
    /// Seconds to move forward: 1 to 31 days' worth (2,678,400).
    pub advance_seconds: i64,
}

/// The server's time after the move.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ClockView {
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The longest single move (31 days).
const MAX_ADVANCE: i64 = 31 * 24 * 3600;

/// `POST /api/v1/test-clock` — moves a test clock forward and runs the scheduler's passes
/// (reminders, retention) at the new time (administrators; 404 without a test clock).
pub async fn advance(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<Advance>,
) -> ApiResult<axum::Json<ClockView>> {
    let offset = st.clock_offset.as_ref().ok_or_else(ApiError::not_found)?;
    require(&actor, Capability::ReferenceManage)?;
    if !(1..=MAX_ADVANCE).contains(&b.advance_seconds) {
        return Err(ApiError::invalid(
            "advance_seconds",
            format!("move the clock forward by 1 to {MAX_ADVANCE} seconds"),
            format!("时钟只能向前拨 1 至 {MAX_ADVANCE} 秒"),
        ));
    }
    offset.fetch_add(b.advance_seconds, Ordering::SeqCst);
    // what the clock's move makes due happens now, not at the next 30-second tick: the
    // scheduler's reminders, the retention pass, the day's checkpoint and the reports due (a test crossing
    // midnight or a retention period reads the result at once, without sleeping)
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || -> crate::error::ApiResult<()> {
        let now = s2.now();
        crate::scheduler_task::scheduler_pass(&s2, now)?;
        crate::scheduler_task::retention_pass(&s2, now)?;
        crate::scheduler_task::checkpoint_pass(&s2, now)?;
        crate::reports::report_pass(&s2, now)?;
        crate::dept::export_pass(&s2, now)?;
        crate::alerts::warn_pass(&s2, now, true)?;
        crate::street_work::prewarn_pass(&s2, now)?;
        crate::reply_audit::audit_pass(&s2, now)?;
        Ok(())
    })
    .await??;
    Ok(axum::Json(ClockView { now: st.now() }))
}
