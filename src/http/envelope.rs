//! The envelope: what [`App`](super::App) does for every request, on both of its ways in
//! (a pre-rendered resource, or the router):
//!
//! - a request that cannot be answered at all ([`refusal`]) is refused before any route;
//! - the request id: kept from `X-Request-Id` if sane, else made; returned; and on the
//!   request's access line;
//! - the access-log line and the metrics, by route template (`/pods/{pod}`), never by
//!   path or query string: a query string may carry an API key (`/lookup?api_key=…`);
//! - [`seal`], for an answer not already complete (the pre-rendered ones are): after
//!   compression, a strong ETag per encoding (`"abc"` → `"abc-gzip"`); the CORS headers of
//!   a request without an `Origin`; `If-Match` that fails → 412, `If-None-Match` that
//!   matches → 304; `Cache-Control` (`public, max-age=N` for a resource, `no-store` for
//!   errors, POST answers and the operational endpoints) and `Vary`; the one problem shape
//!   for an error a layer made bare (a timeout, a refused encoding); `nosniff`.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headers::ETag;

use super::request::{Preconditions, X_REQUEST_ID, is_host};
use super::routes::{CachePolicy, Route};
use super::state::AppState;
use crate::log_format::{ACCESS_TARGET, Access};
use crate::problem::{ApiError, PROBLEM_JSON};

/// The route of a request that matched none.
pub const UNMATCHED: &str = "(unmatched)";

/// Marks an answer whose head is complete (a pre-rendered resource's): [`seal`] leaves it
/// as it is, and no compression touches it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Complete;

/// Why a request cannot be answered at all, before any route sees it (RFC 9112):
///
/// - an HTTP/1.1 request without `Host`, or any request with an empty one, two of them
///   or one that is no valid `host [ ":" port ]` (§3.2, RFC 3986 §3.2.2-3): 400;
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
    if let Some(host) = headers.get(header::HOST)
        && !is_host(host.as_bytes())
    {
        return Some(ApiError::BadRequest {
            detail: "The Host header must be a host name, an IPv4 address or an IP literal \
                     in brackets, with a port of at most 65535 if any (RFC 3986)."
                .into(),
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

/// What the envelope does to an answer that is not [`Complete`]: the ETag of an encoding,
/// the CORS headers of a request without an `Origin` (unless the CORS layer answered it),
/// the caching headers and the preconditions, the problem body of a bare error, the
/// request id and `nosniff`.
pub(super) fn seal(
    state: &AppState,
    route: Option<&Route>,
    is_read: bool,
    through_cors: bool,
    preconditions: &Preconditions,
    id: HeaderValue,
    response: Response,
) -> Response {
    if response.extensions().get::<Complete>().is_some() {
        return response;
    }
    let mut response = tag_etag_with_encoding(response);
    if !through_cors {
        let headers = response.headers_mut();
        for (name, value) in state.cors_without_origin() {
            if name == header::VARY {
                headers.append(name, value.clone());
            } else {
                headers.insert(name, value.clone());
            }
        }
    }
    let cache = route.map_or(CachePolicy::NoStore, |r| r.cache);
    let response = cache_and_revalidate(state, cache, is_read, preconditions, response);
    let mut response = problem_for_bare_error(response, route.is_some_and(|r| r.page));
    let headers = response.headers_mut();
    headers.insert(X_REQUEST_ID.clone(), id);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The length goes last, as the router puts it on an answer it makes.
    let length = match headers.remove(header::CONTENT_LENGTH) {
        Some(length) => Some(length),
        None => axum::body::HttpBody::size_hint(response.body())
            .exact()
            .map(HeaderValue::from),
    };
    if let Some(length) = length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, length);
    }
    response
}

/// Writes the access line of `response` (sealed with its request id): straight to the
/// JSON log when that is where it goes, else through tracing, in a span that carries the
/// id (no line is logged while a request is answered: this is its one line).
pub(super) fn access_line(
    state: &AppState,
    response: &Response,
    method: &'static str,
    route: &'static str,
    elapsed: Duration,
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
    tracing::info_span!("request", request_id).in_scope(|| access.trace());
}

/// An encoded body is a different representation from the identity one, so its strong
/// ETag must differ too (`"abc"` → `"abc-gzip"`), as Apache does.
fn tag_etag_with_encoding(mut response: Response) -> Response {
    let Some(encoding) = response.headers().get(header::CONTENT_ENCODING) else {
        return response;
    };
    let tagged = match (encoding.to_str(), response.headers().get(header::ETAG)) {
        (Ok(encoding), Some(etag)) => etag.to_str().ok().and_then(|etag| {
            HeaderValue::try_from(crate::digest::etag_for_encoding(etag, encoding)).ok()
        }),
        _ => None,
    };
    if let Some(tagged) = tagged {
        response.headers_mut().insert(header::ETAG, tagged);
    }
    response
}

/// Says how long a response may be cached, and evaluates the preconditions of a read
/// ([`Preconditions::evaluate`]); a 304 keeps every header but those of the body it no
/// longer has (§15.4.5).
fn cache_and_revalidate(
    state: &AppState,
    cache: CachePolicy,
    is_read: bool,
    preconditions: &Preconditions,
    mut response: Response,
) -> Response {
    let no_store = HeaderValue::from_static("no-store");
    if !(is_read && response.status() == StatusCode::OK) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, no_store);
        return response;
    }
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|etag| etag.to_str().ok())
        .and_then(|etag| etag.parse::<ETag>().ok());
    let status = preconditions.evaluate(etag.as_ref(), is_read);
    if status == StatusCode::PRECONDITION_FAILED {
        // problem_for_bare_error gives it the problem body, and drops the old body's
        // headers.
        let (mut parts, _) = response.into_parts();
        parts.status = status;
        parts.headers.insert(header::CACHE_CONTROL, no_store);
        return Response::from_parts(parts, Body::empty());
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
    if status != StatusCode::NOT_MODIFIED {
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
/// setup page's 404): a person reads it, so it stays. A 406 is always replaced: the
/// compression layer makes it of whatever answer it refused, a whole page with its ETag
/// or another status's problem; on the setup page's routes (`page`) it is a short page.
fn problem_for_bare_error(response: Response, page: bool) -> Response {
    let status = response.status();
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| {
            ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || ct.as_bytes().starts_with(b"text/html")
        });
    let not_acceptable = status == StatusCode::NOT_ACCEPTABLE;
    if !(status.is_client_error() || status.is_server_error()) || (is_ours && !not_acceptable) {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut problem = if page && not_acceptable {
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            crate::page::NOT_ACCEPTABLE,
        )
            .into_response()
    } else {
        ApiError::Status { status }.into_response()
    };
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

/// A body's strong ETag ([`crate::digest::etag`]) as a header value.
pub(super) fn etag_header(body: &[u8]) -> HeaderValue {
    // Quoted hex digits are always a valid header value; the fallback is never taken.
    HeaderValue::try_from(crate::digest::etag(body))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Methods as metric labels: the standard ones by name, anything else as `OTHER`, so
/// that a client can't make new label values at will.
pub(super) fn method_label(method: &Method) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
