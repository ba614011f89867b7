//! The middleware every response passes through, in the order [`crate::http::router`]
//! stacks them (outermost first):
//!
//! 1. `X-Content-Type-Options: nosniff` on every response.
//! 2. [`observe`]: the request id, the request's span, the access-log line and metrics.
//! 3. CORS (tower-http), so that browsers can read errors too.
//! 4. [`problem_for_bare_errors`]: an error a layer made without a body (a timeout, say)
//!    gets the one problem+json shape.
//! 5. [`conditional_and_caching`]: `If-None-Match` → 304; `Cache-Control` and `Vary`.
//! 6. [`etag_per_encoding`]: a compressed body is another representation, so its strong
//!    ETag gets the encoding's name.
//! 7. Compression (tower-http): gzip and br when the client accepts them.
//! 8. The request timeout (tower-http), then the router.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::http::AppState;
use crate::problem::{ApiError, PROBLEM_JSON};

/// The header that carries a request's id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route of a request that matched none.
pub const UNMATCHED: &str = "(unmatched)";

/// Routes whose answers describe this process at this instant: never cached.
const UNCACHEABLE_ROUTES: [&str; 4] = ["/", "/healthz", "/readyz", "/metrics"];

/// Keeps the client's request id if it is a sane one, or makes one; puts it on the
/// response and on every log line of the request (through a span); then writes the
/// access-log line and counts the request.
///
/// The access log names the route template (`/pods/{pod}`), never the path or the query
/// string: a query string may carry an API key (`/lookup?api_key=…`).
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|v| is_sane_request_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id);
    request
        .headers_mut()
        .insert(X_REQUEST_ID.clone(), id.clone());
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |p| state.metrics().route_label(p.as_str()));

    let span = tracing::info_span!("request", request_id = %String::from_utf8_lossy(id.as_bytes()));
    let mut response = next.run(request).instrument(span.clone()).await;

    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    state
        .metrics()
        .observe_request(method, route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            target: "podmeta::access",
            method,
            route,
            status,
            latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    });
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
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

/// Any error response without a problem+json body (made by a layer: a timeout, a
/// refused encoding) becomes the problem of its status, keeping its other headers.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
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

/// Answers `If-None-Match` with a 304 when the response's ETag matches, and says how long
/// a response may be cached: `public, max-age=N` for a resource, `no-store` for errors,
/// POST answers and the operational endpoints.
pub async fn conditional_and_caching(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let cacheable_route = !request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| UNCACHEABLE_ROUTES.contains(&p.as_str()));
    let mut response = next.run(request).await;

    let no_store = HeaderValue::from_static("no-store");
    if !(is_read && response.status() == StatusCode::OK) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, no_store);
        return response;
    }
    let headers = response.headers_mut();
    let cache_control = if cacheable_route {
        state.cache_control().clone()
    } else {
        no_store
    };
    headers.insert(header::CACHE_CONTROL, cache_control);
    if !vary_names(headers, "accept-encoding") {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let matches = match (&if_none_match, headers.get(header::ETAG)) {
        (Some(wanted), Some(etag)) => etag_list_matches(wanted.as_bytes(), etag.as_bytes()),
        _ => false,
    };
    if !matches {
        return response;
    }
    // RFC 9110 §15.4.5: a 304 carries the headers a 200 would have for caching, no body.
    let mut not_modified = Response::new(Body::empty());
    *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
    for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
        for value in response.headers().get_all(&name) {
            not_modified
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    not_modified
}

fn vary_names(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|n| n.trim().eq_ignore_ascii_case(name) || n.trim() == "*")
        })
    })
}

/// Whether an `If-None-Match` value (`*`, or a list of entity tags) matches `etag`, with
/// the weak comparison RFC 9110 §13.1.2 prescribes for it.
pub fn etag_list_matches(if_none_match: &[u8], etag: &[u8]) -> bool {
    let Ok(list) = std::str::from_utf8(if_none_match) else {
        return false;
    };
    let Ok(etag) = std::str::from_utf8(etag) else {
        return false;
    };
    let opaque = |tag: &str| -> Option<String> {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        (tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"')).then(|| tag.to_owned())
    };
    let Some(ours) = opaque(etag) else {
        return false;
    };
    list.trim() == "*"
        || list
            .split(',')
            .filter_map(opaque)
            .any(|theirs| theirs == ours)
}

/// After compression: an encoded body is a different representation from the identity
/// one, so a strong ETag must differ too (`"abc"` → `"abc-gzip"`), as Apache does.
pub async fn etag_per_encoding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|e| e.to_str().ok())
        .map(str::to_owned);
    if let (Some(encoding), Some(etag)) = (encoding, response.headers().get(header::ETAG)) {
        let tagged = etag
            .to_str()
            .ok()
            .and_then(|t| t.strip_suffix('"'))
            .map(|t| format!("{t}-{encoding}\""))
            .and_then(|t| HeaderValue::try_from(t).ok());
        if let Some(tagged) = tagged {
            response.headers_mut().insert(header::ETAG, tagged);
        }
    }
    response
}

/// `/readyz` answers 503 from the moment draining starts.
pub fn is_draining(state: &AppState) -> bool {
    state.draining_flag().load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_weak_comparison_over_a_list() {
        assert!(etag_list_matches(b"\"a\"", b"\"a\""));
        assert!(etag_list_matches(b"W/\"a\"", b"\"a\""));
        assert!(etag_list_matches(b"\"x\", \"a\"", b"\"a\""));
        assert!(etag_list_matches(b"*", b"\"a\""));
        assert!(!etag_list_matches(b"\"b\"", b"\"a\""));
        assert!(!etag_list_matches(b"a", b"\"a\""));
        assert!(!etag_list_matches(b"", b"\"a\""));
        assert!(!etag_list_matches(b"\"a-gzip\"", b"\"a\""));
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
