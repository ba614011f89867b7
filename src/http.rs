//! The HTTP layer: the router, its shared state, and handlers that only translate between
//! HTTP and the catalog or the renderers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::bucket::BucketName;
use crate::catalog::{Catalog, Part, Rendered};
use crate::layers::{self, X_REQUEST_ID};
use crate::lookup::LookupQuery;
use crate::metrics::Metrics;
use crate::problem::{ApiError, BODY_LIMIT, FieldError, FieldLocation, quote};
use crate::render;
use crate::rules::{LambdaArnParams, ParamsError};

/// How the HTTP layer behaves; set from the command line.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `Cache-Control: public, max-age=N` on resources.
    pub cache_max_age: u32,
    /// Origins allowed by CORS; empty means any.
    pub cors_origins: Vec<HeaderValue>,
    /// How long a request that reads a body may take, body included, before it is
    /// answered 408.
    pub request_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cache_max_age: 300,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What every handler shares. Cloned for every request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state behind [`AppState`].
struct Shared {
    /// The catalog is swapped whole on reload; a request loads it once and finishes on
    /// the catalog it started with, whatever happens meanwhile.
    catalog: ArcSwap<Catalog>,
    metrics: Metrics,
    /// Set once shutdown begins; `/readyz` answers 503 from then on.
    draining: AtomicBool,
    settings: HttpSettings,
    /// `public, max-age=N`, made once from the settings.
    cache_control: HeaderValue,
}

impl AppState {
    pub fn new(catalog: Catalog) -> Self {
        Self::with_settings(catalog, HttpSettings::default())
    }

    pub fn with_settings(catalog: Catalog, settings: HttpSettings) -> Self {
        // Registering a fixed set of distinct metric names can't fail; if it ever did, it
        // would fail in every test, never only in production.
        #[allow(clippy::expect_used)]
        let metrics = Metrics::new().expect("metric names are distinct");
        metrics.table_in_force(&catalog);
        let cache_control =
            HeaderValue::try_from(format!("public, max-age={}", settings.cache_max_age))
                .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
        Self(Arc::new(Shared {
            catalog: ArcSwap::from_pointee(catalog),
            metrics,
            draining: AtomicBool::new(false),
            settings,
            cache_control,
        }))
    }

    /// The catalog in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.0.catalog.load_full()
    }

    /// Puts a new catalog in force; requests already running keep the old one.
    pub fn replace(&self, catalog: Catalog) {
        self.0.metrics.table_in_force(&catalog);
        self.0.catalog.store(Arc::new(catalog));
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// From now on, report not-ready.
    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    /// Whether shutdown has begun (and `/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    pub(crate) fn cache_control(&self) -> &HeaderValue {
        &self.0.cache_control
    }
}

/// How long clients and caches may keep a route's successful answers (errors, and
/// answers to a POST, are never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// `public, max-age=N` (`--cache-max-age`): resources that change only with the table.
    Public,
    /// `no-store`: answers about this process at this instant.
    NoStore,
}

/// What answers a route.
#[derive(Debug, Clone, Copy)]
enum Handler {
    Index,
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
    ListPods,
    Pod(Part),
    LambdaArn,
    BucketPolicy,
    Lookup,
}

impl Handler {
    fn method_router(self) -> MethodRouter<AppState> {
        match self {
            Self::Index => get(index),
            Self::Healthz => get(healthz),
            Self::Readyz => get(readyz),
            Self::Metrics => get(metrics),
            Self::OpenApi => get(openapi),
            Self::ListPods => get(list_pods),
            Self::Pod(part) => get(move |pod: PodRef| pod.serve(part)),
            Self::LambdaArn => get(lambda_arn),
            Self::BucketPolicy => post(bucket_policy),
            Self::Lookup => get(lookup),
        }
    }
}

/// Every fact about one route.
#[derive(Debug, Clone)]
pub struct Route {
    /// The path template, as axum matches it and as metrics and logs name it.
    pub path: &'static str,
    pub method: Method,
    pub cache: CachePolicy,
    /// Also served on the admin listener, outside the connection cap.
    pub admin: bool,
    /// A request target this route answers with a 200 (a POST with a valid body), for
    /// the tests.
    pub example: &'static str,
    handler: Handler,
}

const fn route(
    path: &'static str,
    method: Method,
    cache: CachePolicy,
    handler: Handler,
    example: &'static str,
) -> Route {
    Route {
        path,
        method,
        cache,
        admin: false,
        example,
        handler,
    }
}

/// An operational route: never cached, and served on the admin listener too.
const fn operational(path: &'static str, handler: Handler) -> Route {
    Route {
        path,
        method: Method::GET,
        cache: CachePolicy::NoStore,
        admin: true,
        example: path,
        handler,
    }
}

/// A resource of one pod, rendered at load.
const fn pod_part(path: &'static str, part: Part, example: &'static str) -> Route {
    route(
        path,
        Method::GET,
        CachePolicy::Public,
        Handler::Pod(part),
        example,
    )
}

/// Every route of the service: the one list the router, the index, the metrics labels and
/// the cache policy come from, and which the tests compare with the OpenAPI document.
/// (HEAD is answered on every GET route.)
pub static ROUTES: [Route; 17] = [
    route("/", Method::GET, CachePolicy::NoStore, Handler::Index, "/"),
    operational("/healthz", Handler::Healthz),
    operational("/readyz", Handler::Readyz),
    operational("/metrics", Handler::Metrics),
    route(
        "/openapi.yaml",
        Method::GET,
        CachePolicy::Public,
        Handler::OpenApi,
        "/openapi.yaml",
    ),
    route(
        "/pods",
        Method::GET,
        CachePolicy::Public,
        Handler::ListPods,
        "/pods",
    ),
    pod_part("/pods/{pod}", Part::Whole, "/pods/eu1"),
    pod_part("/pods/{pod}/login", Part::Login, "/pods/eu1/login"),
    pod_part(
        "/pods/{pod}/events-api",
        Part::EventsApi,
        "/pods/eu1/events-api",
    ),
    pod_part("/pods/{pod}/sftp", Part::Sftp, "/pods/eu1/sftp"),
    pod_part("/pods/{pod}/rules", Part::Rules, "/pods/eu1/rules"),
    pod_part("/pods/{pod}/aws", Part::Aws, "/pods/eu1/aws"),
    pod_part(
        "/pods/{pod}/rules/iam-policy",
        Part::IamPolicy,
        "/pods/eu1/rules/iam-policy",
    ),
    route(
        "/pods/{pod}/rules/lambda-arn",
        Method::GET,
        CachePolicy::Public,
        Handler::LambdaArn,
        "/pods/eu1/rules/lambda-arn?account_id=123456789012&function=mprmyrule&alias=PROD",
    ),
    pod_part("/pods/{pod}/sdks", Part::Sdks, "/pods/eu1/sdks"),
    route(
        "/pods/{pod}/bucket-policy",
        Method::POST,
        CachePolicy::NoStore,
        Handler::BucketPolicy,
        "/pods/eu1/bucket-policy",
    ),
    route(
        "/lookup",
        Method::GET,
        CachePolicy::Public,
        Handler::Lookup,
        "/lookup?host=sftp.mparticle.com",
    ),
];

/// The route of a matched path template. Only reads are ever cached, so should a path
/// ever have several methods, list its GET first: the first route's facts are used.
pub(crate) fn find_route(template: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.path == template)
}

/// The application: every route, inside CORS, compression, the request timeout and the
/// body limit, all inside the envelope of [`crate::layers`].
pub fn router(state: AppState) -> Router {
    app(state, |_| true)
}

/// The admin listener's application: only the operational routes, in the same envelope,
/// so that they answer, are counted and are logged as on the main listener.
pub fn admin_router(state: AppState) -> Router {
    app(state, |route| route.admin)
}

fn app(state: AppState, serves: impl Fn(&Route) -> bool) -> Router {
    let settings = &state.0.settings;
    let cors = CorsLayer::new()
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
        .max_age(Duration::from_secs(3600));

    // The request timeout bounds the routes that read a body. GET handlers read none and
    // answer from memory; a client slow to send its headers is the server's header-read
    // timeout's business. So the timer (a registration on tokio's timer wheel for every
    // request) is spent only where a client can hold a request open.
    let timeout =
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout);
    let router =
        ROUTES
            .iter()
            .filter(|route| serves(route))
            .fold(Router::new(), |router, route| {
                let handler = route.handler.method_router();
                let handler = if route.method == Method::POST {
                    handler.layer(timeout)
                } else {
                    handler
                };
                router.route(route.path, handler)
            });
    // Router::layer wraps each route and the fallback after routing, so every layer knows
    // the matched route template. The last layer added is the outermost.
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(cors)
        .layer(layers::EnvelopeLayer::new(state.clone()))
        .with_state(state)
}

/// `GET /`: what this service is, the table in force, and where everything is.
async fn index(State(state): State<AppState>) -> Response {
    #[derive(Serialize)]
    struct Index<'a> {
        service: &'static str,
        version: &'static str,
        table: TableInfo<'a>,
        links: Vec<Link<'a>>,
    }
    #[derive(Serialize)]
    struct TableInfo<'a> {
        version: &'a str,
        source: &'a str,
        loaded_at: String,
        pods: usize,
    }
    #[derive(Serialize)]
    struct Link<'a> {
        method: &'a str,
        href: &'static str,
    }
    let catalog = state.catalog();
    let table = catalog.table();
    let body = Index {
        service: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        table: TableInfo {
            version: table.version(),
            source: table.source(),
            loaded_at: humantime::format_rfc3339_seconds(catalog.loaded_at()).to_string(),
            pods: table.pods().len(),
        },
        links: ROUTES
            .iter()
            .map(|route| Link {
                method: route.method.as_str(),
                href: route.path,
            })
            .collect(),
    };
    crate::catalog::json(&body).into_response()
}

/// `GET /healthz`: the process is alive and answering.
async fn healthz() -> Response {
    Rendered::json(
        &br#"{"status": "ok"}
"#[..],
    )
    .into_response()
}

/// `GET /readyz`: a table is loaded (always, once serving) and shutdown has not begun.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        ApiError::NotReady.into_response()
    } else {
        Rendered::json(
            &br#"{"status": "ready"}
"#[..],
        )
        .into_response()
    }
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics().render();
    let etag = HeaderValue::try_from(crate::digest::etag(body.as_bytes()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            ),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

/// The OpenAPI document, compiled in.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

/// `GET /openapi.yaml`: the contract this service keeps.
async fn openapi() -> Response {
    static RENDERED: std::sync::LazyLock<(bytes::Bytes, HeaderValue)> =
        std::sync::LazyLock::new(|| {
            let etag = HeaderValue::try_from(crate::digest::etag(OPENAPI_YAML.as_bytes()))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
            (bytes::Bytes::from_static(OPENAPI_YAML.as_bytes()), etag)
        });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            ),
            (header::ETAG, RENDERED.1.clone()),
        ],
        RENDERED.0.clone(),
    )
        .into_response()
}

/// A JSON answer to a POST: no ETag, since it describes no resource that a GET could fetch.
fn posted_json(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `GET /pods`: a summary of every pod, in table order.
async fn list_pods(State(state): State<AppState>) -> Response {
    state.catalog().pods_body().clone().into_response()
}

/// The body of `POST /pods/{pod}/bucket-policy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BucketPolicyRequest {
    bucket: String,
}

/// `POST /pods/{pod}/bucket-policy`: the S3 bucket policy for a forwarding bucket.
async fn bucket_policy(
    pod: PodRef,
    ApiJson(request): ApiJson<BucketPolicyRequest>,
) -> Result<Response, ApiError> {
    let table = pod.catalog.table();
    let prefix = &table.s3().bucket_prefix;
    let bucket = BucketName::parse(prefix, &request.bucket).map_err(|rules| ApiError::Invalid {
        detail: format!(
            "The bucket name {} breaks {} rule{}: {}.",
            crate::problem::quote(&request.bucket),
            rules.len(),
            if rules.len() == 1 { "" } else { "s" },
            rules
                .iter()
                .map(|r| r.describe(prefix))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        errors: rules
            .iter()
            .map(|r| FieldError {
                location: FieldLocation::Pointer("#/bucket".into()),
                rule: r.to_string(),
                detail: r.describe(prefix),
            })
            .collect(),
    })?;
    let pod = table.pod_at(pod.position);
    Ok(posted_json(render::bucket_policy(
        &pod.s3.principals,
        &bucket,
    )))
}

/// `GET /pods/{pod}/rules/lambda-arn?account_id=…&function=…&alias=…`: a Rules ARN.
async fn lambda_arn(
    pod: PodRef,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let table = pod.catalog.table();
    let params = LambdaArnParams::parse(&pairs, table.rules())
        .map_err(|e| ApiError::BadRequest {
            detail: match e {
                ParamsError::Unknown(name) => format!(
                    "Unknown query parameter {}; expected account_id, function and alias.",
                    quote(&name)
                ),
                ParamsError::Repeated(name) => {
                    format!("The query parameter {name} is given more than once.")
                }
            },
        })?
        .map_err(|broken| ApiError::Invalid {
            detail: broken
                .iter()
                .map(|b| b.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ")
                + ".",
            errors: broken
                .into_iter()
                .map(|b| FieldError {
                    location: FieldLocation::Parameter(b.parameter.into()),
                    rule: b.rule.into(),
                    detail: b.detail,
                })
                .collect(),
        })?;
    let region = &table.pod_at(pod.position).aws_region;
    let arn = render::lambda_arn(region, &params.account_id, &params.function, &params.alias);
    Ok(Rendered::json(render::to_json(&serde_json::json!({ "arn": arn }), b"  ")).into_response())
}

/// `GET /lookup?host=…` (or `url`, `ip`, `api_key`, `aws_region`, `arn`): which pods?
///
/// The query string may hold an API key: it is never logged, and no error quotes it.
async fn lookup(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let query = LookupQuery::parse(&pairs).map_err(|e| ApiError::BadRequest {
        detail: e.to_string(),
    })?;
    state
        .catalog()
        .lookup(&query)
        .map(IntoResponse::into_response)
        .ok_or_else(|| ApiError::NoMatch {
            detail: format!("No pod matches this {}.", query.kind().name()),
        })
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute {
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The pod a path names, resolved against the catalog in force when the request began.
///
/// Ids match in any letter case (`/pods/EU1`); bodies always carry the canonical id.
struct PodRef {
    catalog: Arc<Catalog>,
    position: usize,
}

impl PodRef {
    /// `GET /pods/{pod}` or one of its parts: the body rendered at load.
    async fn serve(self, part: Part) -> Response {
        self.catalog
            .pod_body(self.position, part)
            .clone()
            .into_response()
    }
}

impl FromRequestParts<AppState> for PodRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(given) = Path::<String>::from_request_parts(parts, state).await?;
        let catalog = state.catalog();
        match catalog.table().position_ignoring_case(&given) {
            Some(position) => Ok(Self { catalog, position }),
            None => Err(ApiError::UnknownPod {
                given,
                known: catalog
                    .table()
                    .pods()
                    .iter()
                    .map(|p| p.id().to_string())
                    .collect(),
            }),
        }
    }
}

/// `Json`, with its rejections in the problem shape (400, 413, 415 or 422).
struct ApiJson<T>(T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}
