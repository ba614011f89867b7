//! API keys are half a credential: a lookup by key leaves no trace of it in any log line
//! (at any level) or error body.
//!
//! Alone in its own test binary: tracing caches per call site whether anyone listens, and
//! tests on other threads without a subscriber would race this one's thread-local
//! subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use podmeta::{AppState, Catalog, Table};
use tower::ServiceExt;

/// The body of a GET of `path`, answered in-process by the app.
async fn get_body(state: &AppState, path: &str) -> String {
    let request = Request::get(path)
        .header("host", "podmeta.test")
        .body(Body::empty())
        .unwrap();
    let response = podmeta::app(state.clone()).oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// The body of a JSON POST of `body` to `path`, answered in-process by the app.
async fn post_body(state: &AppState, path: &str, body: String) -> String {
    let request = Request::post(path)
        .header("host", "podmeta.test")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = podmeta::app(state.clone()).oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// A writer that keeps everything logged, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_api_key_leaves_no_trace_in_logs_or_error_bodies() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let secret = "Zq7SecretKeyHalf9x";
    let mut bodies = Vec::new();
    for query in [
        format!("api_key=eu1-{secret}"),
        format!("api_key=eu9-{secret}"),
        format!("api_key={secret}%20x"),
        format!("api_key=eu1-{secret}&host=app.mparticle.com"),
        format!("eu1-{secret}"),
        format!("eu1-{secret}=1"),
        format!("q=eu1-{secret}"),
        format!("q=eu1-{secret}%20x"),
        format!("q=arn:aws:iam::1:role/{secret}"),
    ] {
        bodies.push(get_body(&state, &format!("/lookup?{query}")).await);
    }
    for body in [
        format!(r#"{{"q": "eu1-{secret}"}}"#),
        format!(r#"{{"q": "eu1 {secret}"}}"#),
        format!(r#"{{"q": "{secret}", "x": 1}}"#),
        format!(r#"{{"q": "{secret}"#),
    ] {
        bodies.push(post_body(&state, "/lookup", body).await);
    }

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("/lookup"),
        "the access log did not run: {logged}"
    );
    assert!(
        !logged.contains(secret),
        "the key is in the logs:\n{logged}"
    );
    for body in bodies {
        assert!(!body.contains(secret), "the key is in a body: {body}");
    }
}
