//! Whole requests (method, target, headers, body) through one app as served, kept for
//! every input (so that the pre-rendered answers come from heads that earlier inputs
//! made): no panic, never a 5xx but the 501 of an unknown transfer coding, `nosniff` and
//! a request id on every answer, error bodies bounded and without an ETag, and the same
//! request answered alike twice.
//!
//! The input is read as lines: the method, the target, then `name: value` headers up to
//! an empty line; the rest is the body. What `http` cannot represent is skipped: hyper
//! would have refused it before podmeta (the hostile suite covers those answers).
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use podmeta::{AppState, Catalog, Table};
use tower::ServiceExt;

static APP: LazyLock<podmeta::App> = LazyLock::new(|| {
    podmeta::app(AppState::new(Catalog::new(
        Table::builtin().expect("the built-in table loads"),
    )))
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

/// The request the input describes, twice, if `http` can hold it.
fn requests(data: &[u8]) -> Option<(Request<Body>, Request<Body>)> {
    let mut rest = data;
    let mut line = || -> Option<&[u8]> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let (line, after) = rest.split_at(end);
        rest = &after[1..];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    };
    let method = Method::from_bytes(line()?).ok()?;
    let target = std::str::from_utf8(line()?).ok()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let header = line()?;
        if header.is_empty() {
            break;
        }
        let colon = header.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&header[..colon]).ok()?;
        let value = HeaderValue::from_bytes(header[colon + 1..].trim_ascii()).ok()?;
        headers.push((name, value));
    }
    let body = rest.to_vec();
    let build = || {
        let mut request = Request::builder().method(method.clone()).uri(target.as_str());
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        request.body(Body::from(body.clone())).ok()
    };
    Some((build()?, build()?))
}

/// Status, headers but the request id (a new one per answer unless the client gave
/// one), and body.
async fn answer(
    service: impl tower::Service<
        Request<Body>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
    >,
    request: Request<Body>,
) -> (StatusCode, Vec<(String, Vec<u8>)>, Vec<u8>) {
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{status}");
    assert!(headers.contains_key("x-request-id"), "{status}");
    let mut kept: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| *name != "x-request-id")
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    kept.sort();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, kept, body.to_vec())
}

fuzz_target!(|data: &[u8]| {
    let Some((first, again)) = requests(data) else {
        return;
    };
    let fixed_id = first.headers().contains_key("x-request-id");
    RUNTIME.block_on(async {
        let served = answer(APP.clone(), first).await;
        let (status, _, body) = &served;
        assert!(
            !status.is_server_error() || *status == StatusCode::NOT_IMPLEMENTED,
            "{status}"
        );
        if status.is_client_error() || status.is_server_error() {
            assert!(body.len() <= 2048, "{status}: a {}-byte error body", body.len());
            // An error describes no representation that a cache could revalidate.
            assert!(
                !served.1.iter().any(|(name, _)| name == "etag"),
                "{status}: an error with an ETag"
            );
        }
        if fixed_id {
            let answered_again = answer(APP.clone(), again).await;
            assert_eq!(served, answered_again, "the same request answered differently");
        }
    });
});
