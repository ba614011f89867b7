//! The envelope around every route: one tower layer that does, for each request, what
//! would otherwise take five middleware (each with its own boxed future and clone):
//!
//! - the request id: kept from `X-Request-Id` if sane, else made; returned; and on every
//!   log line of the request (through a span);
//! - the access-log line and the metrics, by route template (`/pods/{pod}`), never by
//!   path or query string: a query string may carry an API key (`/lookup?api_key=…`);
//! - after compression, a strong ETag per encoding (`"abc"` → `"abc-gzip"`): a compressed
//!   body is another representation;
//! - `If-Match` that fails → 412, `If-None-Match` that matches → 304, each header read
//!   over all its lines; `Cache-Control` (`public, max-age=N` for a resource,
//!   `no-store` for errors, POST answers and the operational endpoints) and `Vary`;
//! - an error that a layer made without a problem+json body (a timeout, a refused
//!   encoding) gets the one problem shape, keeping its other headers;
//! - `X-Content-Type-Options: nosniff` on every response.
//!
//! Inside it, in [`crate::http::router`]: CORS, compression, the request timeout, the
//! body limit, then the handler.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tracing::Instrument;

use super::fast::PreEncoded;
use super::routes::{CachePolicy, find_route};
use crate::log_format::{ACCESS_TARGET, Access};
use crate::problem::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// The header that carries a request's id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route of a request that matched none.
pub const UNMATCHED: &str = "(unmatched)";

/// The layer; see the module documentation.
#[derive(Clone)]
pub struct EnvelopeLayer {
    state: AppState,
}

impl EnvelopeLayer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;
    fn layer(&self, inner: S) -> Envelope<S> {
        Envelope {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`EnvelopeLayer`].
#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request<Body>> for Envelope<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // Take the service that was driven to readiness; leave a clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Box::pin(async move {
            let start = Instant::now();
            let id = request_id(request.headers());
            request
                .headers_mut()
                .insert(X_REQUEST_ID.clone(), id.clone());
            let method = method_label(request.method());
            // The route's facts, from the one route table; its path is the metrics label,
            // from a fixed, static set.
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .and_then(|p| find_route(p.as_str()));
            let cache = route.map_or(CachePolicy::NoStore, |r| r.cache);
            let route = route.map_or(UNMATCHED, |r| r.path);
            let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
            let preconditions = Preconditions::of(request.headers());

            let span = request_span(id.to_str().unwrap_or_default());
            let response = match refusal(&request) {
                Some(refused) => {
                    let unframed = matches!(refused, ApiError::NotImplemented { .. });
                    let mut response = refused.into_response();
                    if unframed {
                        response
                            .headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    response
                }
                None => {
                    let Ok(response) = inner.call(request).instrument(span.clone()).await;
                    response
                }
            };
            let response = seal(&state, cache, is_read, preconditions, id, response);
            let elapsed = start.elapsed();
            state
                .metrics()
                .observe_request(method, route, response.status(), elapsed);
            access_line(&state, Some(&span), &response, method, route, elapsed);
            Ok(response)
        })
    }
}

/// Why a request cannot be answered at all, before any route sees it (RFC 9112):
///
/// - an HTTP/1.1 request without `Host`, or any request with an empty one or two of
///   them (§3.2): 400;
/// - a target that is not a path (origin form), a full URL (absolute form) or, for
///   OPTIONS, `*` (§3.2): 400;
/// - a transfer coding other than chunked (§6.1): 501, and the connection is closed
///   after it, since where the body ends is then unknown. A proxy that read the header
///   otherwise would frame the next request differently: request smuggling. Chunked
///   twice: 400.
///
/// hyper parses the request line and headers, but checks none of these.
pub(super) fn refusal<B>(request: &Request<B>) -> Option<ApiError> {
    let headers = request.headers();
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => Some("more than one Host header"),
        (Some(host), None) if host.as_bytes().trim_ascii().is_empty() => {
            Some("an empty Host header")
        }
        (None, _) if request.version() >= axum::http::Version::HTTP_11 => Some("no Host header"),
        _ => None,
    };
    if let Some(host) = host {
        return Some(ApiError::BadRequest {
            detail: format!(
                "The request has {host}; HTTP/1.1 needs exactly one, naming the server."
            ),
        });
    }
    let uri = request.uri();
    let target_is_sane = match (uri.scheme(), uri.authority()) {
        (None, None) => {
            uri.path().starts_with('/')
                || (uri.path() == "*" && request.method() == Method::OPTIONS)
        }
        (Some(_), Some(_)) => true,
        _ => false,
    };
    if !target_is_sane {
        return Some(ApiError::BadRequest {
            detail: "The request target must be a path that starts with / (or a full URL).".into(),
        });
    }
    let (mut chunked, mut other) = (0, 0);
    for coding in headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
    {
        if coding.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            chunked += 1;
        } else {
            other += 1;
        }
    }
    if other > 0 {
        return Some(ApiError::NotImplemented {
            detail: "The only transfer coding podmeta reads is chunked.".into(),
        });
    }
    if chunked > 1 {
        return Some(ApiError::BadRequest {
            detail: "The body is chunked more than once (RFC 9112 §6.1 forbids it).".into(),
        });
    }
    None
}

/// The request's id: the client's `X-Request-Id` if sane, else a new one.
pub(super) fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(&X_REQUEST_ID)
        .filter(|v| is_sane_request_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// The span that puts the request id on every log line of the request.
pub(super) fn request_span(request_id: &str) -> tracing::Span {
    tracing::info_span!("request", request_id)
}

/// What the envelope does to every response on its way out: the ETag of an encoding,
/// the caching headers and the 304, the problem body of a bare error, the request id and
/// `nosniff`.
pub(super) fn seal(
    state: &AppState,
    cache: CachePolicy,
    is_read: bool,
    preconditions: Preconditions,
    id: HeaderValue,
    response: Response,
) -> Response {
    let response = tag_etag_with_encoding(response);
    let response = cache_and_revalidate(state, cache, is_read, preconditions, response);
    let mut response = problem_for_bare_error(response);
    let headers = response.headers_mut();
    headers.insert(X_REQUEST_ID.clone(), id);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Writes the access line of `response`, sealed with its request id: straight to the
/// JSON log when that is where it goes (`AccessLog::write_direct`, byte for byte the
/// traced line), else through tracing in the request's span, `span` or one made for it.
/// Through tracing, the line was 6 % of a POST's CPU samples, and 0.9 % written directly
/// (`bench/RESULTS.md`).
pub(super) fn access_line(
    state: &AppState,
    span: Option<&tracing::Span>,
    response: &Response,
    method: &'static str,
    route: &'static str,
    elapsed: std::time::Duration,
) {
    if !tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO) {
        return;
    }
    let request_id = response
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    let access = Access {
        method,
        route,
        status: response.status().as_u16(),
        latency_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        request_id,
    };
    if state.settings().access_log.write_direct(&access) {
        return;
    }
    match span {
        Some(span) => span.in_scope(|| access.trace()),
        None => request_span(request_id).in_scope(|| access.trace()),
    }
}

/// An encoded body is a different representation from the identity one, so its strong
/// ETag must differ too (`"abc"` → `"abc-gzip"`), as Apache does. A pre-rendered
/// resource's variant carries its own already.
fn tag_etag_with_encoding(mut response: Response) -> Response {
    let Some(encoding) = response.headers().get(header::CONTENT_ENCODING) else {
        return response;
    };
    if response.extensions().get::<PreEncoded>().is_some() {
        return response;
    }
    let tagged = match (encoding.to_str(), response.headers().get(header::ETAG)) {
        (Ok(encoding), Some(etag)) => crate::digest::etag_for_encoding(etag, encoding),
        _ => None,
    };
    if let Some(tagged) = tagged {
        response.headers_mut().insert(header::ETAG, tagged);
    }
    response
}

/// A request's conditional headers, each over all its lines: RFC 9110 §5.3 makes repeated
/// lines of a list header one list.
#[derive(Debug, Default)]
pub(super) struct Preconditions {
    if_match: Vec<HeaderValue>,
    if_none_match: Vec<HeaderValue>,
}

impl Preconditions {
    pub(super) fn of(headers: &HeaderMap) -> Self {
        let all = |name| headers.get_all(name).iter().cloned().collect();
        Self {
            if_match: all(header::IF_MATCH),
            if_none_match: all(header::IF_NONE_MATCH),
        }
    }

    /// Whether the request made no precondition: its answer is the plain 200.
    pub(super) fn are_none(&self) -> bool {
        self.if_match.is_empty() && self.if_none_match.is_empty()
    }
}

/// Says how long a response may be cached, and evaluates the preconditions of a read in
/// RFC 9110 §13.2.2's order: an `If-Match` that fails is a 412; then a matching
/// `If-None-Match` is a 304 that keeps every header but those of the body it no longer
/// has (§15.4.5).
fn cache_and_revalidate(
    state: &AppState,
    cache: CachePolicy,
    is_read: bool,
    preconditions: Preconditions,
    mut response: Response,
) -> Response {
    let no_store = HeaderValue::from_static("no-store");
    if !(is_read && response.status() == StatusCode::OK) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, no_store);
        return response;
    }
    if !preconditions.if_match.is_empty() {
        let etag = response.headers().get(header::ETAG);
        let holds = preconditions.if_match.iter().any(|list| {
            list.as_bytes().trim_ascii() == b"*"
                || etag.is_some_and(|etag| {
                    tag_list_matches(list.as_bytes(), etag.as_bytes(), Comparison::Strong)
                })
        });
        if !holds {
            // problem_for_bare_error gives it the problem body, and drops the old body's
            // headers.
            let (mut parts, _) = response.into_parts();
            parts.status = StatusCode::PRECONDITION_FAILED;
            parts.headers.insert(header::CACHE_CONTROL, no_store);
            return Response::from_parts(parts, Body::empty());
        }
    }
    let headers = response.headers_mut();
    // A handler that knows better for this one answer (a lookup by API key) has said so.
    if !headers.contains_key(header::CACHE_CONTROL) {
        let cache_control = match cache {
            CachePolicy::NoStore => no_store,
            CachePolicy::Public => state.cache_control().clone(),
            CachePolicy::Immutable => {
                HeaderValue::from_static("public, max-age=31536000, immutable")
            }
        };
        headers.insert(header::CACHE_CONTROL, cache_control);
    }
    if !vary_names(headers, "accept-encoding") {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let matches = headers.get(header::ETAG).is_some_and(|etag| {
        preconditions.if_none_match.iter().any(|list| {
            list.as_bytes().trim_ascii() == b"*"
                || tag_list_matches(list.as_bytes(), etag.as_bytes(), Comparison::Weak)
        })
    });
    if !matches {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    for gone in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::TRANSFER_ENCODING,
    ] {
        parts.headers.remove(gone);
    }
    Response::from_parts(parts, Body::empty())
}

/// Any error response without a problem+json body becomes the problem of its status,
/// keeping its other headers (`Allow`, CORS, …). An HTML error page is ours too (the
/// setup page's 404): a person reads it, so it stays.
fn problem_for_bare_error(response: Response) -> Response {
    let status = response.status();
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| {
            ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || ct.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut problem = ApiError::Status { status }.into_response();
    for (name, value) in &parts.headers {
        // The old body's own headers describe a body that is gone.
        if ![
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::ETAG,
        ]
        .contains(name)
        {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    problem
}

/// A request id we pass on unchanged: 1 to 128 characters that are safe in any log.
fn is_sane_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
}

fn new_request_id() -> HeaderValue {
    let id = uuid::Uuid::new_v4();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Methods as metric labels: the standard ones by name, anything else as `OTHER`, so
/// that a client can't make new label values at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn vary_names(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|n| n.trim().eq_ignore_ascii_case(name) || n.trim() == "*")
        })
    })
}

/// How two entity tags are compared (RFC 9110 §8.8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// `If-Match`: both strong, and equal.
    Strong,
    /// `If-None-Match`: equal once any `W/` is set aside.
    Weak,
}

/// Whether a list of entity tags (one header line; `*` is the caller's) names `etag`.
fn tag_list_matches(list: &[u8], etag: &[u8], comparison: Comparison) -> bool {
    let (Ok(list), Ok(etag)) = (std::str::from_utf8(list), std::str::from_utf8(etag)) else {
        return false;
    };
    // The opaque tag, and whether it was weak; None if it is not an entity tag.
    let parse = |tag: &str| -> Option<(String, bool)> {
        let tag = tag.trim();
        let (tag, weak) = match tag.strip_prefix("W/") {
            Some(tag) => (tag, true),
            None => (tag, false),
        };
        (tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"'))
            .then(|| (tag.to_owned(), weak))
    };
    let Some((ours, ours_weak)) = parse(etag) else {
        return false;
    };
    list.split(',')
        .filter_map(parse)
        .any(|(theirs, theirs_weak)| {
            theirs == ours && (comparison == Comparison::Weak || !(ours_weak || theirs_weak))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_weak_comparison_over_a_list() {
        let weak = |list: &[u8], etag: &[u8]| tag_list_matches(list, etag, Comparison::Weak);
        assert!(weak(b"\"a\"", b"\"a\""));
        assert!(weak(b"W/\"a\"", b"\"a\""));
        assert!(weak(b"\"x\", \"a\"", b"\"a\""));
        assert!(!weak(b"\"b\"", b"\"a\""));
        assert!(!weak(b"a", b"\"a\""));
        assert!(!weak(b"", b"\"a\""));
        assert!(!weak(b"\"a-gzip\"", b"\"a\""));
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let strong = |list: &[u8], etag: &[u8]| tag_list_matches(list, etag, Comparison::Strong);
        assert!(strong(b"\"a\"", b"\"a\""));
        assert!(strong(b"\"x\" , \"a\"", b"\"a\""));
        assert!(!strong(b"W/\"a\"", b"\"a\""));
        assert!(!strong(b"\"a\"", b"W/\"a\""));
        assert!(!strong(b"\"nope\"", b"\"a\""));
    }

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        assert!(is_sane_request_id(b"abc-123_x.y:z"));
        assert!(!is_sane_request_id(b""));
        assert!(!is_sane_request_id(b"has space"));
        assert!(!is_sane_request_id(&[b'a'; 129]));
        assert!(!is_sane_request_id(b"quote\"d"));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
