//! The HTTP layer: the router, its shared state, and handlers that only translate between
//! HTTP and the catalog or the renderers.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;

use crate::bucket::BucketName;
use crate::catalog::{Catalog, Part};
use crate::lookup::LookupQuery;
use crate::problem::{ApiError, BODY_LIMIT, FieldError, FieldLocation, quote};
use crate::render;
use crate::rules::{LambdaArnParams, ParamsError};

/// What every handler shares: the current catalog.
///
/// The catalog is swapped whole on reload; a request loads it once and finishes on the
/// catalog it started with, whatever happens meanwhile.
#[derive(Clone)]
pub struct AppState {
    catalog: Arc<ArcSwap<Catalog>>,
}

impl AppState {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog: Arc::new(ArcSwap::from_pointee(catalog)),
        }
    }

    /// The catalog in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Puts a new catalog in force; requests already running keep the old one.
    pub fn replace(&self, catalog: Catalog) {
        self.catalog.store(Arc::new(catalog));
    }
}

/// Every route of the service, as `(method, path template)`; the contract test compares
/// this list with the router's behaviour and with the OpenAPI document.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/pods"),
    ("GET", "/pods/{pod}"),
    ("GET", "/pods/{pod}/login"),
    ("GET", "/pods/{pod}/events-api"),
    ("GET", "/pods/{pod}/sftp"),
    ("GET", "/pods/{pod}/rules"),
    ("GET", "/pods/{pod}/aws"),
    ("GET", "/pods/{pod}/rules/iam-policy"),
    ("GET", "/pods/{pod}/rules/lambda-arn"),
    ("GET", "/pods/{pod}/sdks"),
    ("POST", "/pods/{pod}/bucket-policy"),
    ("GET", "/lookup"),
];

/// The application: every route, with errors in the one problem shape.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/pods", get(list_pods))
        .route("/pods/{pod}", get(|pod: PodRef| pod.serve(Part::Whole)))
        .route(
            "/pods/{pod}/login",
            get(|pod: PodRef| pod.serve(Part::Login)),
        )
        .route(
            "/pods/{pod}/events-api",
            get(|pod: PodRef| pod.serve(Part::EventsApi)),
        )
        .route("/pods/{pod}/sftp", get(|pod: PodRef| pod.serve(Part::Sftp)))
        .route(
            "/pods/{pod}/rules",
            get(|pod: PodRef| pod.serve(Part::Rules)),
        )
        .route("/pods/{pod}/aws", get(|pod: PodRef| pod.serve(Part::Aws)))
        .route(
            "/pods/{pod}/rules/iam-policy",
            get(|pod: PodRef| pod.serve(Part::IamPolicy)),
        )
        .route("/pods/{pod}/rules/lambda-arn", get(lambda_arn))
        .route("/pods/{pod}/sdks", get(|pod: PodRef| pod.serve(Part::Sdks)))
        .route("/pods/{pod}/bucket-policy", post(bucket_policy))
        .route("/lookup", get(lookup))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Router::layer wraps each route (and the fallback) after routing, so the matched
        // template is known to the access log.
        .layer(axum::middleware::from_fn(crate::access_log::log_request))
        .with_state(state)
}

/// A JSON response from bytes rendered earlier.
fn json_bytes(body: Bytes) -> Response {
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
    json_bytes(state.catalog().pods_body().clone())
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
    Ok(json_bytes(
        render::bucket_policy(&pod.s3.principals, &bucket).into(),
    ))
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
    Ok(json_bytes(
        render::to_json(&serde_json::json!({ "arn": arn }), b"  ").into(),
    ))
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
        .map(json_bytes)
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
        json_bytes(self.catalog.pod_body(self.position, part).clone())
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
