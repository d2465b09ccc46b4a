//! Serving the API over TCP with bounds a hostile or careless client cannot exhaust: a cap on
//! open connections (below the process's file-descriptor limit, keeping a reserve for storage
//! and the p2p network), a time limit on reading a request's headers (which also closes idle
//! keep-alive connections), a time limit on receiving its body, `413` before reading a body
//! declared too long, `414` for an overlong URL, a bound on request-body bytes in flight
//! across all requests, and a rate limit per client address (`429 rate-limited`). Every
//! refusal, the router's own included, is problem+json.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::api::problem;
use crate::config::Limits;

/// File descriptors kept for storage (journals, segment files, compactions), the p2p network
/// and the process itself, whatever the API's load: connections beyond
/// `open-file limit - FD_RESERVE` wait in the kernel's accept queue instead.
pub const FD_RESERVE: u64 = 256;
/// The longest URL (path and query) a request may have.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Bytes of a router refusal's plain-text body carried into its problem's `detail`.
const MAX_DETAIL_BYTES: usize = 1024;
/// How long a refused-for-load client is told to wait.
const RETRY_AFTER_S: &str = "1";
/// Client addresses whose request rate is tracked at once; beyond, idle ones are forgotten,
/// and if none is idle a new address is told to retry (`503 busy`).
const MAX_TRACKED_CLIENTS: usize = 65_536;
/// How long a stopping node waits for requests in progress (a live feed never ends).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// A client address unheard of for this long is forgotten.
const CLIENT_IDLE: Duration = Duration::from_secs(10);

/// Raises this process's soft open-file limit to its hard limit; returns the limit now in force
/// (`None` where it cannot be read).
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit write and read the struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The connection cap for a descriptor limit: the configured cap, and never more than the
/// limit less [`FD_RESERVE`] (at least 16, so a tiny limit still serves).
pub fn connection_cap(limits: &Limits, fd_limit: Option<u64>) -> usize {
    let by_fds = fd_limit.map_or(u64::MAX, |l| l.saturating_sub(FD_RESERVE).max(16));
    (limits.max_connections as u64).min(by_fds) as usize
}

/// The API's TLS settings from its PEM certificate chain and key (TLS 1.2 and 1.3, HTTP/1.1).
pub fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs =
        CertificateDer::pem_file_iter(cert).and_then(|it| it.collect::<Result<Vec<_>, _>>()).map_err(|e| format!("[tls] cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("[tls] cert {} holds no certificate", cert.display()));
    }
    crate::keys::check_private(key).map_err(|e| e.to_string())?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("[tls] key {}: {e}", key.display()))?;
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("[tls]: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| format!("[tls] cert {} and key {} do not make a server identity: {e}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Serves `app` on `listener` until `stop` resolves, then lets requests in progress finish.
/// With `tls`, every connection is TLS; its handshake shares the header timeout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    max_connections: usize,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let rate = Arc::new(RateLimiter::new(limits.max_requests_per_client_per_s));
    let app = with_limits(app, limits, rate);
    let slots = Arc::new(Semaphore::new(max_connections));
    let per_client = Arc::new(ClientConnections::new(limits.max_connections_per_client));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = Duration::from_millis(limits.header_timeout_ms);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    tokio::pin!(stop);
    loop {
        // A slot first: at the cap, new connections wait in the accept queue.
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off, go on.
                    tracing::warn!(error = %e, "accepting an API connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let Some(held) = per_client.admit(peer.ip()) else {
            tokio::spawn(refuse_connection(stream, slot));
            continue;
        };
        let slot = (slot, held);
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(Client(peer.ip()));
                app.clone().oneshot(req.map(Body::new))
            }
        });
        match &tls {
            None => {
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // Timeouts and client resets end connections; they are not the node's errors.
                    let _ = conn.await;
                    drop(slot);
                });
            }
            Some(acceptor) => {
                let handshake = acceptor.accept(stream);
                let (builder, watcher) = (builder.clone(), graceful.watcher());
                tokio::spawn(async move {
                    // The handshake within the header timeout: a client that opens and stalls
                    // holds its slot no longer than one that sends half a header.
                    let Ok(Ok(stream)) = tokio::time::timeout(header_timeout, handshake).await else {
                        drop(slot);
                        return;
                    };
                    let _ = watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await;
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    // Requests in progress finish; streams that never end (the live feed) are cut after this.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::info!("connections still open after {SHUTDOWN_GRACE:?} (live feeds); closing them");
    }
    Ok(())
}

/// The router with the request bounds applied and every refusal made problem+json.
fn with_limits(app: Router, limits: &Limits, rate: Arc<RateLimiter>) -> Router {
    let inflight = Arc::new(Semaphore::new(limits.max_inflight_request_bytes.min(Semaphore::MAX_PERMITS)));
    let max_body = limits.max_request_bytes;
    let body_timeout = Duration::from_millis(limits.body_timeout_ms);
    app.layer(axum::middleware::from_fn(move |req: Request, next: Next| {
        let inflight = Arc::clone(&inflight);
        async move { bounded(req, next, max_body, body_timeout, &inflight).await }
    }))
    .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
        let rate = Arc::clone(&rate);
        async move {
            match req.extensions().get::<Client>().map(|c| rate.admit(c.0)) {
                Some(Admit::Limited) => {
                    let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "too many requests from this address; retry shortly");
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
                    r
                }
                Some(Admit::Busy) => {
                    let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many clients at once; retry shortly");
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
                    r
                }
                Some(Admit::Yes) | None => next.run(req).await,
            }
        }
    }))
    .layer(axum::middleware::map_response(as_problem))
}

/// Refuses overlong URLs and declared-overlong bodies up front, limits the time a body takes to
/// arrive, and holds a share of the in-flight body budget while a request with a body is served.
async fn bounded(req: Request, next: Next, max_body: usize, body_timeout: Duration, inflight: &Semaphore) -> Response {
    let uri = req.uri();
    if uri.path().len() + uri.query().map_or(0, |q| q.len() + 1) > MAX_URI_BYTES {
        return problem(StatusCode::URI_TOO_LONG, "uri-too-long", format!("the URL is longer than {MAX_URI_BYTES} bytes"));
    }
    let declared = match req.headers().get(header::CONTENT_LENGTH).map(|v| v.to_str().ok().and_then(|s| s.parse::<u64>().ok())) {
        None => None,
        Some(Some(n)) => Some(n),
        Some(None) => return problem(StatusCode::BAD_REQUEST, "bad-request", "Content-Length is not a number"),
    };
    if declared.is_some_and(|n| n > max_body as u64) {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("the body is {} bytes, the limit is {max_body}", declared.unwrap_or_default()));
    }
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let bytes = match declared {
        Some(0) | None if !chunked => 0,
        Some(n) => n as usize,
        None => max_body, // chunked: it may grow to the limit
    };
    if bytes == 0 {
        return next.run(req).await;
    }
    let Ok(permit) = inflight.try_acquire_many(bytes.min(u32::MAX as usize) as u32) else {
        let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many request bytes are being received at once; retry shortly");
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
        return r;
    };
    // The whole body within one deadline (a body that trickles in is cut off), received while
    // holding its share of the in-flight budget, which is returned once it is in.
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, max_body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return problem(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("the body is longer than {max_body} bytes, or ended early")),
        Err(_) => return problem(StatusCode::REQUEST_TIMEOUT, "timeout", format!("the body did not arrive within {} ms", body_timeout.as_millis())),
    };
    drop(permit);
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Open connections per client address, bounded: the table holds only addresses with a
/// connection open, so it never outgrows the connection cap.
struct ClientConnections {
    max_per_client: usize,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One connection counted against its address; uncounted when dropped (the connection ended).
struct ClientSlot {
    table: Arc<ClientConnections>,
    ip: std::net::IpAddr,
}

impl ClientConnections {
    fn new(max_per_client: usize) -> Self {
        ClientConnections { max_per_client, open: Default::default() }
    }

    fn admit(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap();
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max_per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot { table: Arc::clone(self), ip })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap();
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A connection over its address's cap: one `429` problem, then closed (within the header
/// timeout's spirit: a short write deadline, so a client that does not read holds nothing).
async fn refuse_connection(mut stream: tokio::net::TcpStream, slot: tokio::sync::OwnedSemaphorePermit) {
    use tokio::io::AsyncWriteExt as _;
    let body =
        cairn_module::problem_body(StatusCode::TOO_MANY_REQUESTS, "too-many-connections", "too many open connections from this address; close some and retry")
            .to_string();
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/problem+json\r\nretry-after: {RETRY_AFTER_S}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(response.as_bytes())).await;
    let _ = stream.shutdown().await;
    drop(slot);
}

/// The address a request came from (set by the accept loop).
#[derive(Clone, Copy)]
struct Client(std::net::IpAddr);

enum Admit {
    Yes,
    Limited,
    Busy,
}

/// A token bucket per client address: `per_s` requests a second, bursts of twice that.
struct RateLimiter {
    per_s: f64,
    buckets: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (f64, std::time::Instant)>>,
}

impl RateLimiter {
    fn new(per_s: u32) -> Self {
        RateLimiter { per_s: f64::from(per_s), buckets: Default::default() }
    }

    fn admit(&self, ip: std::net::IpAddr) -> Admit {
        let now = std::time::Instant::now();
        let burst = 2.0 * self.per_s;
        let mut buckets = self.buckets.lock().unwrap();
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&ip) {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < CLIENT_IDLE);
            if buckets.len() >= MAX_TRACKED_CLIENTS {
                return Admit::Busy;
            }
        }
        let (tokens, last) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_s).min(burst);
        *last = now;
        if *tokens < 1.0 {
            return Admit::Limited;
        }
        *tokens -= 1.0;
        Admit::Yes
    }
}

/// A refusal that is not yet problem+json (the router's and extractors' plain-text answers:
/// 404, 405, 413, 415, 400 for a bad query) becomes one, keeping its status and text.
async fn as_problem(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return res;
    }
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let text = axum::body::to_bytes(res.into_body(), MAX_DETAIL_BYTES).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::URI_TOO_LONG => "uri-too-long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "refused",
    };
    let detail = if detail.is_empty() { status.canonical_reason().unwrap_or("refused").to_string() } else { detail };
    let mut r = problem(status, code, detail);
    if let Some(v) = retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_is_limited_and_others_are_not() {
        let rate = RateLimiter::new(10);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let admitted = (0..100).filter(|_| matches!(rate.admit(a), Admit::Yes)).count();
        assert!((20..=22).contains(&admitted), "a burst of twice the rate: {admitted}");
        assert!(matches!(rate.admit(b), Admit::Yes));
    }

    #[test]
    fn the_cap_keeps_a_reserve_of_descriptors() {
        let limits = Limits::default();
        assert_eq!(connection_cap(&limits, Some(1024)), 1024 - FD_RESERVE as usize);
        assert_eq!(connection_cap(&limits, Some(100)), 16);
        assert_eq!(connection_cap(&limits, None), limits.max_connections);
        assert_eq!(connection_cap(&limits, Some(1 << 20)), limits.max_connections);
    }
}
