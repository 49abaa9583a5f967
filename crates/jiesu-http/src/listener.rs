//! The connection loop (HTTP/1.1 on hyper) with what `axum::serve` lacks:
//!
//! - **Read timeouts**: a client that has not sent a request's whole header within the timeout is
//!   disconnected, and so is one whose body stalls (no bytes for the timeout) — a half-sent
//!   request cannot hold a connection and its task for long. Hand-written on hyper's own builder
//!   (a timer and `header_read_timeout`) rather than taking tower-http for one body wrapper.
//! - **Head limits** (`--limit uri_max_bytes`, `header_max_bytes`): an over-long request-target is
//!   answered 414, over-large header fields 431, both problem+json, before the router. hyper has
//!   no hook for the body of the answers it gives itself (its parse errors get a bare status and
//!   a closed connection), so the limits are checked here, on the parsed head, and hyper's own
//!   read buffer is sized well above them (four times their sum): only a head larger than that,
//!   or one with more than hyper's 100 header fields, still gets hyper's bare 431 (and a URI over
//!   its 65,534-byte maximum its bare 414).
//! - **Connections per address** (`--limit connections_per_address`): the open connections of
//!   each TCP peer address are counted from `accept` until the connection's task ends. One over
//!   the limit is served a single answer, 429 problem+json with `Connection: close`, and closed;
//!   its peer's other connections carry on. The answer needs the request to be read, so it runs
//!   under the same read timeout; a peer holding as many refused connections again as the limit
//!   is refused without an answer (closed at once), so refusals cannot pile up either. The count
//!   is per socket peer, also with `--trust-proxy` (the forwarded address is only known once a
//!   request is read): behind a proxy it bounds the proxy's connections.

use crate::error::ApiError;
use crate::limits::Limits;
use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a client may take to send a request's header, and the longest pause in its body.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the connection loop enforces (`jiesu serve`'s settings).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnLimits {
    pub read_timeout: Duration,
    /// The longest request-target in bytes (414 beyond).
    pub uri_max_bytes: usize,
    /// The most bytes of header fields of one request (431 beyond).
    pub header_max_bytes: usize,
    /// Open connections of one peer address; 0 = no limit.
    pub connections_per_address: usize,
}

impl ConnLimits {
    /// The connection limits of `limits` (the abuse limits' settings) with `read_timeout`; with
    /// the limits off there is no connection count (the head limits stay: they are protocol
    /// hygiene, not counting).
    pub fn new(limits: &Limits, read_timeout: Duration) -> ConnLimits {
        ConnLimits {
            read_timeout,
            uri_max_bytes: limits.uri_max_bytes as usize,
            header_max_bytes: limits.header_max_bytes as usize,
            connections_per_address: if limits.enabled {
                limits.connections_per_address as usize
            } else {
                0
            },
        }
    }

    /// hyper's read buffer of a connection: four times the head limits (at least 64 KiB), so a
    /// head somewhat over them is still read whole and answered 414/431 in problem+json here.
    fn buffer(&self) -> usize {
        ((self.uri_max_bytes + self.header_max_bytes) * 4).max(64 * 1024)
    }
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits::new(&Limits::default(), DEFAULT_READ_TIMEOUT)
    }
}

/// The open connections per peer address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; dropping it (the connection's task ends) uncounts it.
struct ConnSlot {
    open: Arc<OpenConnections>,
    ip: IpAddr,
}

impl OpenConnections {
    /// Counts a new connection of `ip`: its slot and how many of `ip`'s are open with it.
    fn open(self: &Arc<Self>, ip: IpAddr) -> (ConnSlot, usize) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        *n += 1;
        let count = *n;
        (
            ConnSlot {
                open: self.clone(),
                ip,
            },
            count,
        )
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut map = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// The length of a request-target as sent: the path and query, and for the absolute form the
/// scheme and authority too.
fn uri_len(uri: &axum::http::Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len())
}

/// The bytes of a request's header fields as sent (`name: value` and the line end).
fn header_len(headers: &axum::http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum()
}

/// The 414 or 431 problem for a request head over the limits, if it is.
fn head_problem(
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    limits: &ConnLimits,
) -> Option<ApiError> {
    let n = uri_len(uri);
    if n > limits.uri_max_bytes {
        let max = limits.uri_max_bytes;
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request's URI is {n} bytes, over the limit of {max} bytes"),
            format!("请求地址过长：共 {n} 字节，上限 {max} 字节"),
        ));
    }
    let n = header_len(headers);
    if n > limits.header_max_bytes {
        let max = limits.header_max_bytes;
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request's header fields are {n} bytes, over the limit of {max} bytes"),
            format!("请求头过大：共 {n} 字节，上限 {max} 字节"),
        ));
    }
    None
}

/// The 429 for a connection over `limit` open connections of its address.
fn too_many_connections(limit: usize) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_connections",
        format!(
            "too many open connections from your address (the limit is {limit}); close some and try again"
        ),
        format!("来自您地址的同时连接过多（上限 {limit} 个），请关闭部分连接后再试"),
    );
    e.extra = Some(serde_json::json!({ "retry_after_seconds": 1 }));
    e
}

/// An answer of the connection loop itself: the problem with the security headers, and the
/// connection closed after it.
fn loop_answer(e: ApiError, path: &str) -> Response {
    let mut res = e.into_response();
    crate::hygiene::secure(&mut res, path.starts_with("/api/"));
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting (the listening
/// socket is closed at once), closes idle connections and lets the open ones finish their
/// requests (up to `grace`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
    grace: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(OpenConnections::default());
    let limits = Arc::new(limits);
    let read_timeout = limits.read_timeout;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // out of file descriptors and the like: wait a moment, keep serving
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (slot, count) = open.open(peer.ip());
        let max = limits.connections_per_address;
        if max > 0 && count > max {
            if count > 2 * max {
                // as many refusals in flight as the limit: close without reading
                tracing::debug!("connection from {peer} closed: {count} open");
                continue;
            }
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let res = loop_answer(too_many_connections(max), req.uri().path());
                async move { Ok::<_, std::convert::Infallible>(res) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _ = conn.await;
                drop(slot);
            });
            continue;
        }
        let app = app.clone();
        let head_limits = limits.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut app = app.clone();
            let refused = head_problem(req.uri(), req.headers(), &head_limits)
                .map(|e| loop_answer(e, req.uri().path()));
            let mut req =
                req.map(|b| axum::body::Body::new(StallingBodyTimeout::new(b, read_timeout)));
            // the peer's address reaches the abuse limits (`limits::ClientAddr`) as axum's
            // `ConnectInfo`, as `into_make_service_with_connect_info` would give it
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(peer));
            async move {
                match refused {
                    Some(res) => Ok(res),
                    None => tower_service::Service::call(&mut app, req).await,
                }
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(read_timeout)
            .max_buf_size(limits.buffer())
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!("requests still running after {} s; closing them", grace.as_secs());
        }
    }
    Ok(())
}

/// A request body that fails when no bytes arrive for `timeout` (the handler's body read then
/// fails and the connection is closed after its answer).
struct StallingBodyTimeout {
    inner: Incoming,
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl StallingBodyTimeout {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        StallingBodyTimeout {
            inner,
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// The error of a stalled body.
#[derive(Debug)]
struct BodyStalled;

impl std::fmt::Display for BodyStalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body stalled past the read timeout")
    }
}

impl std::error::Error for BodyStalled {}

impl Body for StallingBodyTimeout {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(r) => {
                let deadline = tokio::time::Instant::now() + this.timeout;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(r.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyStalled)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_over_the_limits_are_refused_by_status() {
        let l = ConnLimits::default();
        let ok: axum::http::Uri = "/api/v1/enums?x=1".parse().unwrap();
        let long: axum::http::Uri = format!("/api/v1/enums?q={}", "a".repeat(9000))
            .parse()
            .unwrap();
        let mut h = axum::http::HeaderMap::new();
        assert!(head_problem(&ok, &h, &l).is_none());
        assert_eq!(
            head_problem(&long, &h, &l).map(|e| e.status),
            Some(StatusCode::URI_TOO_LONG)
        );
        for i in 0..20 {
            h.insert(
                axum::http::HeaderName::try_from(format!("x-pad-{i}")).unwrap(),
                HeaderValue::from_str(&"b".repeat(2000)).unwrap(),
            );
        }
        assert_eq!(
            head_problem(&ok, &h, &l).map(|e| e.status),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn a_closed_connection_is_uncounted() {
        let open = Arc::new(OpenConnections::default());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (a, n) = open.open(ip);
        assert_eq!(n, 1);
        let (_b, n) = open.open(ip);
        assert_eq!(n, 2);
        drop(a);
        let (_c, n) = open.open(ip);
        assert_eq!(n, 2);
        assert_eq!(open.open("10.0.0.1".parse().unwrap()).1, 1);
    }
}
