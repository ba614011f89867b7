//! Any body posted to the two policy checks, with and without `?bucket=`: never a panic,
//! never a 5xx; a 200 is JSON whose `ok` is whether no finding is an error, and whose
//! every pointer names a value of the posted document.
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
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

const PATHS: [&str; 3] = [
    "/pods/eu1/bucket-policy/check",
    "/pods/us1/bucket-policy/check?bucket=mp-forwarding-acme",
    "/pods/au1/rules/iam-policy/check",
];

fuzz_target!(|data: &[u8]| {
    RUNTIME.block_on(async {
        for path in PATHS {
            let request = Request::post(path)
                .header("host", "podmeta.test")
                .header("content-type", "application/json")
                .body(Body::from(data.to_vec()))
                .expect("a request");
            let response = APP.clone().oneshot(request).await.expect("infallible");
            let status = response.status();
            assert!(!status.is_server_error(), "{path}: {status}");
            let body = response.into_body().collect().await.expect("a body").to_bytes();
            if status != StatusCode::OK {
                assert!(status.is_client_error(), "{path}: {status}");
                continue;
            }
            let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            let posted: serde_json::Value = serde_json::from_slice(data).expect("a 200 was JSON");
            let findings = answer["findings"].as_array().expect("findings");
            let errors = findings.iter().any(|f| f["severity"] == "error");
            assert_eq!(answer["ok"], !errors, "{path}");
            for finding in findings {
                let Some(pointer) = finding["pointer"].as_str() else {
                    continue;
                };
                if pointer.contains('…') {
                    continue; // a key cut short for reading
                }
                let pointer = pointer.strip_prefix('#').expect("a #/ pointer");
                assert!(
                    posted.pointer(pointer).is_some(),
                    "{path}: {pointer} is not in the document"
                );
            }
        }
    });
});
