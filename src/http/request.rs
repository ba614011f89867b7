//! What a request says of itself, as the envelope and the pre-rendered answers read it:
//! its id and its preconditions.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use headers::{ETag, HeaderMapExt, IfMatch, IfNoneMatch};

/// The header that carries a request's id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id: the client's `X-Request-Id` if sane, else a new one.
pub(super) fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(&X_REQUEST_ID)
        .filter(|v| is_sane_request_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// A request id we pass on unchanged: 1 to 128 characters that are safe in any log.
fn is_sane_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
}

fn new_request_id() -> HeaderValue {
    let id = uuid::Uuid::new_v4();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// A request's conditional headers (the `headers` crate reads each over all its lines,
/// as RFC 9110 §5.3 makes repeated lines of a list header one list).
#[derive(Debug, Default)]
pub(super) struct Preconditions {
    if_match: Option<IfMatch>,
    if_none_match: Option<IfNoneMatch>,
}

impl Preconditions {
    pub(super) fn of(headers: &HeaderMap) -> Self {
        Self {
            if_match: headers.typed_get(),
            if_none_match: headers.typed_get(),
        }
    }

    /// The status that the preconditions give a 200 whose entity tag is `etag`, in RFC
    /// 9110 §13.2.2's order: an `If-Match` that fails is a 412 (strong comparison); then,
    /// for a read, a matching `If-None-Match` is a 304 (weak comparison).
    pub(super) fn evaluate(&self, etag: Option<&ETag>, is_read: bool) -> StatusCode {
        if let Some(if_match) = &self.if_match {
            let holds = if_match.is_any() || etag.is_some_and(|e| if_match.precondition_passes(e));
            if !holds {
                return StatusCode::PRECONDITION_FAILED;
            }
        }
        match (&self.if_none_match, etag) {
            (Some(if_none_match), Some(etag))
                if is_read && !if_none_match.precondition_passes(etag) =>
            {
                StatusCode::NOT_MODIFIED
            }
            _ => StatusCode::OK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        assert!(is_sane_request_id(b"abc-123_x.y:z"));
        assert!(!is_sane_request_id(b""));
        assert!(!is_sane_request_id(b"has space"));
        assert!(!is_sane_request_id(&[b'a'; 129]));
        assert!(!is_sane_request_id(b"quote\"d"));
    }
}
