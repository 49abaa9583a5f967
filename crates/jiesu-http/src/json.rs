//! A JSON body extractor whose rejections are problem+json naming what is wrong.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

/// `application/json` or a `+json` type, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Pulls the field name out of serde's "missing field `x`" / "unknown variant" messages.
fn field_of(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_string())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // a body sent as something else (a form, text) is refused; no Content-Type is taken as
        // JSON (bodiless actions are posted without one)
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default();
            if !is_json(ct) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    format!("send the body as Content-Type: application/json, not {ct:?}"),
                    "请求内容类型应为 application/json",
                )
                .field("Content-Type"));
            }
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    return ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("the request body is too large: {e}"),
                        "请求内容过大",
                    );
                }
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    format!("cannot read the body: {e}"),
                    "无法读取请求内容",
                )
            })?;
        let bytes = if bytes.is_empty() {
            axum::body::Bytes::from_static(b"{}")
        } else {
            bytes
        };
        parse(&bytes).map(Json)
    }
}

/// Parses a JSON body as `T`, with the extractor's problem answers (400 not JSON, 422 naming the
/// field).
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error(&mut de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let msg = e.to_string();
            if e.is_syntax() || e.is_eof() {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {msg}"),
                    "请求内容不是合法的 JSON",
                ))
            } else {
                let f = field_of(&msg);
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("the body does not match the expected fields: {msg}"),
                    format!("请求字段有误：{}", f.clone().unwrap_or_default()),
                );
                err.field = f;
                Err(err)
            }
        }
    }
}

/// Parses an already-read JSON value as `T` with the same answers (for handlers that check the
/// caller's capability before they look at the body).
pub fn from_value<T: DeserializeOwned>(v: &serde_json::Value) -> Result<T, ApiError> {
    parse(&serde_json::to_vec(v).map_err(ApiError::internal)?)
}

fn serde_path_to_error<T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<T, serde_json::Error> {
    let v = T::deserialize(&mut *de)?;
    de.end()?;
    Ok(v)
}
