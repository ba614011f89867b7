//! The one error shape of the HTTP API: RFC 9457 `application/problem+json`.
//!
//! Every error a client can cause is an [`ApiError`] variant, with its status written next
//! to it. The body never carries internals (no Rust error text beyond what describes the
//! client's own input) and never echoes more than a short, quoted piece of that input.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::bucket::InvalidBucketName;
use crate::domain::{FieldLocation, Violation, quote};
use crate::lookup::LookupError;
use crate::rules::ParamsError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error that a request can meet, and the response it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 404: the path names a pod the table does not have.
    UnknownPod { given: String, known: Vec<String> },
    /// 404: no resource at this path.
    NoRoute { path: String },
    /// 404: a reverse lookup that no pod matches.
    NoMatch { detail: String },
    /// 405: the resource exists but not for this method (axum adds `Allow`).
    MethodNotAllowed,
    /// 400: the request is malformed (JSON that does not parse, a path that does not
    /// decode).
    BadRequest { detail: String },
    /// 413: the body is larger than the service accepts.
    PayloadTooLarge,
    /// 501: the request uses a feature of HTTP podmeta does not implement (a transfer
    /// coding other than chunked, which RFC 9112 §6.1 answers so).
    NotImplemented { detail: String },
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType,
    /// 415: the body has a content coding (`Content-Encoding`), which podmeta does not
    /// decode; the answer says `Accept-Encoding: identity` (RFC 9110 §15.5.16).
    EncodedBody,
    /// 503: the service is shutting down (`/readyz` only).
    NotReady,
    /// Any other status, made by a layer rather than a handler (408 after the request
    /// timeout, 406 when no acceptable encoding exists).
    Status { status: StatusCode },
    /// 422: well-formed, but its values break rules; each broken rule is listed.
    Invalid {
        detail: String,
        errors: Vec<Violation>,
    },
}

/// The largest body that a request may carry.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How many pod ids a 404 lists before it says how many more there are.
const KNOWN_PODS_SHOWN: usize = 20;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownPod { .. } | Self::NoRoute { .. } | Self::NoMatch { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
            Self::UnsupportedMediaType | Self::EncodedBody => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            Self::Status { status } => *status,
        }
    }

    /// The problem type: `about:blank` where the status says it all, a stable URN where a
    /// client may want to tell this problem from others of the same status.
    fn problem_type(&self) -> &'static str {
        match self {
            Self::UnknownPod { .. } => "urn:podmeta:problem:unknown-pod",
            Self::NoMatch { .. } => "urn:podmeta:problem:no-match",
            Self::Invalid { .. } => "urn:podmeta:problem:invalid-request",
            _ => "about:blank",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::UnknownPod { .. } => "Unknown pod",
            Self::NoMatch { .. } => "No matching pod",
            Self::Invalid { .. } => "Invalid request",
            other => other.status().canonical_reason().unwrap_or("Error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::UnknownPod { given, known } => {
                let mut shown = known
                    .iter()
                    .take(KNOWN_PODS_SHOWN)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if known.len() > KNOWN_PODS_SHOWN {
                    shown.push_str(&format!(" and {} more", known.len() - KNOWN_PODS_SHOWN));
                }
                format!("There is no pod {}. The pods are: {shown}.", quote(given))
            }
            Self::NoRoute { path } => format!(
                "There is nothing at {}. GET /pods lists the pods and their resources.",
                quote(path)
            ),
            Self::MethodNotAllowed => {
                "This resource does not support that method; the Allow header lists those it does."
                    .into()
            }
            Self::BadRequest { detail }
            | Self::NotImplemented { detail }
            | Self::Invalid { detail, .. }
            | Self::NoMatch { detail } => detail.clone(),
            Self::PayloadTooLarge => {
                format!("The request body is larger than {} KiB.", BODY_LIMIT / 1024)
            }
            Self::UnsupportedMediaType => {
                "The request body must be JSON, sent with Content-Type: application/json.".into()
            }
            Self::EncodedBody => "The request body has a Content-Encoding; podmeta reads only \
                                  plain bodies: send it without one."
                .into(),
            Self::NotReady => "podmeta is shutting down and takes no new work.".into(),
            Self::Status { status } => match *status {
                StatusCode::REQUEST_TIMEOUT => {
                    "The request was not complete within the time allowed.".into()
                }
                StatusCode::NOT_ACCEPTABLE => {
                    "No representation matches the request's Accept-Encoding.".into()
                }
                StatusCode::PRECONDITION_FAILED => {
                    "If-Match names no entity tag of the current representation.".into()
                }
                other => format!(
                    "The request failed: {}.",
                    other.canonical_reason().unwrap_or("error")
                ),
            },
        }
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [Violation],
}

impl ApiError {
    /// The problem+json body (RFC 9457) that an HTTP answer carries.
    pub fn problem_json(&self, style: crate::json::Style) -> String {
        let errors = match self {
            Self::Invalid { errors, .. } => errors.as_slice(),
            _ => &[],
        };
        crate::json::to_json(
            &ProblemBody {
                kind: self.problem_type(),
                title: self.title(),
                status: self.status().as_u16(),
                detail: self.detail(),
                errors,
            },
            style,
            b"  ",
        )
    }

    /// The problem in plain words for a person at a terminal: the detail, then each
    /// broken rule on a line of its own, named by the flag that carries the value
    /// (`--bucket` for `#/bucket`, `--account-id` for `account_id`).
    pub fn in_words(&self) -> String {
        let mut text = self.detail();
        if let Self::Invalid { errors, .. } = self {
            for violation in errors {
                let name = match &violation.location {
                    FieldLocation::Pointer(p) => p.trim_start_matches("#/"),
                    FieldLocation::Parameter(p) => p,
                };
                text.push_str(&format!(
                    "\n  --{}: {}",
                    name.replace('_', "-"),
                    violation.detail
                ));
            }
        }
        text
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            self.problem_json(crate::json::Style::Pretty),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            Self::EncodedBody => {
                headers.insert(
                    header::ACCEPT_ENCODING,
                    HeaderValue::from_static("identity"),
                );
            }
            // Where the body ends is unknown: nothing more can be read.
            Self::NotImplemented { .. } => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl From<InvalidBucketName> for ApiError {
    fn from(e: InvalidBucketName) -> Self {
        Self::invalid_bucket(&e, |rule, sentence| {
            Violation::pointer("#/bucket", rule, sentence)
        })
    }
}

impl ApiError {
    /// The 422 of a refused bucket name, each broken rule placed by `at` (`#/bucket` in a
    /// body, or the query parameter `bucket`).
    pub fn invalid_bucket(e: &InvalidBucketName, at: impl Fn(&str, String) -> Violation) -> Self {
        Self::Invalid {
            detail: e.sentence(),
            errors: e
                .rules
                .iter()
                .map(|rule| at(&rule.to_string(), rule.describe(&e.prefix)))
                .collect(),
        }
    }
}

/// One broken rule of a query parameter (`?format=`): a 422 that names it.
impl From<Violation> for ApiError {
    fn from(violation: Violation) -> Self {
        Self::Invalid {
            detail: format!("{}.", violation.detail),
            errors: vec![violation],
        }
    }
}

impl From<ParamsError> for ApiError {
    fn from(e: ParamsError) -> Self {
        match e {
            ParamsError::Unknown(name) => Self::BadRequest {
                detail: format!(
                    "Unknown query parameter {}; expected account_id, function and alias.",
                    quote(&name)
                ),
            },
            ParamsError::Repeated(name) => Self::BadRequest {
                detail: format!("The query parameter {name} is given more than once."),
            },
            ParamsError::Broken(violations) => Self::Invalid {
                detail: violations
                    .iter()
                    .map(|v| v.detail.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
                    + ".",
                errors: violations,
            },
        }
    }
}

/// A query that is not one well-formed lookup is the client's mistake: a 400 whose detail
/// is the message below (which never quotes a value, since it may be an API key).
impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        Self::BadRequest {
            detail: e.to_string(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest {
            detail: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest {
            detail: rejection.body_text(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (
                ApiError::UnknownPod {
                    given: "x".into(),
                    known: vec![],
                },
                404,
            ),
            (ApiError::NoRoute { path: "/x".into() }, 404),
            (ApiError::MethodNotAllowed, 405),
            (
                ApiError::BadRequest {
                    detail: String::new(),
                },
                400,
            ),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::UnsupportedMediaType, 415),
            (
                ApiError::Invalid {
                    detail: String::new(),
                    errors: vec![],
                },
                422,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn an_unknown_pod_lists_the_known_ones_up_to_a_limit() {
        let known: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
        let detail = ApiError::UnknownPod {
            given: "zz9".into(),
            known,
        }
        .detail();
        assert!(
            detail.starts_with("There is no pod \"zz9\". The pods are: p0, p1,"),
            "{detail}"
        );
        assert!(detail.ends_with("p19 and 5 more."), "{detail}");
    }

    #[test]
    fn quoted_input_is_escaped_and_cut() {
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        assert_eq!(quote(&"x".repeat(100)), format!("{:?}…", "x".repeat(64)));
    }
}
