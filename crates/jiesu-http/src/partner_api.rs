//! 合作渠道 — partners' signed requests (docs/CHANNELS.md): a district's WeChat account, a
//! utility's hotline, the grid system or the 110 linkage (110联动) files requests and replies to
//! transfers with its API key and an HMAC-SHA256 signature over the method, the path, a
//! timestamp, a nonce and the body. A stale timestamp (more than [`MAX_SKEW_SECONDS`] from the
//! server's clock) or a nonce seen before is refused, and nothing is filed.
//!
//! Headers: `X-Jiesu-Key` (the partner's API key), `X-Jiesu-Timestamp` (Unix seconds),
//! `X-Jiesu-Nonce` (16–64 of `A-Z a-z 0-9 - _`), `X-Jiesu-Signature` (lowercase hex of
//! HMAC-SHA256 keyed with the partner's secret, over [`string_to_sign`]).

use crate::error::{ApiError, ApiResult};
use crate::tickets::file_marked;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::Duration;
use jiesu_domain::auth::{authorize, Actor};
use jiesu_domain::command::execute;
use jiesu_domain::intake::{Filer, IntakeForm};
use jiesu_domain::ticket::{Channel, EmergencyService};
use jiesu_domain::{prepare, ActionRequest, TicketState};
use jiesu_store::{PartnerRecord, PartnerSigning};
use serde::Deserialize;
use serde_json::json;

/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// The text a partner signs: method, path (with its query, if any), timestamp, nonce and the
/// lowercase hex SHA-256 of the body, one per line (no line feed at the end).
pub fn string_to_sign(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        timestamp,
        nonce,
        hex::encode(Sha256::digest(body))
    )
}

/// The signature of `text` under `secret` (lowercase hex of HMAC-SHA256).
pub fn sign(secret: &str, text: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn refused(code: &'static str, en: &str, zh: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, en, zh)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A verified partner request: who sent it.
pub struct Signed {
    pub partner: PartnerRecord,
    pub signing: PartnerSigning,
}

/// Checks a signed request: the key, the signature (in constant time), the timestamp against
/// the server's clock, then records the nonce (a nonce is spent only by a request whose signature
/// holds, so nobody else can burn a partner's nonces).
pub async fn verify(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Signed> {
    let (Some(key), Some(ts), Some(nonce), Some(sig)) = (
        header(headers, "x-jiesu-key"),
        header(headers, "x-jiesu-timestamp"),
        header(headers, "x-jiesu-nonce"),
        header(headers, "x-jiesu-signature"),
    ) else {
        return Err(refused(
            "signature_missing",
            "a signed partner request needs the headers X-Jiesu-Key, X-Jiesu-Timestamp, X-Jiesu-Nonce and X-Jiesu-Signature (docs/CHANNELS.md)",
            "合作渠道请求须带 X-Jiesu-Key、X-Jiesu-Timestamp、X-Jiesu-Nonce 和 X-Jiesu-Signature 请求头",
        ));
    };
    if !(16..=64).contains(&nonce.len())
        || !nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "signature_invalid",
            "X-Jiesu-Nonce must be 16 to 64 letters, digits, '-' or '_'",
            "X-Jiesu-Nonce 须为 16 至 64 个字母、数字、“-”或“_”",
        ));
    }
    let invalid = || {
        refused(
            "signature_invalid",
            "the key or the signature is not valid",
            "密钥或签名无效",
        )
    };
    let hash = crate::open311::key_hash(key);
    let s2 = st.clone();
    let (partner, signing) = tokio::task::spawn_blocking(move || s2.store.partner_signing(&hash))
        .await??
        .ok_or_else(invalid)?;
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(uri.path());
    let text = string_to_sign(method.as_str(), path, ts, nonce, body);
    let given = hex::decode(sig).map_err(|_| invalid())?;
    let now = st.now();
    let holds = |secret: &str| {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(text.as_bytes());
        mac.verify_slice(&given).is_ok()
    };
    // the current secret, or the one a rotation replaced while its grace period runs (on the
    // server's clock)
    let by_previous = || {
        signing
            .previous
            .as_ref()
            .is_some_and(|(old, until)| now < *until && holds(old))
    };
    if !holds(&signing.secret) && !by_previous() {
        return Err(invalid());
    }
    let stale = || {
        refused(
            "signature_stale",
            &format!(
                "X-Jiesu-Timestamp is more than {MAX_SKEW_SECONDS} seconds from the server's clock ({}): check the partner's clock",
                now.timestamp()
            ),
            &format!(
                "X-Jiesu-Timestamp 与服务器时间（{}）相差超过 {MAX_SKEW_SECONDS} 秒，请校准时钟",
                now.timestamp()
            ),
        )
    };
    let ts: i64 = ts.parse().map_err(|_| stale())?;
    if (now.timestamp() - ts).abs() > MAX_SKEW_SECONDS {
        return Err(stale());
    }
    let (s2, n, id) = (st.clone(), nonce.to_string(), partner.id);
    let fresh = tokio::task::spawn_blocking(move || {
        s2.store
            .use_partner_nonce(id, &n, now, now - Duration::seconds(2 * MAX_SKEW_SECONDS))
    })
    .await??;
    if !fresh {
        return Err(refused(
            "signature_replayed",
            "this X-Jiesu-Nonce was used before: a replayed request is not filed again",
            "该 X-Jiesu-Nonce 已使用过：重放的请求不予受理",
        ));
    }
    Ok(Signed { partner, signing })
}

/// The JSON body of a signed request.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(
            "body",
            format!("the body is not valid JSON of this request: {e}"),
            "请求内容不是有效的 JSON",
        )
    })
}

/// `POST /api/v1/partner/tickets` — a partner files a request (signed; the intake form as JSON,
/// the partner's own channel; `Idempotency-Key` supported): the same intake as every route.
pub async fn file(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let signed = verify(&st, &method, &uri, &headers, &body).await?;
    let mut form: IntakeForm = parse_body(&body)?;
    // the partner's channel, whatever the body says
    form.channel = Some(signed.partner.channel.clone());
    if Channel::parse(&signed.partner.channel).is_none() {
        return Err(ApiError::internal(format!(
            "partner {} has an unknown channel {}",
            signed.partner.name, signed.partner.channel
        )));
    }
    let actor = jiesu_domain::ActorRef {
        user: format!("partner:{}", signed.partner.name),
        role: jiesu_domain::Role::Citizen,
        unit: None,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| format!("partner:{}:{k}", signed.partner.id));
    let (created, pushed) = file_marked(&st, form, Filer::Public, actor, key).await?;
    let t = &created.state;
    let code = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        code,
        axum::Json(json!({
            "number": t.number,
            "channel": t.intake.channel.as_str(),
            "status": t.status.as_str(),
            "status_label": t.status.label_zh(),
            "tracking_code": created.tracking_code,
            "replayed": created.replayed,
            "risk": t.intake.risk.as_ref().map(crate::risk::view),
            "risk_alert": pushed.risk_alert,
        })),
    ))
}

/// The body of a partner's reply to a transfer.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TransferReplyForm {
    /// `accepted`, `declined` or `handled`.
    pub outcome: String,
    /// The reply in words.
    pub text: String,
    /// The partner's own case number.
    #[serde(default)]
    pub reference: Option<String>,
}

/// `POST /api/v1/partner/tickets/{number}/transfer-reply` — the service a ticket was transferred
/// to (a partner added with `--serves 110` …) replies: accepted, declined or handled. Recorded
/// as the domain's `transfer-reply` under the named system actor `partner:NAME`, so the domain
/// decides it like an agent's entry.
pub async fn transfer_reply(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let signed = verify(&st, &method, &uri, &headers, &body).await?;
    let Some(serves) = signed
        .signing
        .serves
        .as_deref()
        .and_then(EmergencyService::parse)
    else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this partner answers no transfers (add it with --serves 110, 119, 120 or 122)",
            "该合作渠道不受理转接（添加时须指定 --serves 110、119、120 或 122）",
        ));
    };
    let form: TransferReplyForm = parse_body(&body)?;
    let s2 = st.clone();
    let n2 = number.clone();
    let id = tokio::task::spawn_blocking(move || s2.store.ticket_id_by_number(&n2))
        .await??
        .ok_or_else(ApiError::not_found)?;
    // only a ticket transferred to this partner's service is its business
    let s2 = st.clone();
    let t = tokio::task::spawn_blocking(move || s2.store.load_ticket(id))
        .await??
        .ok_or_else(ApiError::not_found)?
        .0;
    if !t.transfers.iter().any(|x| x.to == serves) {
        return Err(ApiError::not_found());
    }
    let req = ActionRequest::TransferReply(jiesu_domain::prepare::TransferReplyBody {
        to: serves.as_str().into(),
        outcome: form.outcome,
        text: form.text,
        reference: form.reference,
    });
    let actor = Actor::system_named(&format!("partner:{}", signed.partner.name));
    let now = st.now();
    let s2 = st.clone();
    let change: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
        let cmd = crate::actions::with_context(&s2, now, None, |ctx| prepare(req, &actor, t, ctx))?;
        authorize(&actor, &cmd, t, &s2.org)?;
        Ok(execute(t, &cmd, &actor.to_ref(None), now)?)
    });
    let s3 = st.clone();
    let t = tokio::task::spawn_blocking(move || s3.store.update_ticket(id, change))
        .await??
        .0;
    let last = t.transfers.iter().rev().find(|x| x.to == serves);
    Ok(axum::Json(json!({
        "number": t.number,
        "transfer": last,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_to_sign_has_five_lines_and_the_body_hash() {
        let s = string_to_sign(
            "post",
            "/api/v1/partner/tickets",
            "1700000000",
            "n0nce-0123456789",
            b"{}",
        );
        assert_eq!(
            s,
            "POST\n/api/v1/partner/tickets\n1700000000\nn0nce-0123456789\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn a_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe"
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
