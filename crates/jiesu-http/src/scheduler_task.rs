//! The reminder scheduler beside the server. Each pass reads the open assignments through the
//! store, lets `jiesu_routing::reminders_due` decide which reminders and overdue marks are due at
//! `now`, and writes each as the scheduler — a named system actor — through
//! `jiesu_domain::auth::authorize` and the domain, inside the write transaction, like any other
//! command.

use crate::AppState;
use chrono::{DateTime, Utc};
use jiesu_domain::auth::{authorize, Actor};
use jiesu_domain::command::execute;
use jiesu_domain::TicketState;
use jiesu_routing::{ClockKind, OpenAssignment};
use jiesu_store::StoreError;

/// 系统调度 — the actor the scheduler's commands are recorded under (`scheduler`, role system).
pub fn scheduler_actor() -> Actor {
    Actor {
        user: "scheduler".into(),
        ..Actor::system()
    }
}

/// A stored open assignment as the scheduler's decision reads it (times parsed; a start that
/// does not parse is taken as `now`).
fn open_assignment(a: jiesu_store::OpenAssignment, now: DateTime<Utc>) -> OpenAssignment {
    let time = |s: &str| jiesu_store::time::parse(s);
    let reminders = a
        .reminders
        .iter()
        .filter_map(|(clock, (epoch, n))| {
            let k = ClockKind::ALL.into_iter().find(|k| k.as_str() == clock)?;
            Some((k, *epoch, *n))
        })
        .collect();
    OpenAssignment {
        ticket: a.ticket_id,
        tier: jiesu_domain::ticket::DeadlineTier::parse(&a.tier),
        state: jiesu_domain::AssignmentState::parse(&a.state),
        dispatched_at: time(&a.dispatched_at).unwrap_or(now),
        signed_at: a.signed_at.as_deref().and_then(time),
        responded_at: a.responded_at.as_deref().and_then(time),
        sign_due: time(&a.sign_deadline),
        respond_due: time(&a.respond_deadline),
        finish_due: time(&a.finish_deadline),
        extensions_granted: a.extensions_granted,
        reminders,
        unit: a.unit_code,
        category: a.category_code,
    }
}

/// One scheduler pass: every threshold passed by an open clock becomes a `reminded` event, exactly
/// once (the domain refuses a reminder already recorded, inside the write transaction, so restarts
/// and overlapping passes cannot duplicate; missed thresholds after downtime are all caught up).
pub fn scheduler_pass(st: &AppState, now: DateTime<Utc>) -> jiesu_store::Result<usize> {
    let mut open = Vec::new();
    st.store.open_assignments(&mut |a| {
        open.push(open_assignment(a, now));
        Ok(())
    })?;
    let due = jiesu_routing::reminders_due(
        &open,
        &st.deadlines.policy,
        &st.deadlines.calendar,
        &st.thresholds,
        now,
    );
    let actor = scheduler_actor();
    let mut written = 0;
    for r in due {
        let cmd = r.command();
        let (actor, org) = (actor.clone(), st.org.clone());
        match st.store.update_ticket(
            r.ticket,
            Box::new(move |t: &mut TicketState| {
                authorize(&actor, &cmd, t, &org)?;
                Ok(execute(t, &cmd, &actor.to_ref(Some(&r.unit)), now)?)
            }),
        ) {
            Ok(_) => written += 1,
            Err(StoreError::Domain(_)) => {} // already recorded, or the clock was met meanwhile
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

/// The retention pass (保存期限): the personal data of archived tickets closed at least
/// `retention_years` ago is erased by a `personal_data_erased` event, written as the scheduler
/// through the domain (which decides whether it is due); the store deletes the ticket's data key
/// in the same transaction. The ticket, its timeline and its figures stay. A bounded batch per
/// pass, so a first run over years of history does not hold the writer for long.
pub fn retention_pass(st: &AppState, now: DateTime<Utc>) -> jiesu_store::Result<usize> {
    const BATCH: u32 = 500;
    if st.retention_years == 0 {
        return Ok(0);
    }
    let Some(cutoff) =
        now.checked_sub_months(chrono::Months::new(st.retention_years.saturating_mul(12)))
    else {
        return Ok(0);
    };
    let actor = scheduler_actor();
    let mut erased = 0;
    for id in st.store.retention_candidates(cutoff, BATCH)? {
        let cmd = jiesu_domain::command::Command::ErasePersonalData {
            retention_years: st.retention_years,
        };
        let (actor, org) = (actor.clone(), st.org.clone());
        match st.store.update_ticket(
            id,
            Box::new(move |t: &mut TicketState| {
                authorize(&actor, &cmd, t, &org)?;
                Ok(execute(t, &cmd, &actor.to_ref(None), now)?)
            }),
        ) {
            Ok(_) => erased += 1,
            Err(StoreError::Domain(_)) => {} // not due after all (reopened meanwhile)
            Err(e) => return Err(e),
        }
    }
    if erased > 0 {
        tracing::info!("retention: erased the personal data of {erased} archived tickets");
    }
    Ok(erased)
}

/// The daily checkpoint (每日检查点): once per city-local day (on the server's clock), a signed
/// checkpoint of the event log as it stands; nothing when today's is made already or the log has
/// not grown since the latest one. Answers whether one was made.
pub fn checkpoint_pass(st: &AppState, now: DateTime<Utc>) -> jiesu_store::Result<bool> {
    if let Some(last) = st.store.latest_checkpoint()? {
        if st.zone.date(last.at) >= st.zone.date(now) {
            return Ok(false);
        }
    }
    let (cp, made) = st.store.make_checkpoint(now)?;
    if made {
        tracing::info!(tree_size = cp.tree_size, "made the daily signed checkpoint");
    }
    Ok(made)
}

/// Runs the scheduler every `every` in the background (first pass at start-up: catch-up); on
/// shutdown (`Ops::begin_shutdown`) the pass under way finishes and the loop stops.
pub fn spawn_scheduler(st: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if st.ops.shutting_down() {
                break;
            }
            let t0 = std::time::Instant::now();
            let s2 = st.clone();
            let mut reminders = 0;
            match tokio::task::spawn_blocking(move || scheduler_pass(&s2, s2.now())).await {
                Ok(Ok(n)) => {
                    reminders = n;
                    if n > 0 {
                        tracing::info!("scheduler: {n} reminder events");
                    }
                }
                Ok(Err(e)) => tracing::warn!("scheduler pass failed: {e}"),
                _ => {}
            }
            let s2 = st.clone();
            if let Ok(Err(e)) =
                tokio::task::spawn_blocking(move || retention_pass(&s2, s2.now())).await
            {
                tracing::warn!("retention pass failed: {e}");
            }
            let s2 = st.clone();
            if let Ok(Err(e)) =
                tokio::task::spawn_blocking(move || checkpoint_pass(&s2, s2.now())).await
            {
                tracing::warn!("checkpoint pass failed: {e}");
            }
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || crate::reports::report_pass(&s2, s2.now()))
                .await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!("reports: {n} generated"),
                Ok(Err(e)) => tracing::warn!("report pass failed: {}", e.detail),
                _ => {}
            }
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || crate::dept::export_pass(&s2, s2.now())).await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!("saved exports: {n} files made"),
                Ok(Err(e)) => tracing::warn!("export pass failed: {}", e.detail),
                _ => {}
            }
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || {
                crate::alerts::warn_pass(&s2, s2.now(), false)
            })
            .await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!("early warning: {n} alerts raised"),
                Ok(Err(e)) => tracing::warn!("early-warning pass failed: {}", e.detail),
                _ => {}
            }
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || {
                crate::street_work::prewarn_pass(&s2, s2.now())
            })
            .await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!("未进先治: {n} pre-warnings raised"),
                Ok(Err(e)) => tracing::warn!("pre-warning pass failed: {}", e.detail),
                _ => {}
            }
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || crate::reply_audit::audit_pass(&s2, s2.now()))
                .await
            {
                Ok(Ok(n)) if n > 0 => tracing::info!("reply audit: {n} findings stored"),
                Ok(Err(e)) => tracing::warn!("reply-audit pass failed: {}", e.detail),
                _ => {}
            }
            st.ops.scheduler_pass(t0.elapsed().as_secs_f64(), reminders);
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = st.ops.stopped() => break,
            }
        }
    })
}
