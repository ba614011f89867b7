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
    /// `public, max-age=31536000, immutable`: files whose name changes with their bytes.
    Immutable,
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
    CheckBucketPolicy,
    CheckIamPolicy,
    Lookup,
    LookupPosted,
    UiIndex,
    UiPod,
    UiAsset,
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
    /// An HTML page (or its assets) for people, rather than an API resource.
    pub page: bool,
    /// A request target this route answers with a 200 (a POST with a valid body), when
    /// the path with EU1 for `{pod}` is not enough; see [`Route::example`].
    example: Option<&'static str>,
    pub(super) handler: Handler,
}

const fn route(
    path: &'static str,
    method: Method,
    cache: CachePolicy,
    handler: Handler,
    example: Option<&'static str>,
) -> Route {
    Route {
        path,
        method,
        cache,
        admin: false,
        page: false,
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
        page: false,
        example: None,
        handler,
    }
}

/// A route of the setup page.
const fn page(path: &'static str, cache: CachePolicy, handler: Handler) -> Route {
    Route {
        path,
        method: Method::GET,
        cache,
        admin: false,
        page: true,
        example: None,
        handler,
    }
}

/// A resource with no parameters, the same for every caller: cached.
const fn resource(path: &'static str, handler: Handler) -> Route {
    route(path, Method::GET, CachePolicy::Public, handler, None)
}

/// A resource of one pod, rendered at load.
const fn pod_part(path: &'static str, part: Part) -> Route {
    route(
        path,
        Method::GET,
        CachePolicy::Public,
        Handler::Pod(part),
        None,
    )
}

/// Every route of the service: the one list the router, the index, the metrics labels and
/// the cache policy come from, and which the tests compare with the OpenAPI document.
/// (HEAD is answered on every GET route.)
pub static ROUTES: [Route; 24] = [
    route("/", Method::GET, CachePolicy::NoStore, Handler::Index, None),
    operational("/healthz", Handler::Healthz),
    operational("/readyz", Handler::Readyz),
    operational("/metrics", Handler::Metrics),
    resource("/openapi.yaml", Handler::OpenApi),
    resource("/pods", Handler::ListPods),
    pod_part("/pods/{pod}", Part::Whole),
    pod_part("/pods/{pod}/login", Part::Login),
    pod_part("/pods/{pod}/events-api", Part::EventsApi),
    pod_part("/pods/{pod}/sftp", Part::Sftp),
    pod_part("/pods/{pod}/rules", Part::Rules),
    pod_part("/pods/{pod}/aws", Part::Aws),
    pod_part("/pods/{pod}/rules/iam-policy", Part::IamPolicy),
    route(
        "/pods/{pod}/rules/lambda-arn",
        Method::GET,
        CachePolicy::Public,
        Handler::LambdaArn,
        Some("/pods/eu1/rules/lambda-arn?account_id=123456789012&function=mprmyrule&alias=PROD"),
    ),
    pod_part("/pods/{pod}/sdks", Part::Sdks),
    route(
        "/pods/{pod}/bucket-policy",
        Method::POST,
        CachePolicy::NoStore,
        Handler::BucketPolicy,
        None,
    ),
    // A customer's policy, checked: never stored, since it is theirs.
    route(
        "/pods/{pod}/bucket-policy/check",
        Method::POST,
        CachePolicy::NoStore,
        Handler::CheckBucketPolicy,
        None,
    ),
    route(
        "/pods/{pod}/rules/iam-policy/check",
        Method::POST,
        CachePolicy::NoStore,
        Handler::CheckIamPolicy,
        None,
    ),
    route(
        "/lookup",
        Method::GET,
        CachePolicy::Public,
        Handler::Lookup,
        Some("/lookup?host=sftp.mparticle.com"),
    ),
    // The same question with its value in the body, out of every URL and log.
    route(
        "/lookup",
        Method::POST,
        CachePolicy::NoStore,
        Handler::LookupPosted,
        None,
    ),
    // The page answers without its final slash too, so that a typed `/ui` works.
    page("/ui", CachePolicy::Public, Handler::UiIndex),
    page("/ui/", CachePolicy::Public, Handler::UiIndex),
    page("/ui/{pod}", CachePolicy::Public, Handler::UiPod),
    page(
        "/ui/assets/{file}",
        CachePolicy::Immutable,
        Handler::UiAsset,
    ),
];

impl Route {
    /// A request target this route answers with a 200 (a POST with a valid body): its
    /// path with EU1 for `{pod}`, and the query the route needs.
    pub fn example(&self) -> std::borrow::Cow<'static, str> {
        if let Handler::UiAsset = self.handler {
            return format!("/ui/assets/{}", crate::page::ASSETS[0].name).into();
        }
        match self.example {
            Some(example) => example.into(),
            None => self.path.replace("{pod}", "eu1").into(),
        }
    }
}
