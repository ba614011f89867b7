//! What a request says of itself, as the envelope and the pre-rendered answers read it:
//! its id and its preconditions.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use headers::{ETag, HeaderMapExt, IfMatch, IfNoneMatch};

/// The header that carries a request's id, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every request header the API reads that a page may set, and so what a CORS preflight
/// allows (`cors`): the body's type, the preconditions, the request id. A header the
/// API comes to read is added here, or a page cannot send it.
pub const READ: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    X_REQUEST_ID,
];

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

/// Whether a `Host` value is RFC 3986's `host [ ":" port ]`: an IP literal in brackets
/// (IPv6, or IPvFuture), or a reg-name or IPv4 address (unreserved characters,
/// percent-encodings and sub-delims), then a port of at most 65535 (`*DIGIT`: it may be
/// empty).
pub(super) fn is_host(value: &[u8]) -> bool {
    let (host_ok, port) = if let Some(literal) = value.strip_prefix(b"[") {
        let Some(end) = literal.iter().position(|&b| b == b']') else {
            return false;
        };
        let inside = std::str::from_utf8(&literal[..end]).unwrap_or("");
        let future = inside
            .strip_prefix(['v', 'V'])
            .and_then(|f| f.split_once('.'));
        let ok = inside.parse::<std::net::Ipv6Addr>().is_ok()
            || future.is_some_and(|(version, rest)| {
                !version.is_empty()
                    && version.bytes().all(|b| b.is_ascii_hexdigit())
                    && !rest.is_empty()
                    && rest.bytes().all(|b| is_reg_name_byte(b) || b == b':')
            });
        (ok, &literal[end + 1..])
    } else {
        let end = value
            .iter()
            .rposition(|&b| b == b':')
            .unwrap_or(value.len());
        (is_reg_name(&value[..end]), &value[end..])
    };
    let port_ok = match port {
        [] => true,
        [b':', digits @ ..] => {
            digits.iter().all(u8::is_ascii_digit)
                && (digits.is_empty()
                    || std::str::from_utf8(digits).is_ok_and(|d| d.parse::<u16>().is_ok()))
        }
        _ => false,
    };
    host_ok && port_ok
}

/// RFC 3986's reg-name (which an IPv4 address also is): unreserved characters,
/// sub-delims and `%` followed by two hex digits.
fn is_reg_name(name: &[u8]) -> bool {
    let mut i = 0;
    while i < name.len() {
        if name[i] == b'%' {
            match name.get(i + 1..i + 3) {
                Some([a, b]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if is_reg_name_byte(name[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
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

    #[test]
    fn a_host_is_a_name_an_address_or_a_literal_with_a_port_of_at_most_65535() {
        for good in [
            "x",
            "example.com",
            "127.0.0.1:8080",
            "app.eu1.mparticle.com:443",
            "[::1]",
            "[::1]:8080",
            "[v1.fe80::a+en1]",
            "ex%41mple",
            "x:",
            "localhost:65535",
        ] {
            assert!(is_host(good.as_bytes()), "{good}");
        }
        for bad in [
            "a b",
            "x/y",
            "exa mple:80",
            "x:65536",
            "x:99999999",
            "x:8o",
            "[::1",
            "[zz]",
            "[::1]x",
            "ex%4",
            "a@b",
            "x\\y",
        ] {
            assert!(!is_host(bad.as_bytes()), "{bad}");
        }
    }
}
