//! The pre-rendered resources (`GET /pods`, `/pods/{pod}` and its parts): their answers
//! from complete response heads.
//!
//! A resource's body never changes while its catalog is in force, and neither does any
//! header of its 200 but the request id: type, ETag, `Vary`, coding, CORS (for a request
//! without an `Origin`), caching, `nosniff` and length. So each head is built once per
//! catalog and coding, on first use, and kept beside the catalog ([`Heads`], swapped with
//! it); an answer is a copy of it with the request's id. [`answer`] is the one
//! implementation of these resources' 200, 304, 412 and 406, whichever way the request
//! came in (`http::App`'s dispatch, or the router for a request with an `Origin`).

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use headers::ETag;

use super::encoding::negotiate;
use super::request::{Preconditions, X_REQUEST_ID};
use crate::catalog::{Catalog, Encoding, Part, Resource, Variant};
use crate::iac::Format;
use crate::problem::ApiError;

/// The part a request for `part` at `uri` asks for: a document's route takes `?format=`
/// (the IAM policy's), a JSON view's ignores its query. The one reading of `?format=` on
/// a GET, whichever way the request came in.
pub(super) fn in_format(part: Part, uri: &Uri) -> Result<Part, ApiError> {
    if part != Part::IamPolicy || uri.query().is_none() {
        return Ok(part);
    }
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)?;
    Ok(part.in_format(Format::from_query(&pairs)?))
}

/// Which pre-rendered resource of a catalog.
#[derive(Debug, Clone, Copy)]
pub(super) enum Found {
    List,
    /// A part of the pod at this position in the table.
    Pod(usize, Part),
}

impl Found {
    fn resource(self, catalog: &Catalog) -> &Resource {
        match self {
            Found::List => catalog.pods_body(),
            Found::Pod(position, part) => catalog.pod_body(position, part),
        }
    }

    /// Its place in [`Heads`].
    fn index(self) -> usize {
        match self {
            Found::List => 0,
            Found::Pod(position, part) => 1 + position * Part::ALL.len() + part as usize,
        }
    }
}

/// A 200's complete head, and its ETag as the preconditions compare it.
struct Head {
    headers: HeaderMap,
    etag: Option<ETag>,
}

/// The heads of one catalog's resources, per coding, each built on first use, and what
/// every head carries besides its resource's own headers.
pub(crate) struct Heads {
    slots: Box<[[OnceLock<Box<Head>>; Encoding::ALL.len()]]>,
    /// `public, max-age=N`.
    cache_control: HeaderValue,
    /// What CORS adds to the answer to a request without an `Origin`.
    cors_without_origin: HeaderMap,
}

impl Heads {
    pub(crate) fn new(
        catalog: &Catalog,
        cache_control: HeaderValue,
        cors_without_origin: HeaderMap,
    ) -> Self {
        let count = 1 + catalog.table().pods().len() * Part::ALL.len();
        Self {
            slots: (0..count).map(|_| Default::default()).collect(),
            cache_control,
            cors_without_origin,
        }
    }
}

/// A header that a kept head holds only to be removed from each copy, which leaves the
/// copy room for the one header the connection adds (`Keep-Alive`, in `connections`):
/// hyper keeps each connection's last response map to read its next request into, and a
/// map that had to grow for that header would cost every kept-alive connection its
/// larger allocation.
const ROOM: HeaderName = HeaderName::from_static("keep-alive");

/// The answer to a GET or HEAD of `found` in `catalog`: complete (a 200 or 304 from its
/// head, with the request id `id`), or refused (the status of a 406 or 412, for
/// [`refused`], with `id` given back for it).
/// `through_cors` says that the CORS layer is answering the request (it has an `Origin`)
/// and adds its own headers.
pub(super) fn answer(
    catalog: &Catalog,
    heads: &Heads,
    found: Found,
    request: &HeaderMap,
    through_cors: bool,
    is_head: bool,
    id: HeaderValue,
) -> Result<Response, (StatusCode, HeaderValue)> {
    let Some(encoding) = negotiate(request) else {
        return Err((StatusCode::NOT_ACCEPTABLE, id));
    };
    let resource = found.resource(catalog);
    let variant = resource.variant(encoding);
    let kept = heads
        .slots
        .get(found.index())
        .and_then(|codings| codings.get(variant.encoding as usize))
        .filter(|_| !through_cors);
    let built;
    let head = match kept {
        Some(slot) => &**slot.get_or_init(|| Box::new(build(heads, resource, variant, true))),
        None => {
            built = build(heads, resource, variant, !through_cors);
            &built
        }
    };
    let preconditions = Preconditions::of(request);
    let status = preconditions.evaluate(head.etag.as_ref(), true);
    if status == StatusCode::PRECONDITION_FAILED {
        return Err((status, id));
    }
    let mut headers = head.headers.clone();
    headers.remove(ROOM);
    headers.insert(X_REQUEST_ID.clone(), id);
    let body = if status == StatusCode::NOT_MODIFIED {
        for gone in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
        ] {
            headers.remove(gone);
        }
        Body::empty()
    } else if is_head {
        Body::empty()
    } else {
        Body::from(variant.body.clone())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// A 406 or 412: the problem, which the envelope seals as any error.
pub(super) fn refused(status: StatusCode) -> Response {
    let mut response = ApiError::Status { status }.into_response();
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The head of a 200 of `variant`, in the order the envelope seals any answer: the
/// representation, CORS (for a request without an `Origin`, if `with_cors`), caching, the
/// request id (a placeholder here), `nosniff`, the length.
fn build(heads: &Heads, resource: &Resource, variant: &Variant, with_cors: bool) -> Head {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(resource.media_type),
    );
    let etag_value = HeaderValue::try_from(variant.etag.as_str()).ok();
    if let Some(etag) = &etag_value {
        headers.insert(header::ETAG, etag.clone());
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if variant.encoding != Encoding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(variant.encoding.token()),
        );
    }
    if with_cors {
        for (name, value) in &heads.cors_without_origin {
            headers.append(name, value.clone());
        }
    }
    headers.insert(header::CACHE_CONTROL, heads.cache_control.clone());
    headers.insert(X_REQUEST_ID.clone(), HeaderValue::from_static("-"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(variant.body.len()),
    );
    headers.insert(ROOM, HeaderValue::from_static(""));
    Head {
        headers,
        etag: variant.etag.parse().ok(),
    }
}
