//! The handlers: each only translates between HTTP and the catalog or the renderers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::envelope::etag_header;
use super::extract::{ApiJson, PodRef, serve_prerendered};
use super::prerendered::Found;
use super::routes::ROUTES;
use super::state::AppState;
use crate::iac::Format;
use crate::json::Style;
use crate::lookup::{LookupKind, LookupQuery};
use crate::problem::ApiError;

/// `GET /`: what this service is, the table in force, and where everything is.
///
/// A browser (whose `Accept` ranks HTML above JSON) is sent to the setup page instead.
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let vary = (header::VARY, HeaderValue::from_static("accept"));
    if super::ui::prefers_html(&headers) {
        return (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, HeaderValue::from_static("/ui/")), vary],
        )
            .into_response();
    }
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
    (
        [vary],
        Rendered::json(crate::catalog::render_json(&body, Style::Pretty)),
    )
        .into_response()
}

/// `GET /healthz`: the process is alive and answering.
pub(super) async fn healthz() -> Response {
    Rendered::json(
        &br#"{"status": "ok"}
"#[..],
    )
    .into_response()
}

/// `GET /readyz`: a table is loaded (always, once serving) and shutdown has not begun.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
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
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics().render();
    let etag = etag_header(body.as_bytes());
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
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// `GET /openapi.yaml`: the contract this service keeps.
pub(super) async fn openapi() -> Response {
    static RENDERED: std::sync::LazyLock<(bytes::Bytes, HeaderValue)> =
        std::sync::LazyLock::new(|| {
            let etag = etag_header(OPENAPI_YAML.as_bytes());
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

/// `GET /pods`: a summary of every pod, in table order.
pub(super) async fn list_pods(State(state): State<AppState>, request: Request) -> Response {
    let served = state.served();
    serve_prerendered(&served, Found::List, request)
}

/// The body of `POST /pods/{pod}/bucket-policy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BucketPolicyRequest {
    bucket: String,
}

/// `POST /pods/{pod}/bucket-policy[?format=…]`: the S3 bucket policy for a forwarding
/// bucket, as JSON, Terraform or CloudFormation.
pub(super) async fn bucket_policy(
    pod: PodRef,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ApiJson(request): ApiJson<BucketPolicyRequest>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let format = Format::from_query(&pairs)?;
    let policy =
        pod.catalog()
            .bucket_policy(pod.position, &request.bucket, format, Style::Pretty)?;
    Ok(Rendered::posted(policy, format.media_type()).into_response())
}

/// `POST /pods/{pod}/bucket-policy/check[?bucket=NAME]`: what is wrong with the posted
/// bucket policy, for the pod. The policy is the customer's: the answer is never stored.
pub(super) async fn check_bucket_policy(
    pod: PodRef,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ApiJson(document): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let mut given = pairs.iter().filter(|(name, _)| name == "bucket");
    let bucket = given.next().map(|(_, value)| value.as_str());
    if given.next().is_some() {
        return Err(ApiError::from(crate::domain::Violation::parameter(
            "bucket",
            "once",
            "bucket must be given once".into(),
        )));
    }
    let checked =
        pod.catalog()
            .check_bucket_policy(pod.position, bucket, &document, Style::Pretty)?;
    Ok(Rendered::posted(checked.body, "application/json").into_response())
}

/// `POST /pods/{pod}/rules/iam-policy/check`: what is wrong with the posted policy of the
/// IAM user that Rules use, for the pod.
pub(super) async fn check_iam_policy(
    pod: PodRef,
    ApiJson(document): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let checked = pod
        .catalog()
        .check_iam_policy(pod.position, &document, Style::Pretty)?;
    Ok(Rendered::posted(checked.body, "application/json").into_response())
}

/// `GET /pods/{pod}/rules/lambda-arn?account_id=…&function=…&alias=…`: a Rules ARN.
pub(super) async fn lambda_arn(
    pod: PodRef,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let arn = pod
        .catalog()
        .lambda_arn(pod.position, &pairs, Style::Pretty)?;
    Ok(Rendered::json(arn).into_response())
}

/// `GET /lookup?q=…` (or `host`, `url`, `ip`, `api_key`, `aws_region`, `arn`): which pods?
///
/// The query string may hold an API key: it is never logged, and no error quotes it.
pub(super) async fn lookup(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query?;
    let query = LookupQuery::parse(&pairs)?;
    let mut response =
        Rendered::json(state.catalog().lookup_json(&query, Style::Pretty)?).into_response();
    let may_hold_a_key = query.kind() == LookupKind::ApiKey
        || pairs.first().is_some_and(|(name, value)| {
            name == "q" || (name == "url" && crate::lookup::url_has_userinfo(value))
        });
    if may_hold_a_key {
        // The URL holds half a credential (a key, or a URL's user:password@), or may
        // (`q` takes whatever is pasted): no
        // shared cache may keep it, and no browser cache either. The envelope keeps a
        // Cache-Control a handler has set.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(response)
}

/// The body of `POST /lookup`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LookupRequest {
    q: String,
}

/// `POST /lookup` with `{"q": …}`: as `GET /lookup?q=…`, with the value out of the URL,
/// so that a pasted API key never reaches a proxy's or a browser's history.
pub(super) async fn lookup_posted(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LookupRequest>,
) -> Result<Response, ApiError> {
    let query = LookupQuery::read(&request.q)?;
    let answer = state.catalog().lookup_json(&query, Style::Pretty)?;
    Ok(Rendered::posted(answer, "application/json").into_response())
}

pub(super) async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute {
        path: uri.path().to_owned(),
    }
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A body, with its strong ETag if it is a resource, ready to send: the one way an
/// answer made per request is made.
#[derive(Debug, Clone)]
pub(super) struct Rendered {
    body: Bytes,
    media_type: &'static str,
    etag: Option<HeaderValue>,
}

impl Rendered {
    /// Wraps a JSON body, hashing it for its ETag.
    pub(super) fn json(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = Some(etag_header(&body));
        Self {
            body,
            media_type: "application/json",
            etag,
        }
    }

    /// Wraps the answer to a POST, of `media_type`: no ETag, since it describes no
    /// resource that a GET could fetch.
    pub(super) fn posted(body: impl Into<Bytes>, media_type: &'static str) -> Self {
        Self {
            body: body.into(),
            media_type,
            etag: None,
        }
    }
}

impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.media_type),
            )],
            self.body,
        )
            .into_response();
        if let Some(etag) = self.etag {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}
