//! 透明度 — the event log's public proofs: the checkpoint signing key, the signed checkpoints,
//! consistency proofs between them, and a citizen's inclusion proofs for their own ticket's
//! timeline (behind the tracking code). Public, limited per client address; hashes are standard
//! base64 as in the checkpoints' notes (docs/SECURITY.md, "Verifying the log").

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jiesu_store::{Checkpoint, LogKey};
use serde::{Deserialize, Serialize};

fn b64(h: &[u8]) -> String {
    B64.encode(h)
}

/// The log's signing key, public part (签名公钥).
#[derive(Serialize, schemars::JsonSchema)]
pub struct KeyView {
    /// The log's origin: the first line of every checkpoint and the signature's key name.
    pub origin: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The 32-byte Ed25519 public key, base64.
    pub public_key: String,
    /// The signed-note key ID (first 4 bytes of SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ key)), hex.
    pub key_id: String,
    /// The C2SP verifier key `origin+keyid+base64(0x01 ‖ key)` (for `golang.org/x/mod/sumdb/note`).
    pub verifier_key: String,
}

impl From<LogKey> for KeyView {
    fn from(k: LogKey) -> Self {
        KeyView {
            key_id: k.key_id().iter().map(|b| format!("{b:02x}")).collect(),
            verifier_key: k.verifier_key(),
            public_key: b64(&k.public_key),
            algorithm: "Ed25519".into(),
            origin: k.origin,
        }
    }
}

/// One signed checkpoint (签名检查点).
#[derive(Serialize, schemars::JsonSchema)]
pub struct CheckpointView {
    /// Events covered: positions 0 … tree_size − 1.
    pub tree_size: u64,
    /// The Merkle root (RFC 9162 MTH), base64.
    pub root_hash: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The C2SP signed note: checkpoint text, a blank line, the signature line.
    pub note: String,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        CheckpointView {
            tree_size: c.tree_size,
            root_hash: b64(&c.root),
            at: c.at,
            note: c.note,
        }
    }
}

/// The latest checkpoint and a page of checkpoints, newest first.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CheckpointPage {
    pub latest: Option<CheckpointView>,
    /// Events in the log now (those past the latest checkpoint are not yet in a checkpoint).
    pub log_size: u64,
    pub items: Vec<CheckpointView>,
    /// The `before` of the next (older) page, if there are more.
    pub next_before: Option<u64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct CheckpointQuery {
    /// Only checkpoints smaller than this tree size (the page after `next_before`).
    pub before: Option<u64>,
    /// Page size, 1–100 (20 by default).
    pub limit: Option<usize>,
}

/// A consistency proof between two checkpoints.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ConsistencyView {
    pub from: u64,
    pub to: u64,
    pub from_root: String,
    pub to_root: String,
    /// RFC 9162 §2.1.4 consistency proof, base64 hashes in order.
    pub proof: Vec<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ConsistencyQuery {
    /// The older checkpoint's tree size.
    pub from: u64,
    /// The newer checkpoint's tree size.
    pub to: u64,
}

/// One of the ticket's events in the log.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ProvenEvent {
    /// Its number in the ticket's log (1, 2, …).
    pub seq: u32,
    /// Its position in the whole log (the leaf index).
    pub pos: u64,
    /// Its leaf hash (the stored event hash), base64.
    pub leaf_hash: String,
    /// Whether the citizen's timeline shows it (the internal ones: hash only, no content).
    pub public: bool,
    /// The timeline entry as `GET /api/v1/track/{number}` shows it (public events only).
    pub entry: Option<serde_json::Value>,
    /// The inclusion proof (audit path) in the checkpoint's tree, base64; none when the event
    /// is newer than the checkpoint (not yet in a checkpoint).
    pub proof: Option<Vec<String>>,
}

/// A citizen's ticket timeline with the proofs that every event is in the signed log.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TimelineProof {
    pub number: String,
    /// The checkpoint the proofs are against (none before the first checkpoint).
    pub checkpoint: Option<CheckpointView>,
    pub key: KeyView,
    pub events: Vec<ProvenEvent>,
    /// Events newer than the checkpoint: not yet in a checkpoint (in the next daily one).
    pub pending: usize,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ProofQuery {
    /// The tracking code given at intake.
    pub code: Option<String>,
}

/// The per-address limit of the public transparency routes.
fn limited(st: &AppState, addr: crate::limits::ClientAddr) -> ApiResult<()> {
    crate::limits::per_address(
        st,
        addr,
        "transparency",
        st.limiter.limits.transparency_per_hour,
        "too many transparency requests from your address",
        "您所在地址访问透明度接口过于频繁",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> jiesu_store::Result<T> + Send + 'static,
) -> ApiResult<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// `GET /api/v1/transparency/key` — the public key checkpoints are signed with.
pub async fn key(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
) -> ApiResult<axum::Json<KeyView>> {
    limited(&st, addr)?;
    let s = st.store.clone();
    Ok(axum::Json(blocking(move || s.log_key()).await?.into()))
}

/// `GET /api/v1/transparency/checkpoints` — the latest checkpoint and a page of them.
pub async fn checkpoints(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    Query(q): Query<CheckpointQuery>,
) -> ApiResult<axum::Json<CheckpointPage>> {
    limited(&st, addr)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "the page size is 1 to 100",
            "每页条数为 1 至 100",
        ));
    }
    let s = st.store.clone();
    let (latest, size, mut items) = blocking(move || {
        Ok((
            s.latest_checkpoint()?,
            s.log_size()?,
            s.checkpoints(q.before, limit + 1)?,
        ))
    })
    .await?;
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(axum::Json(CheckpointPage {
        latest: latest.map(Into::into),
        log_size: size,
        next_before: if more {
            items.last().map(|c| c.tree_size)
        } else {
            None
        },
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// `GET /api/v1/transparency/consistency?from=M&to=N` — the proof that checkpoint N extends M.
pub async fn consistency(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<axum::Json<ConsistencyView>> {
    limited(&st, addr)?;
    if q.from > q.to {
        return Err(ApiError::invalid(
            "from",
            "from must not be larger than to",
            "from 不能大于 to",
        ));
    }
    let s = st.store.clone();
    let (a, b, proof) = blocking(move || {
        let (Some(a), Some(b)) = (s.checkpoint(q.from)?, s.checkpoint(q.to)?) else {
            return Ok((None, None, Vec::new()));
        };
        let p = s.consistency_proof(q.from, q.to)?;
        Ok((Some(a), Some(b), p))
    })
    .await?;
    let (Some(a), Some(b)) = (a, b) else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "from and to must both be tree sizes of checkpoints",
            "from 与 to 须为已有检查点的大小",
        ));
    };
    Ok(axum::Json(ConsistencyView {
        from: a.tree_size,
        to: b.tree_size,
        from_root: b64(&a.root),
        to_root: b64(&b.root),
        proof: proof.iter().map(|h| b64(h)).collect(),
    }))
}

/// `GET /api/v1/track/{number}/proof?code=…` — the ticket's events with their inclusion proofs
/// in the latest checkpoint (the tracking code and failure limits of the tracking route).
pub async fn track_proof(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    Path(number): Path<String>,
    Query(q): Query<ProofQuery>,
) -> ApiResult<axum::Json<TimelineProof>> {
    let (t, ev) =
        crate::tickets::tracked_ticket(&st, addr, &number, q.code.as_deref(), false).await?;
    let s = st.store.clone();
    let id = t.id;
    let (cp, key, proofs) = blocking(move || {
        let cp = s.latest_checkpoint()?;
        let size = cp.as_ref().map_or(0, |c| c.tree_size);
        Ok((cp, s.log_key()?, s.ticket_proofs(id, size)?))
    })
    .await?;
    let mut pending = 0;
    let events = proofs
        .into_iter()
        .map(|p| {
            let entry = ev
                .iter()
                .find(|e| e.seq == p.seq)
                .and_then(|e| crate::views::public_event(&st, e));
            if p.path.is_none() {
                pending += 1;
            }
            ProvenEvent {
                seq: p.seq,
                pos: p.pos,
                leaf_hash: b64(&p.leaf),
                public: entry.is_some(),
                entry,
                proof: p.path.map(|path| path.iter().map(|h| b64(h)).collect()),
            }
        })
        .collect();
    Ok(axum::Json(TimelineProof {
        number: t.number,
        checkpoint: cp.map(Into::into),
        key: key.into(),
        events,
        pending,
    }))
}
