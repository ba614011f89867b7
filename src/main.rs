//! The `podmeta` binary: parses the command line, sets up logging, loads the table and
//! hands over to the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::{Parser, Subcommand, ValueEnum};
use podmeta::{AccessLog, AppState, Catalog, HttpSettings, ServerSettings, Table};
use tracing_subscriber::EnvFilter;

/// Exit code for a table that can't be loaded, as for any usage error.
const EXIT_BAD_CONFIG: u8 = 2;

/// podmeta: the regional pod table as a read-only HTTP API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "PODMETA_BIND", default_value_t = podmeta::DEFAULT_BIND)]
    bind: SocketAddr,

    /// The pod table to serve instead of the one compiled in. It is reloaded on SIGHUP
    /// and whenever it changes on disk.
    #[arg(long, env = "PODMETA_CONFIG")]
    config: Option<PathBuf>,

    /// Seconds that clients and caches may keep a resource (Cache-Control max-age).
    #[arg(long, env = "PODMETA_CACHE_MAX_AGE", default_value_t = HttpSettings::default().cache_max_age)]
    cache_max_age: u32,

    /// An origin allowed to call the API from a browser (repeat for several). Without
    /// any, every origin is allowed.
    #[arg(
        long = "cors-origin",
        env = "PODMETA_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,

    /// Log format: text for people, json for machines. Default: text on a terminal,
    /// json otherwise. The level comes from RUST_LOG (default info).
    #[arg(long, env = "PODMETA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    /// How long a request may take, body included, before it is answered 408.
    #[arg(long, env = "PODMETA_REQUEST_TIMEOUT", default_value_t = HttpSettings::default().request_timeout.into())]
    request_timeout: humantime::Duration,

    /// How long a client may take to send a request's headers (from accept for the
    /// first request, from its first byte for later ones) before its connection is
    /// closed. A connection that sends nothing is closed after this long.
    #[arg(long, env = "PODMETA_HEADER_READ_TIMEOUT", default_value_t = ServerSettings::default().header_read_timeout.into())]
    header_read_timeout: humantime::Duration,

    /// How long an idle keep-alive connection stays open between requests. Keep it
    /// longer than the idle timeout of any load balancer in front (often 60 s).
    #[arg(long, env = "PODMETA_KEEP_ALIVE_TIMEOUT", default_value_t = ServerSettings::default().keep_alive_timeout.into())]
    keep_alive_timeout: humantime::Duration,

    /// The most connections open at once on --bind. At the cap, idle keep-alive
    /// connections are closed to make room, then new ones wait in the listen backlog.
    /// Lowered at start-up if the open-file or memory limit could not hold it.
    #[arg(long, env = "PODMETA_MAX_CONNECTIONS", default_value_t = ServerSettings::default().max_connections, value_parser = at_least_one)]
    max_connections: usize,

    /// A second address serving only /healthz, /readyz and /metrics, outside the
    /// connection cap, for probes and scrapes (for example 0.0.0.0:9090).
    #[arg(long, env = "PODMETA_ADMIN_BIND")]
    admin_bind: Option<SocketAddr>,

    /// On SIGTERM or SIGINT, how long requests in flight may take to finish.
    #[arg(long, env = "PODMETA_SHUTDOWN_TIMEOUT", default_value_t = ServerSettings::default().shutdown_timeout.into())]
    shutdown_timeout: humantime::Duration,

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
    /// Ask a running podmeta's /healthz (at --admin-bind if set, else at --bind) and exit
    /// 0 if it answers 200, 1 if not: a container HEALTHCHECK for images without curl.
    Healthcheck,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// A count that must be a whole number of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 1, got {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Check { path }) => check(path),
        Some(Command::Healthcheck) => healthcheck(cli.admin_bind.unwrap_or(cli.bind)),
        None => serve(cli),
    }
}

fn check(path: &Path) -> ExitCode {
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

fn healthcheck(bind: SocketAddr) -> ExitCode {
    match podmeta::healthcheck(bind, Duration::from_secs(2)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podmeta healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> ExitCode {
    // Logs go through a background writer (see podmeta::log_writer): a slow terminal or
    // pipe must not stall requests. The guard writes what is left when main returns.
    let (writer, _flush_on_exit) = podmeta::batch_writer(std::io::stdout());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let format = cli
        .log_format
        .unwrap_or(if std::io::stdout().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer.clone());
    let access_log = match format {
        LogFormat::Text => {
            logs.init();
            AccessLog::Tracing
        }
        LogFormat::Json => {
            logs.fmt_fields(podmeta::JsonObjectFields)
                .event_format(podmeta::JsonLines)
                .init();
            AccessLog::Json(writer)
        }
    };

    // The table is loaded before the port is bound: a bad table never accepts a request.
    let table = match &cli.config {
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
    let mut cors_origins = Vec::new();
    for origin in &cli.cors_origins {
        match HeaderValue::try_from(origin.as_str()) {
            Ok(v) => cors_origins.push(v),
            Err(_) => {
                eprintln!("podmeta: --cors-origin {origin:?} is not a valid origin");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
        }
    }
    let http = HttpSettings {
        cache_max_age: cli.cache_max_age,
        cors_origins,
        request_timeout: cli.request_timeout.into(),
        access_log,
    };
    let fit = podmeta::capacity::fit(
        cli.max_connections,
        if cli.admin_bind.is_some() {
            podmeta::capacity::ADMIN_MAX_CONNECTIONS
        } else {
            0
        },
        podmeta::capacity::raise_open_file_limit(),
        podmeta::capacity::memory_limit(),
    );
    if let Some(bound) = fit.lowered_by {
        tracing::warn!(
            asked = cli.max_connections,
            max_connections = fit.max_connections,
            "max-connections lowered to {} because {bound}",
            fit.max_connections
        );
    }
    let server = ServerSettings {
        header_read_timeout: cli.header_read_timeout.into(),
        keep_alive_timeout: cli.keep_alive_timeout.into(),
        shutdown_timeout: cli.shutdown_timeout.into(),
        max_connections: fit.max_connections,
        ..ServerSettings::default()
    };

    // This runtime accepts connections, serves the admin listener, reloads the table and
    // waits for signals; the connections themselves are served on one worker thread per
    // core (`podmeta::serve`). One thread is plenty for that.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podmeta: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match podmeta::bind(cli.bind) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("podmeta: cannot listen on {}: {e}", cli.bind);
                return ExitCode::FAILURE;
            }
        };
        let admin = match cli.admin_bind.map(podmeta::bind).transpose() {
            Ok(admin) => admin,
            Err(e) => {
                eprintln!(
                    "podmeta: cannot listen on --admin-bind {:?}: {e}",
                    cli.admin_bind
                );
                return ExitCode::FAILURE;
            }
        };
        let address = listener.local_addr().unwrap_or(cli.bind);
        let admin_address = admin.as_ref().and_then(|l| l.local_addr().ok());
        let ids: Vec<String> = table.pods().iter().map(|p| p.id().to_string()).collect();
        let version = table.version().to_owned();
        let state = AppState::with_settings(Catalog::new(table), http);
        match cli.config.clone() {
            Some(path) => {
                podmeta::watch_table(state.clone(), path);
            }
            None => podmeta::ignore_sighup_for_the_builtin_table(),
        }
        // Every signal handler is in place before the ready line: a signal sent as soon as
        // it is seen is handled, never the default action that ends the process.
        let shutdown = podmeta::shutdown_signal();
        tracing::info!(
            %address,
            pods = %ids.join(","),
            table = %cli.config.as_ref().map_or("built-in".into(), |p| p.display().to_string()),
            %version,
            admin = %admin_address.map_or("off".into(), |a| a.to_string()),
            max_connections = server.max_connections,
            "podmeta ready"
        );
        let listeners = podmeta::Listeners {
            main: listener,
            admin,
        };
        podmeta::serve(listeners, state, server, shutdown).await;
        tracing::info!("podmeta stopped");
        ExitCode::SUCCESS
    })
}
