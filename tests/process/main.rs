//! The podmeta binary as operators run it, as a child process: the command line, logs,
//! signals, and faults under load. What each part covers: `tests/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod child;

mod binary;
mod cli;
mod commands;
mod faults;
