//! The HTTP layer: the router built from the route table, inside the envelope, behind
//! the fast path.
//!
//! - `fast`: the application as served, [`App`]: the pre-rendered GETs answered at once,
//!   the bucket-policy POST through its route's layers without the router, everything
//!   else through the router;
//! - [`routes`]: the route table, every fact about each route;
//! - `handlers`: the handlers, which only translate between HTTP and the catalog;
//! - `extract`: the pod a path names, and JSON bodies;
//! - `ui`: the setup page's routes (the HTML is `page`'s);
//! - `encoding`: which content coding a request accepts, for the pre-rendered resources;
//! - [`envelope`]: the one layer around every route (request id, access log, metrics,
//!   caching, problem bodies for bare errors, nosniff).

pub(crate) mod encoding;
pub mod envelope;
mod extract;
mod fast;
mod handlers;
pub mod routes;
mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::routing::{MethodRouter, get, post};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

pub use fast::{App, AppFuture};
pub use handlers::OPENAPI_YAML;
pub use routes::{CachePolicy, ROUTES, Route};

use crate::problem::BODY_LIMIT;
use crate::state::AppState;
use envelope::X_REQUEST_ID;
use extract::PodRef;
use handlers::{
    bucket_policy, healthz, index, lambda_arn, list_pods, lookup, lookup_posted,
    method_not_allowed, metrics, no_route, openapi, readyz,
};
use routes::Handler;
use ui::{ui_asset, ui_index, ui_pod};

/// The application as served: the fast path for the pre-rendered GETs and the
/// bucket-policy POST, then [`router`].
pub fn app(state: AppState) -> App {
    let cors = cors_layer(state.settings());
    App::new(state.clone(), routed(state, |_| true, &cors), &cors)
}

/// Every route, inside CORS, compression, the request timeout and the body limit, all
/// inside the envelope (`http::envelope`): what [`app`] does for every request its fast
/// path leaves.
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(state.settings());
    routed(state, |_| true, &cors)
}

/// The admin listener's application: only the operational routes, in the same envelope,
/// so that they answer, are counted and are logged as on the main listener.
pub fn admin_app(state: AppState) -> App {
    let cors = cors_layer(state.settings());
    App::routed(routed(state, |route| route.admin, &cors))
}

fn cors_layer(settings: &crate::state::HttpSettings) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(if settings.cors_origins.is_empty() {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(settings.cors_origins.clone())
        })
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            X_REQUEST_ID.clone(),
        ])
        .expose_headers([header::ETAG, X_REQUEST_ID.clone()])
        .max_age(Duration::from_secs(3600))
}

fn routed(state: AppState, serves: impl Fn(&Route) -> bool, cors: &CorsLayer) -> Router {
    let settings = state.settings();

    // The request timeout bounds the routes that read a body. GET handlers read none and
    // answer from memory; a client slow to send its headers is the server's header-read
    // timeout's business. So the timer (a registration on tokio's timer wheel for every
    // request) is spent only where a client can hold a request open.
    let timeout = timeout_layer(settings);
    let router =
        ROUTES
            .iter()
            .filter(|route| serves(route))
            .fold(Router::new(), |router, route| {
                let handler = method_router(route.handler);
                let handler = if route.method == Method::POST {
                    handler.layer(timeout)
                } else {
                    handler
                };
                router.route(route.path, handler)
            });
    // Router::layer wraps each route and the fallback after routing, so every layer knows
    // the matched route template. The last layer added is the outermost. The fast path
    // stacks the same layers around the bucket-policy handler (`fast::post_service`):
    // a layer added here goes there too (`tests/suite/fast_path.rs` compares the two).
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(compression_layer())
        .layer(cors.clone())
        .layer(envelope::EnvelopeLayer::new(state.clone()))
        .with_state(state)
}

/// Compression of the answers made per request (the pre-rendered ones carry their own
/// codings).
fn compression_layer() -> CompressionLayer {
    CompressionLayer::new().gzip(true).br(true)
}

/// The request timeout, for the routes that read a body: a bare 408 past it, which the
/// envelope makes a problem.
fn timeout_layer(settings: &crate::state::HttpSettings) -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout)
}

/// The handler a route names, made anew: called once per route when a router is built.
fn method_router(handler: Handler) -> MethodRouter<AppState> {
    match handler {
        Handler::Index => get(index),
        Handler::Healthz => get(healthz),
        Handler::Readyz => get(readyz),
        Handler::Metrics => get(metrics),
        Handler::OpenApi => get(openapi),
        Handler::ListPods => get(list_pods),
        Handler::Pod(part) => get(move |pod: PodRef, headers: HeaderMap| pod.serve(part, headers)),
        Handler::LambdaArn => get(lambda_arn),
        Handler::BucketPolicy => post(bucket_policy),
        Handler::Lookup => get(lookup),
        Handler::LookupPosted => post(lookup_posted),
        Handler::UiIndex => get(ui_index),
        Handler::UiPod => get(ui_pod),
        Handler::UiAsset => get(ui_asset),
    }
}
