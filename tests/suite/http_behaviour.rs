//! Production HTTP behaviour: ETags and 304, caching headers, HEAD, CORS, compression,
//! request ids, nosniff, limits and timeouts, and the operational endpoints.

use std::io::Read;
use std::time::Duration;

use crate::common::{RunningServer, TestApp, raw_exchange, spawn_app};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use podmeta::{AppState, Catalog, HttpSettings, ServerSettings, Table};

/// The example request target of every GET route of the route table.
fn every_get_path() -> Vec<String> {
    podmeta::ROUTES
        .iter()
        .filter(|r| r.method == Method::GET)
        .map(|r| r.example().into_owned())
        .collect()
}

fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn every_get_answer_carries_a_strong_etag() {
    let app = spawn_app();
    for path in every_get_path() {
        let response = app.get(&path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let etag = response.headers[header::ETAG].to_str().unwrap();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
            "{path}: {etag}"
        );
    }
}

#[tokio::test]
async fn if_none_match_with_the_etag_is_a_304_without_a_body() {
    let app = spawn_app();
    // /metrics changes with every request, so its ETag never matches twice.
    for path in every_get_path().into_iter().filter(|p| p != "/metrics") {
        let first = app.get(&path).await;
        let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
        for if_none_match in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".into(),
        ] {
            let again = app
                .request(request(
                    Method::GET,
                    &path,
                    &[("if-none-match", &if_none_match)],
                ))
                .await;
            assert_eq!(
                again.status,
                StatusCode::NOT_MODIFIED,
                "{path} {if_none_match}"
            );
            assert!(again.body.is_empty());
            assert_eq!(again.headers[header::ETAG], etag.as_str());
            assert_eq!(
                again.headers[header::CACHE_CONTROL],
                first.headers[header::CACHE_CONTROL]
            );
        }
        let changed = app
            .request(request(
                Method::GET,
                &path,
                &[("if-none-match", "\"stale\"")],
            ))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn two_apps_loaded_from_one_table_give_equal_etags() {
    let one = TestApp::with_table(Table::builtin().unwrap());
    let two = TestApp::with_table(Table::builtin().unwrap());
    // The index carries the load time, and metrics count requests: both describe the
    // process, not the table.
    for path in every_get_path()
        .into_iter()
        .filter(|p| p != "/" && p != "/metrics")
    {
        let a = one.get(&path).await;
        let b = two.get(&path).await;
        assert_eq!(a.headers[header::ETAG], b.headers[header::ETAG], "{path}");
    }
    let other = Table::from_toml(
        "other.toml",
        &podmeta::BUILTIN_TOML.replace("Europe", "Europa"),
    )
    .unwrap();
    let three = TestApp::with_table(other);
    assert_ne!(
        one.get("/pods/eu1").await.headers[header::ETAG],
        three.get("/pods/eu1").await.headers[header::ETAG]
    );
}

#[tokio::test]
async fn resources_may_be_cached_for_the_configured_time_and_nothing_else_is() {
    let app = spawn_app();
    assert_eq!(
        app.get("/pods/eu1").await.headers[header::CACHE_CONTROL],
        "public, max-age=300"
    );
    for path in ["/", "/healthz", "/readyz", "/metrics", "/pods/xx1", "/nope"] {
        assert_eq!(
            app.get(path).await.headers[header::CACHE_CONTROL],
            "no-store",
            "{path}"
        );
    }
    let posted = app
        .post_bucket_policy("eu1", r#"{"bucket": "mp-forwarding-acme"}"#)
        .await;
    assert_eq!(posted.headers[header::CACHE_CONTROL], "no-store");

    let settings = HttpSettings {
        cache_max_age: 60,
        ..HttpSettings::default()
    };
    let app = TestApp {
        state: AppState::with_settings(Catalog::new(Table::builtin().unwrap()), settings),
    };
    assert_eq!(
        app.get("/pods").await.headers[header::CACHE_CONTROL],
        "public, max-age=60"
    );
}

#[tokio::test]
async fn head_answers_every_get_route_with_the_same_headers_and_no_body() {
    let app = spawn_app();
    for path in every_get_path().into_iter().filter(|p| p != "/metrics") {
        let get = app.get(&path).await;
        let head = app.send(Method::HEAD, &path).await;
        assert_eq!(head.status, StatusCode::OK, "{path}");
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(
            head.headers.get(header::ETAG),
            get.headers.get(header::ETAG),
            "{path}"
        );
        assert_eq!(
            head.headers[header::CONTENT_TYPE],
            get.headers[header::CONTENT_TYPE]
        );
    }
}

#[tokio::test]
async fn cors_lets_any_origin_read_by_default_and_exposes_etag_and_request_id() {
    let app = spawn_app();
    let preflight = app
        .request(request(
            Method::OPTIONS,
            "/pods/eu1/bucket-policy",
            &[
                ("origin", "https://portal.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        ))
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    let methods = preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    for method in ["GET", "HEAD", "POST", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert!(
        preflight.headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );

    let get = app
        .request(request(
            Method::GET,
            "/pods/eu1",
            &[("origin", "https://portal.example")],
        ))
        .await;
    assert_eq!(get.headers["access-control-allow-origin"], "*");
    let exposed = get.headers["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("etag") && exposed.contains("x-request-id"),
        "{exposed}"
    );
    // Errors too, so that a portal can show them.
    let error = app
        .request(request(
            Method::GET,
            "/pods/xx1",
            &[("origin", "https://portal.example")],
        ))
        .await;
    assert_eq!(error.headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn cors_origins_can_be_restricted() {
    let settings = HttpSettings {
        cors_origins: vec!["https://portal.example".parse().unwrap()],
        ..HttpSettings::default()
    };
    let app = TestApp {
        state: AppState::with_settings(Catalog::new(Table::builtin().unwrap()), settings),
    };
    let allowed = app
        .request(request(
            Method::GET,
            "/pods",
            &[("origin", "https://portal.example")],
        ))
        .await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://portal.example"
    );
    let refused = app
        .request(request(
            Method::GET,
            "/pods",
            &[("origin", "https://evil.example")],
        ))
        .await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn bodies_are_compressed_with_gzip_or_br_when_accepted() {
    let app = spawn_app();
    let plain = app.get("/pods/eu1").await;
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());

    let gzip = app
        .request(request(
            Method::GET,
            "/pods/eu1",
            &[("accept-encoding", "gzip")],
        ))
        .await;
    assert_eq!(gzip.headers[header::CONTENT_ENCODING], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);

    let br = app
        .request(request(
            Method::GET,
            "/pods/eu1",
            &[("accept-encoding", "br")],
        ))
        .await;
    assert_eq!(br.headers[header::CONTENT_ENCODING], "br");
    let mut unbrotlied = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut unbrotlied)
        .unwrap();
    assert_eq!(unbrotlied, plain.body);

    // Each representation has its own strong ETag, and each revalidates.
    let etags = [&plain, &gzip, &br].map(|r| r.headers[header::ETAG].to_str().unwrap().to_owned());
    assert_ne!(etags[0], etags[1]);
    assert_ne!(etags[1], etags[2]);
    let revalidated = app
        .request(request(
            Method::GET,
            "/pods/eu1",
            &[("accept-encoding", "gzip"), ("if-none-match", &etags[1])],
        ))
        .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(
        gzip.headers[header::VARY]
            .to_str()
            .unwrap()
            .contains("accept-encoding")
    );
}

#[tokio::test]
async fn a_request_id_is_kept_when_sane_and_made_otherwise() {
    let app = spawn_app();
    let kept = app
        .request(request(
            Method::GET,
            "/pods",
            &[("x-request-id", "abc-123")],
        ))
        .await;
    assert_eq!(kept.headers["x-request-id"], "abc-123");
    let made = app.get("/pods").await;
    let id = made.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    let too_long = "x".repeat(200);
    let replaced = app
        .request(request(
            Method::GET,
            "/pods",
            &[("x-request-id", &too_long)],
        ))
        .await;
    assert_ne!(replaced.headers["x-request-id"], too_long.as_str());
    assert_eq!(replaced.headers["x-request-id"].len(), 36);
}

#[tokio::test]
async fn every_response_says_nosniff() {
    let app = spawn_app();
    for (method, path) in [
        (Method::GET, "/pods/eu1"),
        (Method::GET, "/nope"),
        (Method::DELETE, "/pods"),
        (Method::OPTIONS, "/pods"),
        (Method::GET, "/metrics"),
    ] {
        let response = app.send(method, path).await;
        assert_eq!(
            response.headers["x-content-type-options"], "nosniff",
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_index_names_the_service_the_table_and_every_resource() {
    let body = spawn_app().get("/").await.json();
    assert_eq!(body["service"], "podmeta");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let version = body["table"]["version"].as_str().unwrap();
    assert_eq!(version, Table::builtin().unwrap().version());
    assert!(
        version.starts_with("sha256:") && version.len() == 7 + 64,
        "{version}"
    );
    assert!(body["table"]["loaded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["table"]["pods"], 4);
    let links: Vec<String> = body["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["method"].as_str().unwrap(),
                l["href"].as_str().unwrap()
            )
        })
        .collect();
    for route in &podmeta::ROUTES {
        assert!(
            links.contains(&format!("{} {}", route.method, route.path)),
            "{}",
            route.path
        );
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app();
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    app.state.start_draining();
    app.get("/readyz").await.problem(503);
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::OK,
        "still alive while draining"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_raw_path() {
    let app = spawn_app();
    app.get("/pods/eu1").await;
    app.get("/pods/EU1").await;
    app.get("/pods/xx1").await;
    app.get("/no/such/path").await;
    app.get("/lookup?api_key=eu1-secretsecret").await;
    let response = app.get("/metrics").await;
    assert!(
        response
            .content_type()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text();
    assert!(
        text.contains(
            r#"podmeta_http_requests_total{listener="main",method="GET",route="/pods/{pod}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"podmeta_http_requests_total{listener="main",method="GET",route="/pods/{pod}",status="404"} 1"#
    ));
    assert!(text.contains(r#"route="(unmatched)",status="404"} 1"#));
    assert!(text.contains(
        r#"podmeta_http_request_duration_seconds_count{listener="main",route="/pods/{pod}"} 3"#
    ));
    // The lowest bucket is below what a pre-rendered answer takes (about a microsecond).
    assert!(text.contains(
        r#"podmeta_http_request_duration_seconds_bucket{listener="main",route="/pods/{pod}",le="0.000001"}"#
    ));
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("--version")
        .output()
        .unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let build = format!(
        r#"podmeta_build_info{{rustc="{}",version="{}"}} 1"#,
        rustc.split_whitespace().nth(1).unwrap(),
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&build), "{text}");
    // The prometheus crate's process collector reads /proc: Linux only.
    let process = [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ];
    for process in process.iter().filter(|_| cfg!(target_os = "linux")) {
        assert!(text.contains(process), "no {process}in {text}");
    }
    assert!(!text.contains("/pods/eu1") && !text.contains("/no/such") && !text.contains("secret"));
    let version = Table::builtin().unwrap().version().to_owned();
    assert!(
        text.contains(&format!(
            r#"podmeta_table_info{{source="<built-in config/pods.toml>",version="{version}"}} 1"#
        )),
        "{text}"
    );
    assert!(text.contains("podmeta_table_pods 4"));
    assert!(text.contains("podmeta_table_loaded_timestamp_seconds "));
    assert!(text.contains(r#"podmeta_table_reloads_total{result="success"} 0"#));
}

#[tokio::test]
async fn the_openapi_document_is_served_as_compiled_in() {
    let response = spawn_app().get("/openapi.yaml").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.content_type(), "application/yaml");
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert_eq!(response.text(), file);
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_a_408_problem() {
    let settings = HttpSettings {
        request_timeout: Duration::from_millis(300),
        ..HttpSettings::default()
    };
    let state = AppState::with_settings(Catalog::new(Table::builtin().unwrap()), settings);
    let server = RunningServer::start(state, ServerSettings::default()).await;
    // Promise a body and never send it.
    let response = raw_exchange(
        server.addr,
        b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"bucket\":",
        Duration::from_secs(5),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let settings = ServerSettings {
        header_read_timeout: Duration::from_millis(300),
        ..ServerSettings::default()
    };
    let server = RunningServer::start(
        AppState::new(Catalog::new(Table::builtin().unwrap())),
        settings,
    )
    .await;
    let started = std::time::Instant::now();
    let response = raw_exchange(
        server.addr,
        b"GET /pods HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(5),
    )
    .await;
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "held for {waited:?}");
    assert!(!response.contains("200 OK"), "{response}");
    // And the server still answers others.
    let ok = raw_exchange(
        server.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish_and_reports_not_ready() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let server = RunningServer::start(state.clone(), ServerSettings::default()).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let body = br#"{"bucket": "mp-forwarding-acme"}"#;
    let head = format!(
        "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let addr = server.addr;
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(state.is_draining(), "not-ready once shutdown begins");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );

    stream.write_all(&body[5..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    stopping.await.unwrap();
}
