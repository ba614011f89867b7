//! podmeta: the regional pod table of the "Data Hosting Locations" page as a read-only
//! HTTP API, with the documents people would otherwise hand-edit rendered from it.
//!
//! # Map
//! - [`domain`]: the value types of the table (pod id, https URL, host name, IPv4, port,
//!   AWS region, account id, IAM role ARN, …). Each can only hold a valid value.
//! - [`bucket`]: the S3 bucket-name rules, each reported on its own.
//! - [`table`]: the file format of `config/pods.toml`; loading it is validating it.
//! - [`render`]: pure functions from domain values to documents (bucket and IAM policies,
//!   ARNs).
//! - [`sdk`]: how each server SDK is pointed at a pod; client-SDK direct-routing hosts.
//! - [`rules`]: the Lambda ARN builder's parameters and their rules.
//! - [`lookup`]: reverse lookup (host, URL, IP, API key, region, ARN → pods).
//! - [`catalog`]: a loaded table plus every GET body, serialised once at load.
//! - [`problem`]: the one error type and its RFC 9457 problem+json response.
//! - [`http`]: the router, the shared state and the handlers.
//! - [`access_log`]: one log line per request, by route template (never the query).
//!
//! # How a request flows
//! The router matches the path; the `PodRef` extractor resolves `{pod}` (any case) in the
//! catalog in force when the request began; a GET handler returns bytes rendered at load,
//! a POST handler validates its body into domain types and calls a renderer. Any error is
//! an [`problem::ApiError`], which renders itself as problem+json.
//!
//! # Where to add things
//! - A field of a pod: its type in [`domain`] if new, the field in [`table::Pod`], its
//!   place in a view in [`catalog`], and `config/pods.toml`.
//! - A pod: `config/pods.toml` only.
//! - An endpoint: a renderer in [`render`], a handler and a route in [`http`] (and its
//!   entry in [`http::ROUTES`]).

pub mod access_log;
pub mod bucket;
pub mod catalog;
pub mod domain;
pub mod http;
pub mod lookup;
pub mod problem;
pub mod render;
pub mod rules;
pub mod sdk;
pub mod table;

use std::future::Future;

use tokio::net::TcpListener;

pub use catalog::Catalog;
pub use http::{AppState, router};
pub use table::Table;

/// Serves the app on `listener` until `shutdown` completes, then lets requests in flight
/// finish. The listener is bound by the caller, so that tests can use port 0.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler can't be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
