//! The application as served: a fast path for the pre-rendered GETs, in front of the
//! router.
//!
//! `GET /pods/{pod}` is the hot path of podmeta's callers. Through the router it crossed
//! the envelope, CORS, compression, the route match and a boxed handler, each with a
//! future of its own, and cost about 26 µs of CPU per request where nginx spends 12
//! (`bench/RESULTS.md`). Here a request for a pre-rendered resource that no layer would
//! change is answered at once, with the answer the router would give, made by the same
//! code:
//!
//! - the representation is the handlers' own ([`representation`]);
//! - the CORS headers are the CORS layer's own, taken from it once when the app is built
//!   (it adds the same ones to every request without an `Origin`);
//! - the preconditions (304, 412), the caching headers, the request id and `nosniff` are
//!   the envelope's own `seal`; a plain 200 (no precondition) copies the headers of the
//!   first one `seal` made in its coding and puts in its own ETag, length and request id
//!   (the in-process answer went from 1.69 to 1.00 µs: `cargo bench`, "fast path");
//! - the metrics count in the same series, and the access line is the same line (with
//!   JSON logs written directly, byte for byte the traced one: `log_format::Access`).
//!
//! Everything else goes to the router unchanged: other routes and methods, a request
//! with an `Origin` (a browser's, whose CORS answer depends on it), a request the
//! envelope refuses before any route (`envelope::refusal`: Host, target, transfer
//! coding), an `Accept-Encoding` that nothing satisfies (the 406 is the compression
//! layer's), and a path that only matches once decoded (`/pods/%65u1`).
//! `tests/suite/fast_path.rs` checks that both paths answer alike for every resource.
//!
//! `POST /pods/{pod}/bucket-policy`, which onboarding scripts call in loops, has a path
//! of its own here too ([`FastPath::post`]). Through the router it cost more than twice
//! the CPU of the GET, more than half of its user time in the router's boxed services
//! and futures, one of each per layer per request (`bench/RESULTS.md`). Here it goes
//! through the same layers in the same order (CORS, compression, the body limit, the
//! request timeout) stacked once around the same extractor and handler, and is sealed,
//! counted and logged by the envelope's own code.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::BoxError;
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, FromRequest as _};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::future::RouteFuture;
use bytes::Bytes;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt as _};
use tower_http::cors::CorsLayer;

use super::encoding::{Encoding, negotiate};
use super::envelope;
use super::extract::{ApiJson, PodRef};
use super::handlers;
use super::routes::{CachePolicy, Handler, ROUTES};
use crate::catalog::{Catalog, Part, Resource, Variant};
use crate::metrics::RequestSeries;
use crate::problem::{ApiError, BODY_LIMIT};
use crate::state::AppState;

/// Marks a response whose coding was chosen by its handler (a pre-rendered resource), so
/// that no later layer compresses it or tags its ETag again.
#[derive(Debug, Clone, Copy)]
pub(super) struct PreEncoded;

/// A pre-rendered resource in `encoding`, as its handler answers: the body with its type,
/// strong ETag, `Vary` and coding.
pub(super) fn representation(resource: &Resource, encoding: Encoding) -> Response {
    let variant = resource.variant(encoding);
    let mut response = Response::new(Body::from(variant.body.clone()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::ETAG, variant.etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if variant.encoding != Encoding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(variant.encoding.token()),
        );
    }
    response.extensions_mut().insert(PreEncoded);
    response
}

/// The application: the fast path, if any, then the router.
#[derive(Clone)]
pub struct App {
    router: Router,
    fast: Option<Arc<FastPath>>,
}

impl App {
    /// `router`, behind the fast path for the pre-rendered resources. `cors` must be the
    /// CORS layer inside `router`, whose headers the fast path adds.
    pub(super) fn new(state: AppState, router: Router, cors: &CorsLayer) -> Self {
        let fast = FastPath::new(state, cors).map(Arc::new);
        Self { router, fast }
    }

    /// `router` alone (the admin listener, which serves no resources).
    pub(super) fn routed(router: Router) -> Self {
        Self { router, fast: None }
    }

    /// Whether the fast path answers `request` (rather than the router): for the tests
    /// that compare the two paths, which would pass trivially if it answered nothing.
    #[doc(hidden)]
    pub fn takes_fast_path<B>(&self, request: &Request<B>) -> bool {
        self.fast.as_ref().is_some_and(|fast| {
            fast.resolve(request).is_some() || fast.posted_to(request).is_some()
        })
    }
}

/// The router, for requests with bodies of type `B`: the one bound that [`App`]'s calls
/// need, named once.
pub trait Routes<B>:
    Service<Request<B>, Response = Response, Error = Infallible, Future = RouteFuture<Infallible>>
{
}

impl<B, T> Routes<B> for T where
    T: Service<
            Request<B>,
            Response = Response,
            Error = Infallible,
            Future = RouteFuture<Infallible>,
        >
{
}

impl<B> Service<Request<B>> for App
where
    Router: Routes<B>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> AppFuture {
        self.answer(request)
    }
}

/// What a connection calls, with the app shared rather than cloned: a tower service takes
/// `&mut self`, so hyper-util's adapter cloned the app (two reference counts that every
/// worker shares) for each request. Only the router's path clones the router.
impl<B> hyper::service::Service<Request<B>> for App
where
    Router: Routes<B>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn call(&self, request: Request<B>) -> AppFuture {
        self.answer(request)
    }
}

impl App {
    fn answer<B>(&self, request: Request<B>) -> AppFuture
    where
        Router: Routes<B>,
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if let Some(fast) = &self.fast {
            if let Some(response) = fast.answer(&request) {
                return AppFuture::Answered {
                    response: Some(response),
                };
            }
            if let Some(pod) = fast.posted_to(&request) {
                return AppFuture::Posted {
                    future: Box::pin(fast.clone().post(pod, request)),
                };
            }
        }
        AppFuture::Routed {
            future: Box::pin(self.router.clone().call(request)),
        }
    }
}

/// The future of an [`App`] call: an answer already made, a posted bucket policy's, or
/// the router's.
///
/// hyper keeps a box of this size for each connection, open as long as the connection
/// is: the router's future (320 bytes) and the POST's are boxed so that they do not size
/// every connection's box for the paths that answer at once (`bench/RESULTS.md`).
pub enum AppFuture {
    Answered {
        response: Option<Response>,
    },
    Posted {
        future: Pin<Box<dyn Future<Output = Response> + Send>>,
    },
    Routed {
        future: Pin<Box<RouteFuture<Infallible>>>,
    },
}

impl Future for AppFuture {
    type Output = Result<Response, Infallible>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            AppFuture::Answered { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after it completed: a caller's bug, which waits forever
                // rather than panics.
                None => Poll::Pending,
            },
            AppFuture::Posted { future } => future.as_mut().poll(cx).map(Ok),
            AppFuture::Routed { future } => future.as_mut().poll(cx),
        }
    }
}

/// What the fast path needs, made once per app.
struct FastPath {
    state: AppState,
    /// What the CORS layer adds to a response to a request without an `Origin`.
    cors: HeaderMap,
    /// `/pods`'s route template.
    list_route: &'static str,
    /// The bucket policy's route: its template and cache policy, and its handler inside
    /// the router's layers.
    post_route: &'static str,
    post_cache: CachePolicy,
    post_service: PostService,
    /// Per part of a pod: the path after `/pods/{pod}` (`""`, `"/login"`, …), the part
    /// and the route template, from the route table.
    parts: Vec<(&'static str, Part, &'static str)>,
    /// The metric series of each route (the list, then each part), method (GET, HEAD)
    /// and status (200, 304), resolved on first use.
    series: Box<[OnceLock<RequestSeries>]>,
    /// The headers of the first plain 200 of each coding (the identity, then
    /// [`Encoding::COMPRESSED`], as `Encoding` orders them), for [`answer_from_head`].
    heads: [OnceLock<HeaderMap>; 1 + Encoding::COMPRESSED.len()],
}

impl FastPath {
    fn new(state: AppState, cors: &CorsLayer) -> Option<Self> {
        let list_route = ROUTES
            .iter()
            .find(|r| matches!(r.handler, Handler::ListPods))?
            .path;
        let post_route = ROUTES
            .iter()
            .find(|r| matches!(r.handler, Handler::BucketPolicy))?;
        let parts: Vec<_> = ROUTES
            .iter()
            .filter_map(|route| match route.handler {
                Handler::Pod(part) => {
                    let suffix = route.path.strip_prefix("/pods/{pod}")?;
                    Some((suffix, part, route.path))
                }
                _ => None,
            })
            .collect();
        let series = (0..(1 + parts.len()) * 4)
            .map(|_| OnceLock::new())
            .collect();
        Some(Self {
            post_service: post_service(&state, cors),
            state,
            cors: cors_headers_without_origin(cors)?,
            list_route,
            post_route: post_route.path,
            post_cache: post_route.cache,
            parts,
            series,
            heads: Default::default(),
        })
    }

    /// Counts the request in its metric series.
    fn count(
        &self,
        series: usize,
        method: &str,
        route: &str,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let slot = match status {
            StatusCode::OK => self.series.get(series),
            StatusCode::NOT_MODIFIED => self.series.get(series + 1),
            _ => None,
        };
        let metrics = self.state.metrics();
        match slot {
            Some(slot) => slot
                .get_or_init(|| metrics.request_series(method, route, status))
                .observe(elapsed),
            None => metrics.observe_request(method, route, status, elapsed),
        }
    }

    /// What the fast path would answer `request` with, if it takes it: the resource, in
    /// the catalog in force, with its route template and coding, and the method's label.
    fn resolve<B>(&self, request: &Request<B>) -> Option<Resolved> {
        let method = match *request.method() {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            _ => return None,
        };
        if request.headers().contains_key(header::ORIGIN) || envelope::refusal(request).is_some() {
            return None;
        }
        let rest = request.uri().path().strip_prefix("/pods")?;
        let catalog = self.state.catalog_now();
        let (found, route, route_index) = if rest.is_empty() {
            (Found::List, self.list_route, 0)
        } else {
            let rest = rest.strip_prefix('/')?;
            let (id, suffix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let index = self.parts.iter().position(|(s, ..)| *s == suffix)?;
            let (_, part, route) = self.parts[index];
            let position = catalog.table().position_ignoring_case(id)?;
            (Found::Pod(position, part), route, index + 1)
        };
        let encoding = negotiate(request.headers())?;
        Some(Resolved {
            catalog,
            found,
            route,
            method,
            encoding,
            series: route_index * 4 + if method == "HEAD" { 2 } else { 0 },
        })
    }

    /// The answer, if this request is one the fast path takes.
    fn answer<B>(&self, request: &Request<B>) -> Option<Response> {
        let start = Instant::now();
        let Resolved {
            catalog,
            found,
            route,
            method,
            encoding,
            series,
        } = self.resolve(request)?;
        let resource = match found {
            Found::List => catalog.pods_body(),
            Found::Pod(position, part) => catalog.pod_body(position, part),
        };
        let headers = request.headers();
        let preconditions = envelope::Preconditions::of(headers);
        let id = envelope::request_id(headers);
        let variant = resource.variant(encoding);
        let head = self.heads.get(variant.encoding as usize);
        let mut response = match head.and_then(OnceLock::get) {
            Some(head) if preconditions.are_none() => answer_from_head(head, variant, id),
            _ => {
                let response = self.sealed(resource, encoding, preconditions, id);
                if let Some(head) = head
                    && response.status() == StatusCode::OK
                {
                    // Only the first plain 200 of each coding is kept; they are all alike.
                    let mut kept = response.headers().clone();
                    kept.insert(ROOM, HeaderValue::from_static(""));
                    let _ = head.set(kept);
                }
                response
            }
        };
        if method == "HEAD" {
            *response.body_mut() = Body::empty();
        }
        let status = response.status();
        let elapsed = start.elapsed();
        self.count(series, method, route, status, elapsed);
        envelope::access_line(&self.state, None, &response, method, route, elapsed);
        Some(response)
    }

    /// The answer as the router's layers make it, in the order they do.
    fn sealed(
        &self,
        resource: &Resource,
        encoding: Encoding,
        preconditions: envelope::Preconditions,
        id: HeaderValue,
    ) -> Response {
        let mut response = representation(resource, encoding);
        let response_headers = response.headers_mut();
        for (name, value) in &self.cors {
            response_headers.append(name, value.clone());
        }
        sealed_with_length(
            &self.state,
            CachePolicy::Public,
            true,
            preconditions,
            id,
            response,
        )
    }

    /// The pod of a `POST /pods/{pod}/bucket-policy` that the POST path takes: the path
    /// exactly, with an id in any case (as the router), and nothing the envelope refuses
    /// before any route.
    fn posted_to<B>(&self, request: &Request<B>) -> Option<PodRef> {
        if request.method() != Method::POST {
            return None;
        }
        // The path first: the refusal's checks are spent only on this route's requests.
        let id = request
            .uri()
            .path()
            .strip_prefix("/pods/")?
            .strip_suffix("/bucket-policy")?;
        if envelope::refusal(request).is_some() {
            return None;
        }
        let catalog = self.state.catalog();
        let position = catalog.table().position_ignoring_case(id)?;
        Some(PodRef { catalog, position })
    }

    /// The answer to a bucket-policy POST, as the router makes it: through the route's
    /// layers to its handler ([`post_service`]), then the envelope's seal; counted and
    /// logged as the envelope does.
    async fn post<B>(self: Arc<Self>, pod: PodRef, request: Request<B>) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let start = Instant::now();
        let preconditions = envelope::Preconditions::of(request.headers());
        let id = envelope::request_id(request.headers());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(pod);
        let Ok(response) = self.post_service.clone().oneshot(request).await;
        let response = sealed_with_length(
            &self.state,
            self.post_cache,
            false,
            preconditions,
            id,
            response,
        );
        let elapsed = start.elapsed();
        let route = self.post_route;
        self.state
            .metrics()
            .observe_request("POST", route, response.status(), elapsed);
        envelope::access_line(&self.state, None, &response, "POST", route, elapsed);
        response
    }
}

/// `response` sealed by the envelope (`envelope::seal`), then given the length of its body
/// as the router does last (a GET's, for a HEAD too).
fn sealed_with_length(
    state: &AppState,
    cache: CachePolicy,
    is_read: bool,
    preconditions: envelope::Preconditions,
    id: HeaderValue,
    response: Response,
) -> Response {
    let mut response = envelope::seal(state, cache, is_read, preconditions, id, response);
    if let Some(length) = response.body().size_hint().exact() {
        response
            .headers_mut()
            .entry(header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(length));
    }
    response
}

/// The bucket policy's handler inside the layers that the router puts around it, in the
/// same order (`http::routed`): CORS, compression, the body limit, the request timeout.
type PostService = BoxCloneSyncService<Request<Body>, Response, Infallible>;

fn post_service(state: &AppState, cors: &CorsLayer) -> PostService {
    let service = ServiceBuilder::new()
        .map_response(|response: Response<_>| response.map(Body::new))
        .layer(cors.clone())
        .layer(super::compression_layer())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(super::timeout_layer(state.settings()))
        .service_fn(|mut request: Request<Body>| async move {
            let Some(pod) = request.extensions_mut().remove::<PodRef>() else {
                // `FastPath::post` always puts the pod in.
                return Ok(ApiError::Status {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                }
                .into_response());
            };
            Ok::<_, Infallible>(match ApiJson::from_request(request, &()).await {
                Ok(json) => handlers::bucket_policy(pod, json).await.into_response(),
                Err(problem) => problem.into_response(),
            })
        });
    BoxCloneSyncService::new(service)
}

/// A header that a kept head holds only to be removed from each copy, which leaves the
/// copy room for the one header the connection adds (`Keep-Alive`, in `connections`). A
/// copy has no spare room otherwise, and hyper keeps each connection's last response
/// map to read its next request into: a map that grew for that header would cost every
/// kept-alive connection about 1 KiB (`bench/RESULTS.md`).
const ROOM: HeaderName = HeaderName::from_static("keep-alive");

/// The plain 200 of `variant`: `head`, a 200 of the same coding as [`FastPath::sealed`]
/// made it, with this variant's ETag and length and this request's id. Every other header
/// of that answer is the same for every resource (type, `Vary`, coding, CORS, caching,
/// `nosniff`), so a copy of the map replaces building and hashing it again per request;
/// the replaced values keep their places.
fn answer_from_head(head: &HeaderMap, variant: &Variant, id: HeaderValue) -> Response {
    let mut headers = head.clone();
    headers.remove(ROOM);
    headers.insert(header::ETAG, variant.etag.clone());
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(variant.body.len()),
    );
    headers.insert(envelope::X_REQUEST_ID.clone(), id);
    let mut response = Response::new(Body::from(variant.body.clone()));
    *response.headers_mut() = headers;
    response
}

/// A request the fast path takes.
struct Resolved {
    /// The catalog in force when the request arrived, which it is answered from.
    catalog: arc_swap::Guard<Arc<Catalog>>,
    found: Found,
    route: &'static str,
    method: &'static str,
    encoding: Encoding,
    /// The first of its two metric series (200, then 304) in [`FastPath::series`].
    series: usize,
}

/// Which resource of the catalog.
enum Found {
    List,
    Pod(usize, Part),
}

/// The headers `cors` adds to the response to a request without an `Origin`: asked of the
/// layer itself, around a service that answers at once.
fn cors_headers_without_origin(cors: &CorsLayer) -> Option<HeaderMap> {
    let mut service = cors.layer(tower::service_fn(|_: Request<Body>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Body::empty())))
    }));
    let request = Request::get("/pods").body(Body::empty()).ok()?;
    let future = std::pin::pin!(service.call(request));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(response)) => Some(response.headers().clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cors_headers_for_a_request_without_an_origin_come_from_the_layer() {
        let any = CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .expose_headers([header::ETAG]);
        let headers = cors_headers_without_origin(&any).unwrap();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(headers[header::ACCESS_CONTROL_EXPOSE_HEADERS], "etag");

        let listed = CorsLayer::new().allow_origin([HeaderValue::from_static("https://a.example")]);
        let headers = cors_headers_without_origin(&listed).unwrap();
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert!(headers.contains_key(header::VARY));
    }
}
