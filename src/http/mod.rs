//! The HTTP layer: [`App`], the one service every request passes.
//!
//! - [`App`]: the envelope (`envelope`) around two ways in: a GET or HEAD of a
//!   pre-rendered resource without an `Origin` goes straight to its answer
//!   (`prerendered`); everything else goes through the router;
//! - [`routes`]: the route table, every fact about each route;
//! - `handlers`: the handlers, which only translate between HTTP and the catalog;
//! - `extract`: the pod a path names, and JSON bodies;
//! - `ui`: the setup page's routes (the HTML is `page`'s);
//! - `prerendered`: those resources' answers, from heads kept beside the catalog;
//! - `envelope`: what is done for every request (refusal, seal, metrics, access line);
//! - `request`: what a request says of itself (its id, its preconditions, its Host) and
//!   the headers the API reads;
//! - `cors`: the CORS policy;
//! - `encoding`: which content coding a request accepts, for the pre-rendered resources;
//! - `state`: what every request shares.
//!
//! Each tower-http layer is stacked in one place, `layered`, around each path as one
//! service of concrete layers. [`App::new`] builds the routes twice from it: with CORS,
//! for a request with an `Origin` (and a preflight), and without, for every other. Inside
//! CORS, compression, which leaves the pre-rendered answers alone; around each handler
//! that reads a body, the request timeout and the body limit.

mod cors;
pub(crate) mod encoding;
mod envelope;
mod extract;
mod handlers;
mod prerendered;
mod request;
pub mod routes;
pub(crate) mod state;
mod ui;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::BoxError;
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler as _;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{MethodRouter, get_service, post_service};
use bytes::Bytes;
use futures_util::future::Either;
use tower::{Service, ServiceBuilder, ServiceExt as _};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;

pub use handlers::OPENAPI_YAML;
pub use routes::{CachePolicy, ROUTES, Route};

use crate::catalog::Part;
use crate::metrics::RequestSeries;
use crate::problem::BODY_LIMIT;
use envelope::UNMATCHED;
use extract::PodRef;
use handlers::{
    bucket_policy, check_bucket_policy, check_iam_policy, healthz, index, lambda_arn, list_pods,
    lookup, lookup_posted, method_not_allowed, metrics, no_route, openapi, readyz,
};
use prerendered::Found;
use request::{Preconditions, X_REQUEST_ID};
use routes::Handler;
use state::AppState;
use ui::{ui_asset, ui_index, ui_pod};

/// The application as served on the main listener.
pub fn app(state: AppState) -> App {
    App::new(state, "main", |_| true)
}

/// The admin listener's application: only the operational routes, in the same envelope,
/// so that they answer, are counted and are logged as on the main listener.
pub fn admin_app(state: AppState) -> App {
    App::new(state, "admin", |route| route.admin)
}

/// The one service every request passes; see the module documentation.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    state: AppState,
    /// The listener it serves, as its metrics name it: `main` or `admin`.
    listener: &'static str,
    /// The router of requests without an `Origin` (no CORS), and that of the rest.
    plain: Router,
    with_cors: Router,
    /// The pre-rendered resources this app serves, by path.
    dispatch: Dispatch,
    /// Per route, the series of its plain answers ([`SERIES`]), resolved on first use.
    series: Box<[OnceLock<RequestSeries>]>,
}

/// The answers counted in a series of their own, resolved once per route: the rest are
/// looked up by their labels.
const SERIES: [(&str, StatusCode); 5] = [
    ("GET", StatusCode::OK),
    ("GET", StatusCode::NOT_MODIFIED),
    ("HEAD", StatusCode::OK),
    ("HEAD", StatusCode::NOT_MODIFIED),
    ("POST", StatusCode::OK),
];

/// The route an answer came from, by its place in [`ROUTES`] ([`layered`] puts it on
/// the answer).
#[derive(Debug, Clone, Copy)]
struct Matched(usize);

impl App {
    fn new(state: AppState, listener: &'static str, serves: impl Fn(&Route) -> bool) -> Self {
        let cors = cors::layer(&state.settings().cors_origins);
        Self(Arc::new(Inner {
            plain: router(&state, &serves, None),
            with_cors: router(&state, &serves, Some(&cors)),
            dispatch: Dispatch::new(&serves),
            listener,
            series: (0..ROUTES.len() * SERIES.len())
                .map(|_| OnceLock::new())
                .collect(),
            state,
        }))
    }
}

/// The router of the routes `serves` takes, each inside its layers, with CORS if `cors`.
fn router(state: &AppState, serves: &impl Fn(&Route) -> bool, cors: Option<&CorsLayer>) -> Router {
    let mut router = Router::new();
    for (index, route) in ROUTES.iter().enumerate() {
        let first_of_its_path = ROUTES.iter().position(|r| r.path == route.path) == Some(index);
        if !(serves(route) && first_of_its_path) {
            continue;
        }
        // Every method of the path (`/lookup` has two), and the path's 405.
        let methods = ROUTES
            .iter()
            .filter(|r| r.path == route.path && serves(r))
            .fold(MethodRouter::new(), |methods, r| {
                methods.merge(method_router(r.handler, state, Some(index), cors))
            })
            .fallback_service(layered(
                method_not_allowed.with_state(state.clone()),
                Some(index),
                cors,
            ));
        router = router.route(route.path, methods);
    }
    router
        .fallback_service(layered(no_route.with_state(state.clone()), None, cors))
        .with_state(state.clone())
}

/// `service` inside the layers of every answer the router makes, as one service of
/// concrete layers (which the router boxes once; a layer added to a `Router` or a
/// `MethodRouter` is boxed, and cloned, per request): the route's place on its answer,
/// CORS (for the router of requests with an `Origin`), then compression.
fn layered<S>(
    service: S,
    route: Option<usize>,
    cors: Option<&CorsLayer>,
) -> impl Service<
    axum::extract::Request,
    Response = Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static
where
    S: Service<axum::extract::Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    ServiceBuilder::new()
        .map_response(move |mut response: Response| {
            if let Some(index) = route {
                response.extensions_mut().insert(Matched(index));
            }
            response
        })
        .option_layer(cors.cloned())
        .map_response(|response: Response<_>| response.map(Body::new))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .compress_when(DefaultPredicate::new().and(NotComplete)),
        )
        .service(service)
}

/// Compression of the answers made per request: a pre-rendered resource's answer carries
/// its own coding.
#[derive(Debug, Clone, Copy)]
struct NotComplete;

impl Predicate for NotComplete {
    fn should_compress<B: HttpBody>(&self, response: &Response<B>) -> bool {
        response.extensions().get::<envelope::Complete>().is_none()
    }
}

/// Whether CORS answers a request: it has an `Origin`, or it is a preflight (which
/// tower-http answers whether or not it has one).
fn through_cors<B>(request: &Request<B>) -> bool {
    request.headers().contains_key(header::ORIGIN) || request.method() == Method::OPTIONS
}

/// The handler a route names, inside the router's layers ([`layered`]); a handler that
/// reads a body also inside the request timeout and the body limit (a GET reads none, and
/// a client slow to send its headers is the connection's business). Called once per
/// route when a router is built.
fn method_router(
    handler: Handler,
    state: &AppState,
    route: Option<usize>,
    cors: Option<&CorsLayer>,
) -> MethodRouter<AppState> {
    let timeout = TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        state.settings().request_timeout,
    );
    macro_rules! get {
        ($handler:expr) => {
            get_service(layered($handler.with_state(state.clone()), route, cors))
        };
    }
    macro_rules! post {
        ($handler:expr) => {
            post_service(layered(
                ServiceBuilder::new()
                    .layer(timeout)
                    .layer(DefaultBodyLimit::max(BODY_LIMIT))
                    .service($handler.with_state(state.clone())),
                route,
                cors,
            ))
        };
    }
    match handler {
        Handler::Index => get!(index),
        Handler::Healthz => get!(healthz),
        Handler::Readyz => get!(readyz),
        Handler::Metrics => get!(metrics),
        Handler::OpenApi => get!(openapi),
        Handler::ListPods => get!(list_pods),
        Handler::Pod(part) => {
            get!(move |pod: PodRef, request: axum::extract::Request| pod.serve(part, request))
        }
        Handler::LambdaArn => get!(lambda_arn),
        Handler::BucketPolicy => post!(bucket_policy),
        Handler::CheckBucketPolicy => post!(check_bucket_policy),
        Handler::CheckIamPolicy => post!(check_iam_policy),
        Handler::Lookup => get!(lookup),
        Handler::LookupPosted => post!(lookup_posted),
        Handler::UiIndex => get!(ui_index),
        Handler::UiPod => get!(ui_pod),
        Handler::UiAsset => get!(ui_asset),
    }
}

/// The pre-rendered resources by path: `/pods`, and each part's path after
/// `/pods/{pod}` (`""`, `"/login"`, …), from the route table.
struct Dispatch {
    /// `/pods`'s place in [`ROUTES`], if this app serves it.
    list: Option<usize>,
    /// Per part: its path after `/pods/{pod}`, the part and its route's place.
    parts: Vec<(&'static str, Part, usize)>,
}

impl Dispatch {
    fn new(serves: &impl Fn(&Route) -> bool) -> Self {
        let mut dispatch = Self {
            list: None,
            parts: Vec::new(),
        };
        for (index, route) in ROUTES.iter().enumerate().filter(|(_, r)| serves(r)) {
            match route.handler {
                Handler::ListPods => dispatch.list = Some(index),
                Handler::Pod(part) => {
                    if let Some(suffix) = route.path.strip_prefix("/pods/{pod}") {
                        dispatch.parts.push((suffix, part, index));
                    }
                }
                _ => {}
            }
        }
        dispatch
    }

    /// The resource `uri` names in `served`, and its route's place; `None` for any other
    /// path, for a path that only names one once decoded (`/pods/%65u1`), and for a
    /// `?format=` that is refused: the router's.
    fn find(&self, uri: &Uri, served: &state::Served) -> Option<(Found, usize)> {
        let rest = uri.path().strip_prefix("/pods")?;
        if rest.is_empty() {
            return self.list.map(|index| (Found::List, index));
        }
        let rest = rest.strip_prefix('/')?;
        let (id, suffix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let &(_, part, index) = self.parts.iter().find(|(s, ..)| *s == suffix)?;
        let position = served.catalog.table().position_ignoring_case(id)?;
        let part = prerendered::in_format(part, uri).ok()?;
        Some((Found::Pod(position, part), index))
    }
}

impl<B> Service<Request<B>> for App
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> AppFuture {
        self.answer(request)
    }
}

/// What a connection calls, with the app shared rather than cloned for each request.
impl hyper::service::Service<Request<hyper::body::Incoming>> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn call(&self, request: Request<hyper::body::Incoming>) -> AppFuture {
        self.answer(request)
    }
}

impl crate::connections::Service for App {}

impl App {
    /// The envelope: see `envelope`'s documentation.
    fn answer<B>(&self, mut request: Request<B>) -> AppFuture
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let start = Instant::now();
        let method = envelope::method_label(request.method());
        let id = request::request_id(request.headers());
        let through_cors = through_cors(&request);
        let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
        let id = match self.answer_at_once(&request, id, is_read && !through_cors) {
            Ok((response, route)) => {
                self.finish(&response, method, route, start);
                return Either::Left(std::future::ready(Ok(response)));
            }
            Err(id) => id,
        };
        let preconditions = Preconditions::of(request.headers());
        request
            .headers_mut()
            .insert(X_REQUEST_ID.clone(), id.clone());
        let request = request.map(Body::new);
        let app = self.clone();
        Either::Right(Box::pin(async move {
            let inner = &app.0;
            let router = if through_cors {
                &inner.with_cors
            } else {
                &inner.plain
            };
            let Ok(response) = router.clone().oneshot(request).await;
            let route = response.extensions().get::<Matched>().map(|m| m.0);
            let response = envelope::seal(
                &inner.state,
                route.and_then(|index| ROUTES.get(index)),
                is_read,
                through_cors,
                &preconditions,
                id,
                response,
            );
            app.finish(&response, method, route, start);
            Ok(response)
        }))
    }

    /// The answer to a request refused before any route ([`envelope::refusal`]), or, if
    /// `plain_read` (a GET or HEAD without an `Origin`), to one of a pre-rendered resource;
    /// and its route's place. A request for the router gets its id `id` back.
    fn answer_at_once<B>(
        &self,
        request: &Request<B>,
        id: HeaderValue,
        plain_read: bool,
    ) -> Result<(Response, Option<usize>), HeaderValue> {
        let inner = &self.0;
        let seal = |route: Option<usize>, is_read, id, response| {
            let route = route.and_then(|index| ROUTES.get(index));
            let none = Preconditions::default();
            envelope::seal(&inner.state, route, is_read, false, &none, id, response)
        };
        if let Some(refused) = envelope::refusal(request) {
            return Ok((seal(None, false, id, refused.into_response()), None));
        }
        if !plain_read {
            return Err(id);
        }
        let served = inner.state.served();
        let Some((found, route)) = inner.dispatch.find(request.uri(), &served) else {
            return Err(id);
        };
        let is_head = request.method() == Method::HEAD;
        let answer = prerendered::answer(
            &served.catalog,
            &served.heads,
            found,
            request.headers(),
            false,
            is_head,
            id,
        );
        let response = match answer {
            Ok(complete) => complete,
            Err((status, id)) => seal(Some(route), true, id, prerendered::refused(status)),
        };
        Ok((response, Some(route)))
    }

    /// Counts the answer in its route's series and writes its access line.
    fn finish(
        &self,
        response: &Response,
        method: &'static str,
        route: Option<usize>,
        start: Instant,
    ) {
        let elapsed = start.elapsed();
        let status = response.status();
        let template = route
            .and_then(|index| ROUTES.get(index))
            .map_or(UNMATCHED, |r| r.path);
        let (metrics, listener) = (self.0.state.metrics(), self.0.listener);
        let slot = route.and_then(|index| {
            let kind = SERIES
                .iter()
                .position(|&(m, s)| m == method && s == status)?;
            self.0.series.get(index * SERIES.len() + kind)
        });
        match slot {
            Some(slot) => slot
                .get_or_init(|| metrics.request_series(listener, method, template, status))
                .observe(elapsed),
            None => metrics.observe_request(listener, method, template, status, elapsed),
        }
        envelope::access_line(&self.0.state, response, method, template, elapsed);
    }
}

/// The future of an [`App`] call: an answer already made, or the router's.
pub type AppFuture = Either<
    std::future::Ready<Result<Response, Infallible>>,
    Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>,
>;
