//! Errors as RFC 9457 `application/problem+json`, naming the field, in English and Chinese.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiesu_domain::auth::Denied;
use jiesu_domain::DomainError;
use jiesu_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub detail_zh: String,
    pub field: Option<String>,
    /// More members of the problem object (e.g. the line-numbered problems of an import).
    pub extra: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        detail: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            detail_zh: zh.into(),
            field: None,
            extra: None,
        }
    }
    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }
    pub fn invalid(field: &str, detail: impl Into<String>, zh: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail, zh).field(field)
    }
    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "ticket not found",
            "工单不存在",
        )
    }
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first: send Authorization: Bearer <token> from POST /api/v1/session",
            "请先登录",
        )
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; nothing was changed by this request",
            "系统内部错误，本次请求未做任何修改",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let mut body = serde_json::to_value(crate::views::Problem {
            kind: format!("https://jiesu.dev/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail,
            detail_zh: self.detail_zh,
            field: self.field,
        })
        .unwrap_or_default();
        if let Some(serde_json::Value::Object(m)) = self.extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        // a 429 of the abuse limits (`limits::too_many`) says when to come back
        if let Some(secs) = body.get("retry_after_seconds").and_then(|v| v.as_i64()) {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match e {
            DomainError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            DomainError::MalformedLog(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::CONFLICT,
        };
        ApiError {
            status,
            code: e.code(),
            detail: e.to_string(),
            detail_zh: e.zh(),
            field: e.field().map(str::to_string),
            extra: None,
        }
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        match e {
            Denied::OutOfScope => ApiError::not_found(),
            Denied::Role { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string(), e.zh())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Domain(d) => d.into(),
            StoreError::Denied(d) => d.into(),
            StoreError::Invalid {
                field,
                message,
                message_zh,
            } => ApiError::invalid(&field, message, message_zh),
            StoreError::Conflict(m) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                m,
                "数据已被他人修改，请刷新后重试",
            ),
            StoreError::Db(m) => ApiError::internal(m),
            // the stored events do not match their hash chain: refuse to serve them as if whole
            StoreError::Tampered(b) => {
                tracing::error!(ticket = b.ticket, seq = b.seq, reason = %b.reason, "event log integrity check failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "log-integrity",
                    format!(
                        "the stored history of this ticket fails its integrity check at event {} ({}); it is not served. An administrator can run `jiesu verify --db`",
                        b.seq, b.reason
                    ),
                    format!("该工单的存储记录未通过完整性校验（第 {} 条事件），暂不提供；请管理员运行 `jiesu verify --db` 检查", b.seq),
                )
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A `YYYY-MM-DD` query parameter as the first instant of that day in the city's time zone, or a
/// problem naming the field.
pub fn city_day(
    zone: jiesu_domain::CityZone,
    field: &str,
    s: &str,
) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| zone.start_of_day(d))
        .map_err(|_| ApiError::invalid(field, "a date YYYY-MM-DD", "日期格式应为 YYYY-MM-DD"))
}
