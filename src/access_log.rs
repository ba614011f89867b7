//! One access-log line per request: method, route template, status, latency.
//!
//! The route is the matched template (`/pods/{pod}`), never the raw path or the query
//! string: a query string may carry an API key (`/lookup?api_key=…`), and raw paths would
//! make every typo a new log key.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route of a request that matched none.
pub const UNMATCHED: &str = "(unmatched)";

/// Middleware: logs the request once its response is ready.
pub async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(
        target: "podmeta::access",
        method = %method,
        route = route.as_deref().unwrap_or(UNMATCHED),
        status = response.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        "request"
    );
    response
}
