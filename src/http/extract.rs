//! The extractors: the pod a path names, and JSON bodies with problem-shaped rejections.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::envelope::Complete;
use super::prerendered::{self, Found};
use super::request::X_REQUEST_ID;
use super::state::{AppState, Served};
use crate::catalog::{Catalog, Part};
use crate::domain::Violation;
use crate::problem::{ApiError, BODY_LIMIT};

/// The pod a path names, resolved against the catalog in force when the request began.
///
/// Ids match in any letter case (`/pods/EU1`); bodies always carry the canonical id.
#[derive(Clone)]
pub(super) struct PodRef {
    served: Arc<Served>,
    pub(super) position: usize,
}

impl PodRef {
    pub(super) fn catalog(&self) -> &Catalog {
        &self.served.catalog
    }

    /// `GET /pods/{pod}` or one of its parts, as the router has it: with an `Origin`, or
    /// with a path that names its pod only once decoded.
    pub(super) async fn serve(self, part: Part, request: Request) -> Response {
        match prerendered::in_format(part, request.uri()) {
            Ok(part) => serve_prerendered(&self.served, Found::Pod(self.position, part), request),
            Err(problem) => problem.into_response(),
        }
    }
}

/// A pre-rendered resource's answer ([`prerendered::answer`]) to a request the router
/// passed on.
pub(super) fn serve_prerendered(served: &Served, found: Found, request: Request) -> Response {
    let headers = request.headers();
    let id = headers
        .get(&X_REQUEST_ID)
        .cloned()
        .unwrap_or_else(|| axum::http::HeaderValue::from_static("-"));
    let answer = prerendered::answer(
        &served.catalog,
        &served.heads,
        found,
        headers,
        headers.contains_key(header::ORIGIN),
        request.method() == axum::http::Method::HEAD,
        id,
    );
    match answer {
        Ok(mut response) => {
            // For the layers and the envelope, outside the router.
            response.extensions_mut().insert(Complete);
            response
        }
        Err((status, _)) => prerendered::refused(status),
    }
}

impl FromRequestParts<AppState> for PodRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(given) = Path::<String>::from_request_parts(parts, state).await?;
        let served = arc_swap::Guard::into_inner(state.served());
        let position = served.catalog.position(&given)?;
        Ok(Self { served, position })
    }
}

/// A JSON body, read and judged in podmeta's own words: 415 if it is not declared as
/// JSON, 413 past the body limit, 400 if it is not JSON (with where it stops being JSON),
/// 422 if it is JSON of the wrong shape, with each broken rule in `errors`. No answer
/// repeats more of the body than a short quoted piece, and none carries serde's or
/// Rust's own wording (type names, `expected struct …`).
pub(super) struct ApiJson<T>(pub(super) T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let headers = req.headers();
        if !is_json(headers) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let coded = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .any(|coding| !coding.trim_ascii().eq_ignore_ascii_case(b"identity"));
        if coded {
            return Err(ApiError::EncodedBody);
        }
        // Refused from the announced length, before the body is read: a client that sent
        // `Expect: 100-continue` is not invited to send it.
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<u64>().ok());
        if announced.is_some_and(|length| length > u64::try_from(BODY_LIMIT).unwrap_or(u64::MAX)) {
            return Err(ApiError::PayloadTooLarge);
        }
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest {
                    detail: "The request body could not be read.".into(),
                }
            }
        })?;
        parse_body(&body).map(Self)
    }
}

/// `application/json`, or any `+json` type, parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as a `T`: see [`ApiJson`].
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value = crate::body::object(body)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let message = e.inner().to_string();
        let violation = if let Some(rest) = message.strip_prefix("missing field `") {
            // The field's name is ours (a struct field), not the client's.
            let field = rest.split('`').next().unwrap_or("");
            Violation::pointer(
                &format!("#/{field}"),
                "required",
                "This field is required.".into(),
            )
        } else if message.starts_with("unknown field") {
            Violation::pointer(
                &pointer,
                "unknown-field",
                "This field is not accepted.".into(),
            )
        } else if let Some((_, expected)) = message.split_once(", expected ") {
            // `expected a string`: the expectation is ours; what was found may be the
            // client's and is left out.
            Violation::pointer(
                &pointer,
                "type",
                format!("This must be {}.", plain(expected)),
            )
        } else {
            Violation::pointer(&pointer, "type", "This value has the wrong type.".into())
        };
        crate::body::shape_error(vec![violation])
    })
}

/// serde's expectation in plain words: what a JSON author knows, not a Rust type.
fn plain(expected: &str) -> &'static str {
    match expected {
        e if e.contains("string") => "a string",
        e if e.starts_with("struct") || e.contains("map") => "a JSON object",
        e if e.contains("sequence") => "an array",
        e if e.contains("bool") => "true or false",
        e if e.contains("integer") || e.contains("number") || e.contains("float") => "a number",
        _ => "of another type",
    }
}

/// A JSON pointer (`#/a/0/b`) to where serde stopped, each key escaped (RFC 6901) and cut
/// to a readable length, so that a 60,000-character key is not repeated whole.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::from("#");
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            serde_path_to_error::Segment::Seq { index } => pointer.push_str(&index.to_string()),
            serde_path_to_error::Segment::Map { key } => {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                let cut: String = escaped.chars().take(64).collect();
                let more = cut.len() < escaped.len();
                pointer.push_str(&cut);
                if more {
                    pointer.push('…');
                }
            }
            serde_path_to_error::Segment::Enum { variant } => pointer.push_str(variant),
            serde_path_to_error::Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}
