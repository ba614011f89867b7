//! The extractors: the pod a path names, and JSON bodies with problem-shaped rejections.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;

use super::encoding::{Encoding, negotiate};
use super::fast::representation;
use crate::catalog::{Catalog, Part, Resource};
use crate::problem::ApiError;
use crate::state::AppState;

/// The pod a path names, resolved against the catalog in force when the request began.
///
/// Ids match in any letter case (`/pods/EU1`); bodies always carry the canonical id.
pub(super) struct PodRef {
    pub(super) catalog: Arc<Catalog>,
    pub(super) position: usize,
}

impl PodRef {
    /// `GET /pods/{pod}` or one of its parts: the body rendered at load, in the coding
    /// the request prefers.
    pub(super) async fn serve(self, part: Part, headers: HeaderMap) -> Response {
        prerendered(self.catalog.pod_body(self.position, part), &headers)
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
pub(super) struct ApiJson<T>(pub(super) T);

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

/// A pre-rendered resource in the coding `headers` prefer. If they accept none, the
/// identity, which the compression layer then answers with 406, as for any route.
pub(super) fn prerendered(resource: &Resource, headers: &HeaderMap) -> Response {
    representation(resource, negotiate(headers).unwrap_or(Encoding::Identity))
}
