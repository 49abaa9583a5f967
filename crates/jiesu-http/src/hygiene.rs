//! HTTP hygiene of every answer (one middleware around the whole router, API and UI): the security
//! headers, `Cache-Control: no-store` on the API, and problem+json for the errors that axum
//! answers itself (405 with `Allow`, path and query-string rejections, body limits), so no
//! `/api/…` error is ever plain text. Written as a small axum middleware rather than taking
//! tower-http for four constant headers and one rewrite.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The Content-Security-Policy of every answer: scripts and style sheets only from the server
/// itself (no inline `<script>` or `<style>`, no `eval`), images also from `data:`/`blob:`
/// (attachment previews), no plug-ins, no framing. `style="…"` attributes are allowed
/// (`style-src-attr`) because ECharts writes them into its SVG text and tooltip markup; our own
/// code sets styles through the CSSOM. A style attribute cannot run script.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a printable document the server renders itself (a report's HTML): no script,
/// no fetch, nothing from anywhere, only its own inline `<style>` and `data:` images. A handler
/// sets it on its answer; [`secure`] keeps it instead of [`CSP`].
pub const DOCUMENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The largest plain-text error body that is carried into a problem's `detail`.
const MAX_DETAIL: usize = 4096;

/// The middleware: see the module's documentation.
pub async fn hygiene(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    if api && (res.status().is_client_error() || res.status().is_server_error()) {
        res = as_problem(res).await;
    }
    secure(&mut res, api);
    res
}

/// Puts the security headers on `res`, and `Cache-Control: no-store` when it is an API answer
/// (also used by the connection loop for the answers it gives before the router: 414, 431, 429).
pub fn secure(res: &mut Response, api: bool) {
    let h = res.headers_mut();
    let document = h
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes() == DOCUMENT_CSP.as_bytes());
    if !document {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api {
        // API answers can carry personal data: no cache keeps them
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// An error answer that is not problem+json yet (axum's own rejections) becomes one, keeping
/// its status and its `Allow` header; a query-string rejection becomes 422 naming the parameter.
async fn as_problem(res: Response) -> Response {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, MAX_DETAIL)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let problem = problem_of(parts.status, text.trim());
    let mut out = problem.into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// The problem for an axum rejection with status `status` and plain-text `text`.
fn problem_of(status: StatusCode, text: &str) -> ApiError {
    const QUERY: &str = "Failed to deserialize query string: ";
    if let Some(rest) = text.strip_prefix(QUERY) {
        // serde_path_to_error: "page: invalid digit found in string"
        let (field, why) = match rest.split_once(": ") {
            Some((f, why)) if !f.contains(' ') => (Some(f.to_string()), why),
            _ => (None, rest),
        };
        let field = field.or_else(|| backticked(rest));
        let name = field.clone().unwrap_or_else(|| "query".into());
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            format!("the query parameter {name} is not valid: {why}"),
            format!("查询参数 {name} 有误"),
        );
        e.field = Some(field.unwrap_or_else(|| "query".into()));
        return e;
    }
    let (code, en, zh): (&'static str, &str, &str) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed on this route; see the Allow header",
            "该接口不支持此请求方法",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "the request body is too large",
            "请求内容过大",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
            "请求内容类型应为 application/json",
        ),
        StatusCode::NOT_FOUND => ("not_found", "not found", "资源不存在"),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "the request was not received in time",
            "请求发送超时",
        ),
        s if s.is_server_error() => (
            "internal",
            "internal error; nothing was changed by this request",
            "系统内部错误，本次请求未做任何修改",
        ),
        _ => ("bad_request", "the request is not valid", "请求有误"),
    };
    let detail = if text.is_empty() || status.is_server_error() {
        en.to_string()
    } else {
        format!("{en}: {text}")
    };
    ApiError::new(status, code, detail, zh)
}

/// The first `` `name` `` of a serde message ("missing field `from`").
fn backticked(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_rejection_names_the_parameter() {
        let p = problem_of(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: page: invalid digit found in string",
        );
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p.field.as_deref(), Some("page"));
        let p = problem_of(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: missing field `from`",
        );
        assert_eq!(p.field.as_deref(), Some("from"));
    }
}
