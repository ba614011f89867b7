//! The `podmeta` binary: parses the command line, sets up logging, loads the table and
//! hands over to the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use podmeta::{AppState, Catalog, Table};
use tracing_subscriber::EnvFilter;

/// Exit code for a table that can't be loaded, as for any usage error.
const EXIT_BAD_CONFIG: u8 = 2;

/// podmeta: the regional pod table as a read-only HTTP API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "PODMETA_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,

    /// The pod table to serve, instead of the one compiled in.
    #[arg(long, env = "PODMETA_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a pod table and exit: 0 if it is valid, 2 with its errors if not.
    Check {
        /// The table file to check.
        path: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { path }) => check(&path),
        None => serve(cli.bind, cli.config),
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match Table::from_path(path) {
        Ok(table) => {
            let ids: Vec<&str> = table.pods().iter().map(|p| p.id().as_str()).collect();
            println!(
                "{}: ok: {} pods ({})",
                path.display(),
                ids.len(),
                ids.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
    }
}

fn serve(bind: SocketAddr, config: Option<PathBuf>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    // The table is loaded before the port is bound: a bad table never accepts a request.
    let table = match &config {
        Some(path) => Table::from_path(path),
        None => Table::builtin(),
    };
    let table = match table {
        Ok(table) => table,
        Err(e) => {
            eprintln!("podmeta: the pod table is invalid, not starting:\n{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podmeta: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("podmeta: cannot listen on {bind}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let address = listener.local_addr().map_or(bind, |a| a);
        let ids: Vec<&str> = table.pods().iter().map(|p| p.id().as_str()).collect();
        tracing::info!(
            %address,
            pods = %ids.join(","),
            table = %config.as_ref().map_or("built-in".into(), |p| p.display().to_string()),
            "podmeta ready"
        );
        let state = AppState::new(Catalog::new(table));
        match podmeta::serve(listener, state, podmeta::shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("podmeta stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("podmeta: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
