//! podmeta: the regional pod table of the "Data Hosting Locations" page as a read-only
//! HTTP API, with the documents people would otherwise hand-edit rendered from it.
//!
//! # Map
//! - `domain`: the value types of the table (pod id, https URL, host name, IPv4, port,
//!   AWS region, account id, IAM role ARN, …). Each can only hold a valid value.
//! - `bucket`: the S3 bucket-name rules, each reported on its own.
//! - `table`: the file format of `config/pods.toml`; loading it is validating it.
//! - `json`: JSON as podmeta writes it (pretty or compact); a leaf.
//! - `render`: pure functions from domain values to documents (bucket and IAM policies,
//!   ARNs).
//! - `iac`: the two policies as Terraform and CloudFormation (`?format=`), from the same
//!   statements and JSON as `render`'s.
//! - `policy`: checking a customer's bucket policy and Rules IAM policy against their pod:
//!   AWS's policy grammar read whole, with a JSON pointer for every value
//!   (`policy::grammar`), and each check's rules (`policy::bucket`, `policy::iam`).
//! - `sdk`: how each server SDK is pointed at a pod; client-SDK direct-routing hosts.
//! - `rules`: the Lambda ARN builder's parameters and their rules.
//! - `lookup`: reverse lookup (host, URL, IP, API key, region, ARN → pods), and `q`, a
//!   value whose kind is worked out.
//! - `catalog`: a loaded table plus every GET body, serialised once at load (with its
//!   compressed variants, made on first use), and every other answer (policies, ARNs,
//!   lookups), in a `json::Style`. Bytes and ETag strings: nothing of HTTP.
//! - `problem`: the one error type and its RFC 9457 problem+json response.
//! - `http`: [`App`], the one service every request passes (see below); its route table
//!   (`http::routes`, every fact about each route), handlers and extractors (which only
//!   translate between HTTP and the catalog), the pre-rendered answers
//!   (`http::prerendered`), the envelope (`http::envelope`) and the shared state
//!   (`http::state`: the catalog in force with its response heads, swapped whole on
//!   reload; the metrics; the draining flag; the settings).
//! - `page`: the setup page (`/ui/`), HTML rendered from the catalog, and its assets.
//! - `metrics`: the Prometheus metrics.
//! - `log_format`: the log lines (tracing-subscriber's, through tracing-appender), and the
//!   access line, written by hand with JSON logs.
//! - `digest`: SHA-256 for table versions and ETags.
//! - `server`: the main and admin listeners' accept loops, the stop signals, and the
//!   shutdown (its delay, then the bounded drain).
//! - `connections`: a listener's connections, for any hyper service: the cap and the
//!   soft limit below it, connections retired at response boundaries (`Connection:
//!   close`), the idle floor at the cap, `Keep-Alive`, and the time limits from accept.
//! - `capacity`: the cap fitted to the open-file and memory limits.
//! - `reload`: reloading the table on SIGHUP and on file changes.
//! - `healthcheck`: the tiny HTTP client behind `podmeta healthcheck`.
//! - `input`: files and stdin read bounded; a table path must be a regular file.
//! - `body`: JSON as podmeta reads it (a request body, or a policy file on the command
//!   line): each key once, or the 400 that says where it is not JSON.
//! - `cli`: the command line: serving, `check`, `healthcheck`, `completions`, and the
//!   document commands, which `commands` answers through the catalog with no server.
//!
//! # How a request flows
//! ```text
//! connection (connections: limits, Keep-Alive, retirement)
//!   └─ App (http): the envelope, for every request
//!        ├─ refused before any route (Host, target, transfer coding) → problem
//!        ├─ GET/HEAD of /pods, /pods/{pod}[/part], no Origin
//!        │    └─ prerendered::answer: 200/304/412/406 from the heads of the catalog in force
//!        └─ anything else → the router: with CORS for an Origin or a preflight, else without
//!             └─ each route: CORS (in the first router only)
//!                  └─ compression (not of pre-rendered answers)
//!                       └─ [POST: body limit, request timeout] → handler
//!                            (the pre-rendered routes' handlers call prerendered::answer)
//!   ← seal (caching, preconditions, the problem of a bare error, CORS without an Origin,
//!     request id, nosniff), metrics by route template, the access line
//! ```
//! A handler resolves `{pod}` (any case) in the catalog in force when the request began
//! (`PodRef`); a POST handler validates its body into domain types and calls a renderer.
//! Any error is a `problem::ApiError`, which renders itself as problem+json.
//!
//! # Where to add things
//! - A field of a pod: its type in `domain` if new, the field in `table::Pod`, its
//!   place in a view in `catalog`, and `config/pods.toml`.
//! - A pod: `config/pods.toml` only.
//! - A rule of a policy check: its name in `policy::Rule` (and the enum in `openapi.yaml`),
//!   its test in `tests/suite/policy_check.rs`, and its line in `docs/api.md`.
//! - An endpoint: a renderer in `render`, the answer in `catalog` (so that the command
//!   line can give it too), a handler in `http::handlers`, and its route in
//!   `http::ROUTES` (which the OpenAPI test compares with `openapi.yaml`).
//! - A command: a `commands::Command` that asks the catalog what its route's handler
//!   asks, and its subcommand in `cli`.
//! - A fact on the setup page: its place in `page` (the page test checks that every value
//!   of `GET /pods/{pod}` is shown).

mod body;
mod bucket;
pub mod capacity;
mod catalog;
pub mod cli;
mod commands;
mod connections;
mod digest;
mod domain;
mod healthcheck;
mod http;
mod iac;
mod input;
mod json;
mod log_format;
mod lookup;
mod metrics;
mod page;
mod policy;
mod problem;
mod reload;
mod render;
mod rules;
mod sdk;
mod server;
mod table;

pub use catalog::{Catalog, Part};
pub use healthcheck::probe as healthcheck;
pub use http::state::{AppState, HttpSettings};
pub use http::{App, AppFuture, CachePolicy, OPENAPI_YAML, ROUTES, Route, app};
pub use iac::Format;
pub use json::Style;
pub use log_format::AccessLog;
pub use problem::ApiError;
pub use reload::{ignore_sighup_for_the_builtin_table, watch as watch_table};
pub use server::{DEFAULT_BIND, Listeners, ServerSettings, Signals, bind, serve, shutdown_signals};
pub use table::{BUILTIN_TOML, Table};

/// The parsers and renderers, and the settings the sweep's floor copies, for the fuzz
/// targets, the benchmarks and the tests that drive them directly. Not an API: it changes
/// with the code.
#[doc(hidden)]
pub mod internals {
    pub use crate::bucket::BucketName;
    pub use crate::http::admin_app;
    pub use crate::lookup::{LookupKind, LookupQuery};
    pub use crate::reload::{Reloaded, reload};
    pub use crate::render::{bucket_policy, lambda_arn};
    pub use crate::rules::LambdaArnParams;
    pub use crate::server::MAX_HEADER_BYTES;
}
