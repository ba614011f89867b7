//! The route table: every fact about each route, and which handler answers it.

use axum::http::Method;

use crate::catalog::Part;

/// How long clients and caches may keep a route's successful answers (errors, and
/// answers to a POST, are never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// `public, max-age=N` (`--cache-max-age`): resources that change only with the table.
    Public,
    /// `no-store`: answers about this process at this instant.
    NoStore,
}

/// What answers a route (see `http::method_router`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Handler {
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
    pub(super) handler: Handler,
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

/// A resource with no parameters, the same for every caller: cached.
const fn resource(path: &'static str, handler: Handler) -> Route {
    route(path, Method::GET, CachePolicy::Public, handler, path)
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
    resource("/openapi.yaml", Handler::OpenApi),
    resource("/pods", Handler::ListPods),
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
