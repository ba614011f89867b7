//! The fast path answers the pre-rendered GETs exactly as the router does: the same
//! status, headers and bytes for every resource of every pod, in every coding, with and
//! without a matching `If-None-Match`, with a failing `If-Match`, and under either CORS
//! setting. It takes every
//! request it should, and leaves the ones whose answer depends on what it does not do.

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
    let mut request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("host", crate::common::HOST);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
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
