//! MCP over streamable HTTP (`serve --http ADDR`): rmcp's `StreamableHttpService` on `/mcp`,
//! wrapped in what a shared, network-facing server needs and the SDK leaves to its host: a
//! bearer token, a body limit checked before the body is read, request and header timeouts, a
//! cap on connections, `/healthz`, and a drain on SIGTERM that lets in-flight requests finish.
//!
//! Stateless by default: every request is answered by a fresh handler over the one shared
//! offer, so any replica behind a load balancer can answer any request, of either protocol
//! generation (the `initialize` handshake of 2025-06-18 and 2025-11-25, or 2026-07-28's
//! per-request `_meta`). `--stateful` gives the handshake revisions sessions (`Mcp-Session-Id`),
//! which then need sticky routing; 2026-07-28 has no sessions and stays stateless either way.
//!
//! DNS-rebinding protection is rmcp's: the `Host` header must name an allowed host and a
//! browser's `Origin` an allowed origin, else 403. What this module adds runs before rmcp sees
//! the request, in this order: CORS preflight (`OPTIONS`, answered here for the allowed
//! origins, 403 for others), token (401), declared length (413), body read within the limit
//! and the timeout (413, 408), JSON-RPC envelope (400 with the JSON-RPC error), and in
//! `--stateful` mode the cap on live sessions (503 with a JSON-RPC error past it). Answers to
//! an allowed origin carry the CORS headers that let a browser-based client read them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorCode, ErrorData, JsonRpcMessage, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::handler::{AdvisorServer, Offer};

/// Hosts always accepted in the `Host` header: the loopback names.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Methods that 2026-07-28 removed: on that wire they are unknown (404, -32601), whatever
/// their params.
const REMOVED_IN_2026_07_28: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// The first revision without the `initialize` handshake.
const MODERN: &str = "2026-07-28";

/// How `serve --http` listens and what it accepts.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The address to bind, `HOST:PORT` (port 0 picks a free one, announced on stderr).
    pub addr: String,
    /// Browser origins accepted in the `Origin` header; empty means the loopback origins of the
    /// bound port. Requests without an `Origin` (non-browser clients) are not affected.
    pub allowed_origins: Vec<String>,
    /// Extra hosts accepted in the `Host` header, beside the loopback names and the bound IP;
    /// `*` turns the check off (for a proxy that checks `Host` itself).
    pub allowed_hosts: Vec<String>,
    /// The bearer token every `/mcp` request must carry, if any.
    pub token: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Sessions for the handshake revisions (2025-06-18, 2025-11-25) instead of stateless.
    pub stateful: bool,
    /// The longest a request may take, body upload included.
    pub request_timeout: Duration,
    /// The longest a connection may take to send a request's headers, and stay idle between
    /// requests.
    pub header_timeout: Duration,
    /// How long SIGTERM waits for in-flight requests before giving up on them.
    pub shutdown_grace: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Live sessions held at once in `stateful` mode; an `initialize` past it gets 503.
    pub max_sessions: usize,
}

/// State shared by the middleware of every connection.
struct Gate {
    token: Option<String>,
    max_body_bytes: usize,
    request_timeout: Duration,
    /// Cancelled on SIGTERM: `/healthz` then answers 503 so that load balancers stop routing
    /// here, and standalone event streams (GET, stateful mode) end so that their connections
    /// can close.
    draining: CancellationToken,
    /// The browser origins allowed (rmcp refuses others): CORS answers only these.
    origins: Vec<String>,
    /// rmcp's sessions, in `stateful` mode, and how many may be live at once.
    sessions: Option<Arc<LocalSessionManager>>,
    max_sessions: usize,
    /// Held while a session opens, so that two `initialize` requests cannot both take the
    /// last place.
    opening: tokio::sync::Mutex<()>,
}

/// Serves MCP over streamable HTTP until SIGTERM or SIGINT, then drains and returns.
pub fn serve_http(offer: Arc<Offer>, options: HttpOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(offer, options, crate::shutdown::requested()))
}

/// The server proper, until `stop` completes (on SIGTERM or SIGINT).
async fn run(
    offer: Arc<Offer>,
    options: HttpOptions,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr = resolve(&options.addr)?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        tracing::warn!(
            address = %bound,
            token = options.token.is_some(),
            "listening on a non-loopback address: other hosts can reach this server{}",
            if options.token.is_some() { "" } else { " and, without --token-env, call it" }
        );
    }

    let sessions_end = CancellationToken::new();
    let config = rmcp_config(&options, bound, sessions_end.clone());
    let sessions = Arc::new(LocalSessionManager::default());
    let mcp = StreamableHttpService::new(
        move || Ok(AdvisorServer::new(offer.clone())),
        sessions.clone(),
        config,
    );
    let gate = Arc::new(Gate {
        token: options.token.clone(),
        max_body_bytes: options.max_body_bytes,
        request_timeout: options.request_timeout,
        draining: CancellationToken::new(),
        origins: allowed_origins(&options, bound),
        sessions: options.stateful.then_some(sessions),
        max_sessions: options.max_sessions.max(1),
        opening: tokio::sync::Mutex::new(()),
    });
    let app = Router::new()
        .route_service("/mcp", mcp)
        .route_layer(middleware::from_fn_with_state(gate.clone(), guard_mcp))
        .route("/healthz", get(healthz))
        .with_state(gate.clone());

    // The one line a script or test reads to learn the port; stdout stays silent.
    eprintln!(
        "scale-advisor: serving MCP on http://{bound}/mcp ({})",
        if options.stateful {
            "stateful"
        } else {
            "stateless"
        }
    );
    tracing::info!(address = %bound, stateful = options.stateful, "serving streamable HTTP");

    // One permit per connection; at shutdown, holding them all means every connection is gone.
    let limit = options.max_connections.clamp(1, 1 << 20);
    let connections = Arc::new(Semaphore::new(limit));
    let (close_tx, close_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of descriptors, or a connection reset before it was accepted: pause
                    // rather than spin, and keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let header_timeout = options.header_timeout;
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = close.changed() => {
                    // Finish the request in progress, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(error) = served {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }

    // Drain: refuse new connections (the listener closes), let each connection finish the
    // request it is on and close, end the standalone event streams, and wait for every
    // connection to be gone. Only then end rmcp's sessions: a request that hyper has read but
    // not yet handed over must still find rmcp serving.
    drop(listener);
    let all = u32::try_from(limit).unwrap_or(u32::MAX);
    let open = limit - connections.available_permits();
    tracing::info!(
        connections = open,
        "shutting down: finishing the requests in flight"
    );
    gate.draining.cancel();
    let _ = close_tx.send(true);
    let closing = tokio::time::timeout(options.shutdown_grace, connections.acquire_many(all));
    if closing.await.is_err() {
        let open = limit - connections.available_permits();
        tracing::warn!(
            connections = open,
            "the shutdown grace ended with requests still in flight; abandoning them"
        );
    }
    sessions_end.cancel();
    tracing::info!("stopped");
    Ok(())
}

/// `HOST:PORT`, `[IPv6]:PORT`, or a bare port (on 127.0.0.1).
fn resolve(addr: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = addr.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(parsed) = addr.parse::<SocketAddr>() {
        return Ok(parsed);
    }
    match addr.to_socket_addrs() {
        Ok(mut found) => found
            .next()
            .with_context(|| format!("`{addr}` resolves to no address")),
        Err(error) => bail!("--http takes HOST:PORT (e.g. 127.0.0.1:8080), not `{addr}`: {error}"),
    }
}

/// rmcp's transport settings: stateless unless asked, JSON answers, and the allow-lists.
fn rmcp_config(
    options: &HttpOptions,
    bound: SocketAddr,
    sessions_end: CancellationToken,
) -> StreamableHttpServerConfig {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(options.stateful)
        // A plain JSON body for a plain answer: simpler for clients, proxies and load tools;
        // rmcp falls back to SSE by itself when a handler sends a notification first.
        .with_json_response(!options.stateful)
        .with_allowed_origins(allowed_origins(options, bound))
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(sessions_end);
    if options.allowed_hosts.iter().any(|h| h == "*") {
        config = config.disable_allowed_hosts();
    } else {
        config = config.with_allowed_hosts(allowed_hosts(options, bound));
    }
    config
}

fn allowed_hosts(options: &HttpOptions, bound: SocketAddr) -> Vec<String> {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect();
    if !bound.ip().is_unspecified() && !bound.ip().is_loopback() {
        hosts.push(bound.ip().to_string());
    }
    hosts.extend(options.allowed_hosts.iter().cloned());
    hosts
}

/// The allowed origins: those given, else the loopback origins of the bound port.
fn allowed_origins(options: &HttpOptions, bound: SocketAddr) -> Vec<String> {
    if !options.allowed_origins.is_empty() {
        return options.allowed_origins.clone();
    }
    let port = bound.port();
    let mut origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("http://[::1]:{port}"),
    ];
    if let IpAddr::V4(ip) = bound.ip()
        && ip.is_loopback()
        && ip != Ipv4Addr::LOCALHOST
    {
        origins.push(format!("http://{ip}:{port}"));
    }
    origins
}

async fn healthz(State(gate): State<Arc<Gate>>) -> Response {
    if gate.draining.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::OK, "ok\n").into_response()
    }
}

/// Everything `/mcp` checks before rmcp sees the request; see the module doc for the order.
async fn guard_mcp(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let origin = request.headers().get(header::ORIGIN).cloned();
    let cors = origin
        .as_ref()
        .filter(|o| o.to_str().is_ok_and(|o| origin_allowed(o, &gate.origins)))
        .cloned();
    if method == Method::OPTIONS {
        return preflight(origin.as_ref(), cors);
    }
    let mut response = guard_and_forward(&gate, request, next).await;
    if let Some(origin) = cors {
        allow_origin(response.headers_mut(), origin);
    }
    if method == Method::GET {
        // A standalone event stream lasts as long as its session: end it when the server
        // drains, so that its connection closes and the drain does not wait for the client.
        let drained = Box::pin(gate.draining.clone().cancelled_owned());
        response = response.map(|body| {
            Body::new(UntilDrain {
                inner: body,
                drained,
            })
        });
    } else if method == Method::DELETE && response.status() == StatusCode::ACCEPTED {
        // rmcp acknowledges a session's end with 202; clients (the Python SDK among them)
        // expect the conventional 204 for a DELETE that succeeded with nothing to say.
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

async fn guard_and_forward(gate: &Gate, request: Request, next: Next) -> Response {
    if let Some(expected) = &gate.token
        && let Err(refusal) = check_token(request.headers().get(header::AUTHORIZATION), expected)
    {
        return refusal;
    }
    let started = tokio::time::Instant::now();
    let deadline = started + gate.request_timeout;
    let request = if request.method() == Method::POST {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > gate.max_body_bytes as u64) {
            return too_large(gate.max_body_bytes);
        }
        let (parts, body) = request.into_parts();
        let bytes = match tokio::time::timeout_at(deadline, read_limited(body, gate.max_body_bytes))
            .await
        {
            Err(_) => {
                return timed_out(
                    StatusCode::REQUEST_TIMEOUT,
                    gate.request_timeout,
                    "sending the request body",
                );
            }
            Ok(Err(BodyProblem::TooLarge)) => return too_large(gate.max_body_bytes),
            Ok(Err(BodyProblem::Broken(error))) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("Bad Request: the request body could not be read: {error}\n"),
                )
                    .into_response();
            }
            Ok(Ok(bytes)) => bytes,
        };
        let header_version = parts
            .headers
            .get("mcp-protocol-version")
            .and_then(|v| v.to_str().ok());
        if let Err(refusal) = check_envelope(&bytes, header_version) {
            return refusal;
        }
        let opens_session = gate.sessions.is_some()
            && !parts.headers.contains_key("mcp-session-id")
            && opens_a_session(&bytes).is_some();
        let request = Request::from_parts(parts, Body::from(bytes.clone()));
        if opens_session {
            return open_session(gate, &bytes, request, next, deadline).await;
        }
        request
    } else {
        request
    };
    match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(
            StatusCode::SERVICE_UNAVAILABLE,
            gate.request_timeout,
            "answering",
        ),
    }
}

/// The id of an `initialize` request, the message that opens a session in `stateful` mode.
fn opens_a_session(bytes: &[u8]) -> Option<Option<RequestId>> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    (value.get("method").and_then(Value::as_str) == Some("initialize")).then(|| {
        value
            .get("id")
            .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok())
    })
}

/// Forwards an `initialize` in `stateful` mode if a session may still open, else refuses it
/// with 503 and a JSON-RPC error that says what the limit is and how to make room.
async fn open_session(
    gate: &Gate,
    bytes: &[u8],
    request: Request,
    next: Next,
    deadline: tokio::time::Instant,
) -> Response {
    let Some(sessions) = &gate.sessions else {
        return next.run(request).await;
    };
    // rmcp adds the session to its table before it answers `initialize`, so holding this
    // until the answer makes the count below exact.
    let _opening = gate.opening.lock().await;
    let live = sessions.sessions.read().await.len();
    if live >= gate.max_sessions {
        tracing::warn!(
            live,
            limit = gate.max_sessions,
            "refused a session past the cap"
        );
        let idle_secs = SessionConfig::DEFAULT_KEEP_ALIVE.as_secs();
        let error = ErrorData::new(
            ErrorCode(-32000),
            format!(
                "Too many sessions: this server holds {live} live sessions, its limit \
                 (--max-sessions {}). End a session you no longer use (DELETE /mcp with its \
                 Mcp-Session-Id), or retry once an idle one expires (after {idle_secs} s)",
                gate.max_sessions
            ),
            Some(serde_json::json!({"live_sessions": live, "max_sessions": gate.max_sessions})),
        );
        let id = opens_a_session(bytes).flatten();
        let mut response = jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, id, error);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(
            StatusCode::SERVICE_UNAVAILABLE,
            gate.request_timeout,
            "answering",
        ),
    }
}

/// The methods and request headers a browser-based MCP client uses, for CORS.
const CORS_METHODS: &str = "GET, POST, DELETE, OPTIONS";
const CORS_REQUEST_HEADERS: &str =
    "authorization, content-type, accept, last-event-id, mcp-protocol-version, mcp-session-id";
/// The response headers such a client must read: the session it was given, the revision.
const CORS_EXPOSED_HEADERS: &str = "mcp-session-id, mcp-protocol-version, www-authenticate";

/// The answer to a CORS preflight (`OPTIONS /mcp`): the allowed methods and headers for an
/// allowed origin, 403 for any other, and the plain `Allow` for a request without `Origin`.
fn preflight(origin: Option<&HeaderValue>, allowed: Option<HeaderValue>) -> Response {
    match (origin, allowed) {
        (_, Some(allowed)) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            allow_origin(headers, allowed);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(CORS_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(CORS_REQUEST_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            response
        }
        (Some(origin), None) => (
            StatusCode::FORBIDDEN,
            format!(
                "Forbidden: the origin {} is not allowed (--allow-origin)\n",
                String::from_utf8_lossy(origin.as_bytes())
            ),
        )
            .into_response(),
        (None, None) => (
            StatusCode::NO_CONTENT,
            [(header::ALLOW, HeaderValue::from_static(CORS_METHODS))],
        )
            .into_response(),
    }
}

/// The headers that let a browser page from `origin` (an allowed one) read the answer.
fn allow_origin(headers: &mut axum::http::HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSED_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

/// `scheme://host[:port]` in lower case with the scheme's default port made explicit.
fn normalized_origin(value: &str) -> Option<(String, String, Option<u16>)> {
    let uri = axum::http::Uri::try_from(value.trim()).ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let port = authority.port_u16().or(match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    });
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Some((scheme, host, port))
}

/// Whether `origin` is in the allow-list (`scheme://host[:port]`, or `scheme://host:*` for any
/// port): the list rmcp's Origin check uses, so CORS never opens to an origin rmcp refuses.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let Some((scheme, host, port)) = normalized_origin(origin) else {
        return false;
    };
    allowed
        .iter()
        .any(|entry| match entry.trim().strip_suffix(":*") {
            Some(base) => normalized_origin(base).is_some_and(|(s, h, _)| s == scheme && h == host),
            None => normalized_origin(entry) == Some((scheme.clone(), host.clone(), port)),
        })
}

/// `Authorization: Bearer <token>`, compared in constant time.
#[allow(clippy::result_large_err)]
fn check_token(given: Option<&HeaderValue>, expected: &str) -> Result<(), Response> {
    let Some(given) = given else {
        return Err(unauthorized(
            "Unauthorized: this server needs `Authorization: Bearer <token>`",
            None,
        ));
    };
    let presented = given
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match presented {
        Some(token) if same_secret(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(unauthorized(
            "Unauthorized: the bearer token is not valid",
            Some("invalid_token"),
        )),
    }
}

fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized(message: &str, error: Option<&str>) -> Response {
    let challenge = match error {
        Some(error) => format!("Bearer realm=\"scale-advisor\", error=\"{error}\""),
        None => "Bearer realm=\"scale-advisor\"".to_string(),
    };
    let mut response = (StatusCode::UNAUTHORIZED, format!("{message}\n")).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn too_large(limit: usize) -> Response {
    let message = format!(
        "Payload Too Large: the request body is over the limit of {limit} bytes (--max-body-bytes)\n"
    );
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONNECTION, "close")],
        message,
    )
        .into_response()
}

fn timed_out(status: StatusCode, limit: Duration, doing: &str) -> Response {
    let message = format!(
        "the request took longer than {} s while {doing} (--request-timeout-secs)\n",
        limit.as_secs_f64()
    );
    (status, [(header::CONNECTION, "close")], message).into_response()
}

enum BodyProblem {
    TooLarge,
    Broken(axum::Error),
}

/// Reads the whole body, stopping as soon as it passes `limit` bytes (whatever its framing).
async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyProblem> {
    let mut collected = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(BodyProblem::Broken)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit.saturating_sub(collected.len()) {
                return Err(BodyProblem::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(collected))
}

/// Answers a body that is not a JSON-RPC message with the error the specification names,
/// instead of rmcp's bare 415, and a known method with unfit params with "invalid params".
/// `header_version` is the request's `MCP-Protocol-Version` header, if any.
#[allow(clippy::result_large_err)]
fn check_envelope(bytes: &[u8], header_version: Option<&str>) -> Result<(), Response> {
    let value = match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => value,
        Err(error) => {
            let error = ErrorData::new(
                ErrorCode::PARSE_ERROR,
                format!("Parse error: the body is not JSON ({error})"),
                None,
            );
            return Err(jsonrpc_error(StatusCode::BAD_REQUEST, None, error));
        }
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let problem = if !value.is_object() {
        Some("a message must be a JSON object (batches are not supported)")
    } else if value.get("jsonrpc") != Some(&Value::from("2.0")) {
        Some("the `jsonrpc` member must be \"2.0\"")
    } else if method.is_none() && value.get("result").is_none() && value.get("error").is_none() {
        Some("a request needs a string `method`")
    } else if value.get("id").is_some() && id.is_none() {
        Some("the `id` must be a string or an integer")
    } else {
        None
    };
    if let Some(problem) = problem {
        let error = ErrorData::invalid_request(format!("Invalid request: {problem}"), None);
        return Err(jsonrpc_error(StatusCode::BAD_REQUEST, id, error));
    }
    let meta_version = value
        .pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion")
        .and_then(Value::as_str);
    let modern_wire = meta_version.or(header_version).is_some_and(|v| v >= MODERN);
    let known = |m: &str| {
        crate::protocol::KNOWN_METHODS.contains(&m)
            && !(modern_wire && REMOVED_IN_2026_07_28.contains(&m))
    };
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(JsonRpcMessage::Request(request)) => match &request.request {
            ClientRequest::CustomRequest(custom) if known(&custom.method) => {
                let message = format!(
                    "Invalid params for `{}`: check its parameters against the specification (e.g. tools/call takes `name` and an object `arguments`)",
                    custom.method
                );
                Err(jsonrpc_error(
                    StatusCode::OK,
                    Some(request.id.clone()),
                    ErrorData::invalid_params(message, None),
                ))
            }
            _ => Ok(()),
        },
        Ok(_) => Ok(()),
        Err(error) => match (id, method) {
            (Some(id), Some(m)) if known(&m) => {
                let error =
                    ErrorData::invalid_params(format!("Invalid params for `{m}`: {error}"), None);
                Err(jsonrpc_error(StatusCode::OK, Some(id), error))
            }
            (Some(id), Some(m)) => {
                let error = ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Method not found: `{m}`"),
                    None,
                );
                Err(jsonrpc_error(StatusCode::NOT_FOUND, Some(id), error))
            }
            (id, _) => Err(jsonrpc_error(
                StatusCode::BAD_REQUEST,
                id,
                ErrorData::invalid_request(format!("Invalid request: {error}"), None),
            )),
        },
    }
}

fn jsonrpc_error(status: StatusCode, id: Option<RequestId>, error: ErrorData) -> Response {
    let message = ServerJsonRpcMessage::error(error, id);
    let body = serde_json::to_vec(&message).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A response body that ends when the server starts draining.
struct UntilDrain {
    inner: Body,
    drained: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl HttpBody for UntilDrain {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.drained.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.inner).poll_frame(cx)
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

    fn options() -> HttpOptions {
        HttpOptions {
            addr: "127.0.0.1:0".into(),
            allowed_origins: vec![],
            allowed_hosts: vec![],
            token: None,
            max_body_bytes: 1024,
            stateful: false,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 8,
            max_sessions: 8,
        }
    }

    #[test]
    fn cors_admits_exactly_the_allowed_origins() {
        let allowed = vec![
            "http://localhost:8080".to_string(),
            "https://app.example.com".to_string(),
            "http://127.0.0.1:*".to_string(),
        ];
        for (origin, admitted) in [
            ("http://localhost:8080", true),
            ("HTTP://LOCALHOST:8080", true),
            ("http://localhost:8081", false),
            ("https://app.example.com:443", true),
            ("https://app.example.com", true),
            ("http://app.example.com", false),
            ("https://evil.example.com", false),
            ("http://127.0.0.1:5173", true),
            ("http://127.0.0.2:5173", false),
            ("null", false),
            ("", false),
        ] {
            assert_eq!(origin_allowed(origin, &allowed), admitted, "{origin}");
        }
    }

    #[test]
    fn addresses_accept_a_bare_port_and_host_port() {
        assert_eq!(resolve("8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            resolve("0.0.0.0:9000").unwrap(),
            "0.0.0.0:9000".parse().unwrap()
        );
        assert_eq!(
            resolve("[::1]:9000").unwrap(),
            "[::1]:9000".parse().unwrap()
        );
        assert!(resolve("no port here").is_err());
    }

    #[test]
    fn default_origins_are_the_loopback_origins_of_the_port() {
        let origins = allowed_origins(&options(), "127.0.0.1:4100".parse().unwrap());
        assert!(origins.contains(&"http://localhost:4100".to_string()));
        assert!(origins.contains(&"http://127.0.0.1:4100".to_string()));
        let mut given = options();
        given.allowed_origins = vec!["https://app.example".into()];
        assert_eq!(
            allowed_origins(&given, "127.0.0.1:4100".parse().unwrap()),
            vec!["https://app.example".to_string()]
        );
    }

    #[test]
    fn hosts_include_a_specific_bound_ip_and_the_extra_ones() {
        let mut given = options();
        given.allowed_hosts = vec!["advisor.internal".into()];
        let hosts = allowed_hosts(&given, "10.1.2.3:80".parse().unwrap());
        assert!(
            hosts.contains(&"10.1.2.3".to_string())
                && hosts.contains(&"advisor.internal".to_string())
        );
        assert!(
            !allowed_hosts(&options(), "0.0.0.0:80".parse().unwrap())
                .contains(&"0.0.0.0".to_string())
        );
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cret", b"s3creT"));
        assert!(!same_secret(b"s3cret", b"s3cret-longer"));
        assert!(check_token(Some(&HeaderValue::from_static("Bearer s3cret")), "s3cret").is_ok());
        assert_eq!(
            check_token(None, "s3cret").unwrap_err().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            check_token(Some(&HeaderValue::from_static("Basic s3cret")), "s3cret")
                .unwrap_err()
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn envelopes_get_the_jsonrpc_error_the_specification_names() {
        let status = |body: &str| {
            check_envelope(body.as_bytes(), None)
                .err()
                .map(|r| r.status())
        };
        assert_eq!(status("{not json"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status("[]"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            status(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":"no"}}"#
            ),
            Some(StatusCode::OK)
        );
        assert_eq!(status(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), None);
        // On the 2026-07-28 wire a removed method is left to rmcp, which answers "not found".
        let removed = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
        assert_eq!(status(removed), None);
        assert_eq!(
            check_envelope(
                br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
                Some("2026-07-28")
            )
            .err()
            .map(|r| r.status()),
            None
        );
        assert_eq!(
            status(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#),
            Some(StatusCode::OK)
        );
    }
}
