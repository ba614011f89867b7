//! The fast path answers the pre-rendered GETs exactly as the router does: the same
//! status, headers and bytes for every resource of every pod, in every coding, with and
//! without a matching `If-None-Match`, with a failing `If-Match`, and under either CORS
//! setting. It takes every
//! request it should, and leaves the ones whose answer depends on what it does not do.
//! The same holds for its POST of a bucket policy: every answer the router can give to
//! it, from the 200 to each problem (415, 400, 422, 413, 412, 408), is the same.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use http_body_util::BodyExt;
use podmeta::{AppState, Catalog, HttpSettings, ROUTES, Table};
use tower::ServiceExt;

/// Every pre-rendered path: `/pods`, and each pod's resources, with one id in capitals.
fn prerendered_paths() -> Vec<String> {
    let table = Table::builtin().unwrap();
    let templates: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.method == Method::GET && r.path.starts_with("/pods/{pod}"))
        // The Lambda ARN is rendered per request, from its query.
        .filter(|r| !r.path.ends_with("lambda-arn"))
        .map(|r| r.path)
        .collect();
    let mut paths = vec!["/pods".to_owned()];
    for pod in table.pods() {
        for template in &templates {
            paths.push(template.replace("{pod}", &pod.id().to_string()));
        }
    }
    paths.push("/pods/EU1/sftp".to_owned());
    paths
}

fn request(method: &Method, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    with_body(method, path, headers, Body::empty())
}

fn with_body(method: &Method, path: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("host", crate::common::HOST);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body).unwrap()
}

/// Status, headers (sorted) and body bytes.
type Answer = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

async fn answer(
    service: impl tower::Service<
        Request<Body>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
    >,
    request: Request<Body>,
) -> Answer {
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .iter()
        // axum's router sets `content-length: 0` on a 304 in-process; hyper never sends
        // it (RFC 9110 §8.6 allows only the 200's length there), so it is not compared.
        .filter(|(n, _)| !(status == 304 && *n == "content-length"))
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    headers.sort();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

async fn assert_both_paths_agree(state: AppState) {
    let app = podmeta::app(state.clone());
    let router = podmeta::router(state);
    let codings = [
        None,
        Some("gzip"),
        Some("br"),
        Some("gzip, deflate, br, zstd"),
        Some("br;q=0.5, gzip"),
        Some("identity"),
        Some("*"),
        Some("deflate"),
    ];
    let mut compared = 0;
    for path in prerendered_paths() {
        for method in [Method::GET, Method::HEAD] {
            for coding in codings {
                let mut headers = vec![("x-request-id", "compare-1")];
                if let Some(coding) = coding {
                    headers.push(("accept-encoding", coding));
                }
                let first = request(&method, &path, &headers);
                assert!(app.takes_fast_path(&first), "{method} {path} {coding:?}");
                let fast = answer(app.clone(), first).await;
                let routed = answer(router.clone(), request(&method, &path, &headers)).await;
                assert_eq!(fast, routed, "{method} {path} {coding:?}");
                assert_eq!(fast.0, 200, "{method} {path} {coding:?}");

                // Revalidation with the ETag just served: a 304 from both.
                let etag = fast.1.iter().find(|(n, _)| n == "etag").unwrap().1.clone();
                let etag = String::from_utf8(etag).unwrap();
                headers.push(("if-none-match", &etag));
                let fast = answer(app.clone(), request(&method, &path, &headers)).await;
                let routed = answer(router.clone(), request(&method, &path, &headers)).await;
                assert_eq!(fast, routed, "{method} {path} {coding:?} revalidated");
                assert_eq!(fast.0, 304);

                // A failed If-Match: a 412 problem from both.
                headers.pop();
                headers.push(("if-match", "\"nope\""));
                let fast = answer(app.clone(), request(&method, &path, &headers)).await;
                let routed = answer(router.clone(), request(&method, &path, &headers)).await;
                assert_eq!(fast, routed, "{method} {path} {coding:?} if-match");
                assert_eq!(fast.0, 412);
                compared += 3;
            }
        }
    }
    assert!(compared > 500, "only {compared} comparisons");
}

#[tokio::test]
async fn the_fast_path_answers_every_prerendered_resource_as_the_router_does() {
    assert_both_paths_agree(AppState::new(Catalog::new(Table::builtin().unwrap()))).await;
}

#[tokio::test]
async fn the_fast_path_agrees_with_the_router_when_cors_lists_origins() {
    let settings = HttpSettings {
        cors_origins: vec![HeaderValue::from_static("https://portal.example")],
        cache_max_age: 60,
        ..HttpSettings::default()
    };
    let state = AppState::with_settings(Catalog::new(Table::builtin().unwrap()), settings);
    assert_both_paths_agree(state).await;
}

/// A bucket-policy POST of `body` with `headers` (and a fixed request id), by both paths.
async fn post_both_ways(
    state: &AppState,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Fn() -> Body,
) -> (Answer, Answer) {
    let app = podmeta::app(state.clone());
    let router = podmeta::router(state.clone());
    let mut headers = headers.to_vec();
    headers.push(("x-request-id", "compare-post"));
    let first = with_body(&Method::POST, path, &headers, body());
    assert!(app.takes_fast_path(&first), "{path} {headers:?}");
    let fast = answer(app, first).await;
    let routed = answer(router, with_body(&Method::POST, path, &headers, body())).await;
    (fast, routed)
}

/// A path, its headers and body, and the status both paths must answer with.
type PostCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, u16);

async fn assert_posts_agree(state: AppState) {
    let json = [("content-type", "application/json")];
    let too_large = format!(r#"{{"bucket": "{}"}}"#, "a".repeat(70 * 1024));
    let cases: Vec<PostCase> = vec![
        (
            "/pods/eu1/bucket-policy",
            json.to_vec(),
            r#"{"bucket": "mp-forwarding-acme"}"#.into(),
            200,
        ),
        (
            "/pods/US2/bucket-policy",
            json.to_vec(),
            r#"{"bucket":"mp-forwarding-x"}"#.into(),
            200,
        ),
        (
            "/pods/au1/bucket-policy",
            vec![(
                "content-type",
                "application/merge-patch+json; charset=utf-8",
            )],
            r#"{"bucket": "mp-forwarding-acme"}"#.into(),
            200,
        ),
        (
            "/pods/eu1/bucket-policy",
            json.to_vec(),
            r#"{"bucket": "Not_A_Bucket"}"#.into(),
            422,
        ),
        (
            "/pods/eu1/bucket-policy",
            json.to_vec(),
            r#"{"bucket": 7}"#.into(),
            422,
        ),
        (
            "/pods/eu1/bucket-policy",
            json.to_vec(),
            r#"{"bucket": "mp-x", "more": 1}"#.into(),
            422,
        ),
        ("/pods/eu1/bucket-policy", json.to_vec(), "{}".into(), 422),
        ("/pods/eu1/bucket-policy", json.to_vec(), "[1]".into(), 422),
        (
            "/pods/eu1/bucket-policy",
            json.to_vec(),
            r#"{"bucket": "#.into(),
            400,
        ),
        ("/pods/eu1/bucket-policy", json.to_vec(), String::new(), 400),
        (
            "/pods/eu1/bucket-policy",
            vec![],
            r#"{"bucket": "mp-x"}"#.into(),
            415,
        ),
        (
            "/pods/eu1/bucket-policy",
            vec![("content-type", "text/plain")],
            r#"{"bucket": "mp-x"}"#.into(),
            415,
        ),
        ("/pods/eu1/bucket-policy", json.to_vec(), too_large, 413),
        // A POST has no current representation for a precondition to test.
        (
            "/pods/eu1/bucket-policy",
            vec![
                ("content-type", "application/json"),
                ("if-match", "\"nope\""),
            ],
            r#"{"bucket": "mp-forwarding-acme"}"#.into(),
            200,
        ),
        (
            "/pods/eu1/bucket-policy?dry=1",
            vec![("content-type", "application/json"), ("if-none-match", "*")],
            r#"{"bucket": "mp-forwarding-acme"}"#.into(),
            200,
        ),
    ];
    // A browser's, allowed or not, and compressed answers (and the 406 of none acceptable).
    let policy = r#"{"bucket": "mp-forwarding-acme"}"#;
    let mut cases = cases;
    for extra in [
        ("origin", "https://portal.example"),
        ("origin", "https://a.example"),
        ("accept-encoding", "gzip"),
        ("accept-encoding", "br;q=0.5, gzip"),
        ("accept-encoding", "identity;q=0"),
    ] {
        let status = if extra.1 == "identity;q=0" { 406 } else { 200 };
        let headers = vec![("content-type", "application/json"), extra];
        cases.push((
            "/pods/eu1/bucket-policy",
            headers.clone(),
            policy.into(),
            status,
        ));
        cases.push((
            "/pods/eu1/bucket-policy",
            headers,
            "{".into(),
            if status == 406 { 406 } else { 400 },
        ));
    }
    for (path, headers, body, status) in cases {
        let (fast, routed) =
            post_both_ways(&state, path, &headers, || Body::from(body.clone())).await;
        let shown = &body[..body.len().min(60)];
        assert_eq!(fast, routed, "{path} {headers:?} {shown}");
        assert_eq!(fast.0, status, "{path} {headers:?} {shown}");
    }
}

#[tokio::test]
async fn a_posted_bucket_policy_is_answered_as_the_router_answers_it() {
    assert_posts_agree(AppState::new(Catalog::new(Table::builtin().unwrap()))).await;
    let settings = HttpSettings {
        cors_origins: vec![HeaderValue::from_static("https://portal.example")],
        ..HttpSettings::default()
    };
    assert_posts_agree(AppState::with_settings(
        Catalog::new(Table::builtin().unwrap()),
        settings,
    ))
    .await;
}

/// A body that never arrives.
struct Stalled;

impl axum::body::HttpBody for Stalled {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_posted_body_that_never_arrives_times_out_as_through_the_router() {
    let settings = HttpSettings {
        request_timeout: std::time::Duration::from_millis(50),
        ..HttpSettings::default()
    };
    let state = AppState::with_settings(Catalog::new(Table::builtin().unwrap()), settings);
    let json = [("content-type", "application/json")];
    let both = post_both_ways(&state, "/pods/eu1/bucket-policy", &json, || {
        Body::new(Stalled)
    });
    let (fast, routed) = tokio::time::timeout(std::time::Duration::from_secs(10), both)
        .await
        .expect("an answer within the request timeout, not a wait for a body forever");
    assert_eq!(fast, routed);
    assert_eq!(fast.0, 408);
}

#[tokio::test]
async fn requests_whose_answer_depends_on_more_go_to_the_router() {
    let app = podmeta::app(AppState::new(Catalog::new(Table::builtin().unwrap())));
    let routed = [
        // A browser's request: the CORS answer depends on its origin.
        request(
            &Method::GET,
            "/pods/eu1",
            &[("origin", "https://a.example")],
        ),
        // Nothing acceptable: the 406 is the compression layer's.
        request(
            &Method::GET,
            "/pods/eu1",
            &[("accept-encoding", "identity;q=0")],
        ),
        // Only a decoded path names a pod.
        request(&Method::GET, "/pods/%65u1", &[]),
        request(&Method::GET, "/pods/eu1/", &[]),
        request(&Method::GET, "/pods/nope", &[]),
        request(&Method::GET, "/pods/eu1/nope", &[]),
        request(&Method::GET, "/pods/eu1/rules/lambda-arn", &[]),
        request(&Method::POST, "/pods/eu1", &[]),
        request(&Method::OPTIONS, "/pods", &[]),
        request(&Method::GET, "/", &[]),
        request(&Method::GET, "/podsx", &[]),
        // One the envelope refuses before any route: the 501 of an unknown coding.
        request(
            &Method::POST,
            "/pods/eu1/bucket-policy",
            &[("transfer-encoding", "gzip")],
        ),
        request(&Method::POST, "/pods/%65u1/bucket-policy", &[]),
        request(&Method::POST, "/pods/nope/bucket-policy", &[]),
        request(&Method::POST, "/pods/eu1/bucket-policy/", &[]),
        request(&Method::POST, "/pods/eu1/x/bucket-policy", &[]),
        request(&Method::PUT, "/pods/eu1/bucket-policy", &[]),
        request(&Method::GET, "/pods/eu1/bucket-policy", &[]),
    ];
    for request in &routed {
        assert!(
            !app.takes_fast_path(request),
            "{} {}",
            request.method(),
            request.uri()
        );
    }
    // And a query string changes nothing, as for the router.
    assert!(app.takes_fast_path(&request(&Method::GET, "/pods/eu1?x=1", &[])));
}

#[tokio::test]
async fn the_admin_listener_has_no_fast_path() {
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let admin = podmeta::internals::admin_app(state);
    assert!(!admin.takes_fast_path(&request(&Method::GET, "/pods/eu1", &[])));
}

#[tokio::test]
async fn the_prerendered_resources_read_accept_encoding_as_the_compression_layer_does() {
    // `/openapi.yaml` is compressed as it is sent, by tower-http; `/pods/eu1` is served
    // from its pre-compressed variants. The same header must choose the same coding.
    let app = podmeta::app(AppState::new(Catalog::new(Table::builtin().unwrap())));
    let coding_of = |response: &Answer| {
        let coding = response.1.iter().find(|(n, _)| n == "content-encoding");
        (
            response.0,
            coding.map(|(_, v)| String::from_utf8(v.clone()).unwrap()),
        )
    };
    for accept in [
        "gzip",
        "br",
        "br, gzip",
        "gzip, br",
        "x-gzip",
        "GZIP",
        "br;q=0.5, gzip",
        "br;q=0.5, gzip;q=0.499",
        "gzip;q=0, identity",
        "identity;q=1, gzip;q=0.9",
        "br;q=2, gzip",
        "br;q=0.1234",
        "br;level=3",
        "zstd, deflate",
        "*",
        "br;q=0, *",
        "identity, *;q=0",
        "identity;q=0",
        "*;q=0",
        "gzip;q=0, identity;q=0",
        "",
    ] {
        let headers = [("accept-encoding", accept)];
        let streamed = answer(
            app.clone(),
            request(&Method::GET, "/openapi.yaml", &headers),
        )
        .await;
        let stored = answer(app.clone(), request(&Method::GET, "/pods/eu1", &headers)).await;
        assert_eq!(coding_of(&stored), coding_of(&streamed), "{accept:?}");
    }
}
