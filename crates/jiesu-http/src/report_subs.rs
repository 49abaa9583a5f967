//! 报告订阅 — report subscriptions: a user who may read reports (a unit's manager, a leader's
//! office through the centre's accounts) picks the kinds they want (日通报 / 周汇总 / 月分析) and,
//! if they like, a webhook of their own. The outbox posts each new report of a subscribed kind to
//! that webhook, signed like every webhook (`X-Jiesu-Signature`), at least once: each subscription
//! keeps the newest report id delivered (its cursor) and moves it only after the POST is answered.
//! The inbox shows the subscribed kinds first.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use jiesu_analytics::bulletin::BulletinKind;
use jiesu_domain::capability::Capability;
use jiesu_store::ReportSubscription;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kinds in the order they are offered.
const KINDS: [&str; 3] = ["daily", "weekly", "monthly"];

/// The longest webhook address accepted.
const URL_MAX: usize = 500;

/// One kind of report and whether the caller subscribes to it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SubscriptionItem {
    /// `daily` (日通报), `weekly` (周汇总) or `monthly` (月分析).
    pub kind: String,
    /// Whether the caller subscribes.
    pub subscribed: bool,
    /// The caller's own webhook for this kind, if any.
    pub webhook_url: Option<String>,
    /// Since when (null when not subscribed).
    pub since: Option<DateTime<Utc>>,
}

/// `GET/PUT /api/v1/analytics/reports/subscriptions` answer: every kind, subscribed or not.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Subscriptions {
    /// Daily, weekly, monthly.
    pub items: Vec<SubscriptionItem>,
}

/// One subscription to set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionWanted {
    /// daily, weekly or monthly.
    pub kind: String,
    /// An `http://` address to POST each new report of this kind to (signed); none for the inbox
    /// only.
    pub webhook_url: Option<String>,
}

/// `PUT /api/v1/analytics/reports/subscriptions` body: the caller's whole set (kinds left out are
/// unsubscribed).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsBody {
    /// The kinds subscribed to, each once.
    pub subscriptions: Vec<SubscriptionWanted>,
}

fn view(subs: Vec<ReportSubscription>) -> Subscriptions {
    Subscriptions {
        items: KINDS
            .iter()
            .map(|k| {
                let s = subs.iter().find(|s| s.kind == *k);
                SubscriptionItem {
                    kind: k.to_string(),
                    subscribed: s.is_some(),
                    webhook_url: s.and_then(|s| s.webhook_url.clone()),
                    since: s.map(|s| s.since),
                }
            })
            .collect(),
    }
}

/// Checks a subscriber's webhook: an `http://` address with a host (the outbox posts plain HTTP;
/// TLS ends in a proxy), at most 500 characters.
fn check_url(i: usize, url: &str) -> ApiResult<String> {
    let field = format!("subscriptions[{i}].webhook_url");
    let url = url.trim();
    let ok = url.len() <= URL_MAX
        && url.parse::<hyper::Uri>().ok().is_some_and(|u| {
            u.scheme_str() == Some("http") && u.host().is_some_and(|h| !h.is_empty())
        });
    if !ok {
        return Err(ApiError::invalid(
            &field,
            format!("'{url}' is not an http:// address with a host (at most {URL_MAX} characters)"),
            format!("“{url}”不是有效的 http:// 地址（须含主机名，不超过 {URL_MAX} 个字符）"),
        ));
    }
    Ok(url.to_string())
}

/// `GET /api/v1/analytics/reports/subscriptions` — the caller's subscriptions, every kind listed.
pub async fn get(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<Subscriptions>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let subs = tokio::task::spawn_blocking(move || s2.store.report_subscriptions(&user)).await??;
    Ok(Json(view(subs)))
}

/// `PUT /api/v1/analytics/reports/subscriptions` — replaces the caller's subscriptions (audited).
pub async fn put(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: crate::json::Json<SubscriptionsBody>,
) -> ApiResult<Json<Subscriptions>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let mut want: Vec<(String, Option<String>)> = Vec::new();
    for (i, s) in body.0.subscriptions.iter().enumerate() {
        let field = format!("subscriptions[{i}].kind");
        let k = BulletinKind::parse(&s.kind).ok_or_else(|| {
            ApiError::invalid(
                &field,
                format!("the report kind is daily, weekly or monthly, not '{}'", s.kind),
                format!(
                    "报告类型须为 daily（日通报）、weekly（周汇总）或 monthly（月分析），而不是“{}”",
                    s.kind
                ),
            )
        })?;
        if want.iter().any(|(w, _)| w == k.as_str()) {
            return Err(ApiError::invalid(
                &field,
                format!("'{}' is listed twice", s.kind),
                format!("“{}”重复出现", s.kind),
            ));
        }
        let url = match s.webhook_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(check_url(i, u)?),
        };
        want.push((k.as_str().to_string(), url));
    }
    let (s2, user, now) = (st.clone(), actor.user.clone(), st.now());
    let detail = want
        .iter()
        .map(|(k, u)| {
            if u.is_some() {
                format!("{k}+webhook")
            } else {
                k.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let subs = tokio::task::spawn_blocking(move || {
        let subs = s2.store.set_report_subscriptions(&user, &want, now)?;
        s2.store.audit(
            &user,
            "report_subscriptions",
            None,
            &format!("subscribed to [{detail}]"),
            now,
        )?;
        Ok::<_, jiesu_store::StoreError>(subs)
    })
    .await??;
    Ok(Json(view(subs)))
}

/// The kinds `user` subscribes to (for the inbox).
pub fn kinds_of(st: &AppState, user: &str) -> jiesu_store::Result<Vec<String>> {
    Ok(st
        .store
        .report_subscriptions(user)?
        .into_iter()
        .map(|s| s.kind)
        .collect())
}
