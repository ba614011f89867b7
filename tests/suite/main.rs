//! The service's test suite, in one binary: the API and its documents, HTTP behaviour and
//! hostile input, the contract and the README, the deployment files, reload, and the
//! connection limits over real sockets. What each part covers: `tests/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

mod api;
mod connections;
mod contract;
mod deploy;
mod documents;
mod hostile;
mod http_behaviour;
mod infrastructure_code;
mod layering;
mod lookup;
mod policy_check;
mod properties;
mod readme;
mod reload;
mod source_page;
mod ui;
