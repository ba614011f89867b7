//! The CORS policy, and the headers it adds to an answer to a request without an
//! `Origin` (which skips the layer).

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use axum::response::Response;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::request::{READ, X_REQUEST_ID};

/// The CORS policy: the origins allowed (any, by default), the methods and headers the API
/// reads, and the headers a page may read back.
pub(super) fn layer(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(if origins.is_empty() {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins.to_vec())
        })
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers(READ)
        .expose_headers([header::ETAG, X_REQUEST_ID.clone()])
        .max_age(Duration::from_secs(3600))
}

/// The headers `cors` adds to the answer to a request without an `Origin`, asked of the
/// layer itself (around a service that answers at once, so that one poll completes it),
/// so that an answer that skips the layer still carries exactly what it would add.
pub(super) fn headers_without_origin(cors: &CorsLayer) -> HeaderMap {
    let mut service = cors.layer(tower::service_fn(|_: Request<Body>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Body::empty())))
    }));
    let future = std::pin::pin!(service.call(Request::new(Body::empty())));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(response)) => response.headers().clone(),
        _ => HeaderMap::new(),
    }
}
