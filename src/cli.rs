//! The command line: serving (the default), `check`, `healthcheck`, and the documents
//! with no server (`pods`, `get`, `bucket-policy`, `iam-policy`, `lambda-arn`, `sdks`,
//! `lookup`, `check-bucket-policy`, `check-iam-policy`; see `commands`), and
//! `completions`.
//!
//! Exit codes: 0 on success; 1 when the answer is a problem (the API's 4xx: an unknown
//! pod, an invalid value, no match) or a health check fails; 2 for a usage error or a
//! table that does not load; 3 when `check-bucket-policy` or `check-iam-policy` finds an
//! error in the policy (its answer is on stdout). Nothing is written to stdout on
//! failure, so that `$(podmeta bucket-policy …)` never captures half an answer.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::catalog::Catalog;
use crate::commands::Command as Document;
use crate::json::Style;
use crate::{AppState, HttpSettings, ServerSettings, Table};

/// The most log lines waiting for the log thread; past it, new lines are dropped.
const LOG_QUEUE_LINES: usize = 32_768;

/// Exit code for a problem the API would answer with a 4xx.
const EXIT_PROBLEM: u8 = 1;
/// Exit code for a table that can't be loaded, as for any usage error.
const EXIT_BAD_CONFIG: u8 = 2;
/// Exit code for a policy check that found an error: the answer is on stdout.
const EXIT_FINDINGS: u8 = 3;

const EXAMPLES: &str = "\
Examples:
  podmeta                                      serve the built-in table on 127.0.0.1:8080
  podmeta --config pods.toml --bind 0.0.0.0:8080
  podmeta get eu1 sftp                         print a pod's SFTP facts, with no server
  podmeta bucket-policy eu1 --bucket mp-forwarding-acme > policy.json
  podmeta lookup https://app.eu1.mparticle.com
  podmeta check-bucket-policy eu1 policy.json  check a policy in place (exit 3 on an error)
  podmeta check config/pods.toml               validate a table and exit";

/// podmeta: the regional pod table as a read-only HTTP API, and its documents on the
/// command line.
#[derive(Parser)]
#[command(version, about, after_help = EXAMPLES)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "PODMETA_BIND", default_value_t = crate::DEFAULT_BIND)]
    bind: SocketAddr,

    /// The pod table to serve instead of the one compiled in, reloaded on SIGHUP and
    /// whenever it changes on disk.
    #[arg(long, env = "PODMETA_CONFIG")]
    config: Option<PathBuf>,

    /// Seconds that clients and caches may keep a resource (Cache-Control max-age).
    #[arg(long, env = "PODMETA_CACHE_MAX_AGE", default_value_t = HttpSettings::default().cache_max_age)]
    cache_max_age: u32,

    /// An origin allowed to call the API from a browser, as a browser sends it
    /// (`https://portal.example`, a port only if it is not the scheme's default); repeat
    /// for several. Without any, or with `*` alone, every origin is allowed. An empty
    /// PODMETA_CORS_ORIGINS counts as unset.
    #[arg(
        long = "cors-origin",
        env = "PODMETA_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = cors_origin
    )]
    cors_origins: Vec<String>,

    /// Log format: text for people, json for machines. Default: text on a terminal,
    /// json otherwise. The level comes from RUST_LOG (default info).
    #[arg(long, env = "PODMETA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    /// How long a request may take, body included, before it is answered 408 (100ms to
    /// 1h).
    #[arg(long, env = "PODMETA_REQUEST_TIMEOUT", default_value_t = HttpSettings::default().request_timeout.into(), value_parser = duration_from(TENTH, HOUR))]
    request_timeout: humantime::Duration,

    /// How long a client may take to send a request's headers (from accept for the
    /// first request, from its first byte for later ones) before its connection is
    /// closed. A connection that sends nothing is closed after this long (100ms to 1h).
    #[arg(long, env = "PODMETA_HEADER_READ_TIMEOUT", default_value_t = ServerSettings::default().header_read_timeout.into(), value_parser = duration_from(TENTH, HOUR))]
    header_read_timeout: humantime::Duration,

    /// How long an idle keep-alive connection stays open between requests. Keep it
    /// longer than the idle timeout of any load balancer in front (often 60 s). Responses
    /// say it in whole seconds: `Keep-Alive: timeout=N` (100ms to 1h).
    #[arg(long, env = "PODMETA_KEEP_ALIVE_TIMEOUT", default_value_t = ServerSettings::default().keep_alive_timeout.into(), value_parser = duration_from(TENTH, HOUR))]
    keep_alive_timeout: humantime::Duration,

    /// The most connections open at once on --bind. Above 90 % of it, each new connection
    /// closes after its first response; at the cap, a connection idle for 1 s or more is
    /// closed to make room, else new ones wait in the listen backlog. Lowered at start-up
    /// if the open-file or memory limit could not hold it.
    #[arg(long, env = "PODMETA_MAX_CONNECTIONS", default_value_t = ServerSettings::default().max_connections, value_parser = at_least_one)]
    max_connections: usize,

    /// A second address serving only /healthz, /readyz and /metrics, outside the
    /// connection cap, for probes and scrapes (for example 0.0.0.0:9090).
    #[arg(long, env = "PODMETA_ADMIN_BIND")]
    admin_bind: Option<SocketAddr>,

    /// On SIGTERM or SIGINT, after the delay, how long requests in flight may take to
    /// finish (0s to 1h).
    #[arg(long, env = "PODMETA_SHUTDOWN_TIMEOUT", default_value_t = ServerSettings::default().shutdown_timeout.into(), value_parser = duration_from(Duration::ZERO, HOUR))]
    shutdown_timeout: humantime::Duration,

    /// On SIGTERM or SIGINT, how long to go on serving first: /readyz answers 503 at
    /// once, and every response says `Connection: close`, so that load balancers and
    /// connection pools move away without losing a request. A second signal ends the
    /// delay; one during the drain that follows stops at once (0s to 1h).
    #[arg(long, env = "PODMETA_SHUTDOWN_DELAY", default_value_t = ServerSettings::default().shutdown_delay.into(), value_parser = duration_from(Duration::ZERO, HOUR))]
    shutdown_delay: humantime::Duration,

    #[command(subcommand)]
    command: Option<Command>,
}

/// The flags that only make sense when serving, by clap id, and the subcommands that
/// also take each (`healthcheck` asks the server at `--bind` or `--admin-bind`).
const SERVE_FLAGS: [(&str, &str, &[&str]); 11] = [
    ("bind", "--bind", &["healthcheck"]),
    ("cache_max_age", "--cache-max-age", &[]),
    ("cors_origins", "--cors-origin", &[]),
    ("log_format", "--log-format", &[]),
    ("request_timeout", "--request-timeout", &[]),
    ("header_read_timeout", "--header-read-timeout", &[]),
    ("keep_alive_timeout", "--keep-alive-timeout", &[]),
    ("max_connections", "--max-connections", &[]),
    ("admin_bind", "--admin-bind", &["healthcheck"]),
    ("shutdown_timeout", "--shutdown-timeout", &[]),
    ("shutdown_delay", "--shutdown-delay", &[]),
];

#[derive(Subcommand)]
enum Command {
    /// Validate a pod table and exit: 0 if it is valid, 2 with its errors if not.
    #[command(after_help = "Example:\n  podmeta check config/pods.toml")]
    Check {
        /// The table file to check.
        path: PathBuf,
    },
    /// Ask a running podmeta's /healthz (at --admin-bind if set, else at --bind) and exit
    /// 0 if it answers 200, 1 if not: a container HEALTHCHECK for images without curl.
    #[command(after_help = "Example:\n  podmeta --admin-bind 127.0.0.1:9090 healthcheck")]
    Healthcheck,
    #[command(flatten)]
    Document(Document),
    /// Print a completion script for a shell.
    #[command(after_help = "Example:\n  podmeta completions bash > /etc/bash_completion.d/podmeta")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
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

const TENTH: Duration = Duration::from_millis(100);
const HOUR: Duration = Duration::from_secs(3600);

/// The parser of a duration flag: humantime's syntax (`5s`, `1m 15s`, `250ms`), within
/// `min..=max`. Without a bound, `0s` would close every connection unanswered and a
/// huge value overflow the clock.
fn duration_from(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<humantime::Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let value = text
            .parse::<humantime::Duration>()
            .map_err(|e| format!("{e} (a duration, for example 5s, 1m 15s or 250ms)"))?;
        if (min..=max).contains(&*value) {
            Ok(value)
        } else {
            Err(format!(
                "must be from {} to {}",
                humantime::format_duration(min),
                humantime::format_duration(max)
            ))
        }
    }
}

/// One `--cors-origin`, trimmed (a variable may say `a, b`) and checked to be an origin
/// as a browser sends it in `Origin`: `http` or `https`, a host, a port only if it is not
/// the scheme's default (`https://a.example:443` becomes `https://a.example`), nothing
/// after. `*` and the empty string pass through, for the caller to judge in context.
fn cors_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return Ok(text.to_owned());
    }
    let (scheme, rest) = text
        .split_once("://")
        .ok_or("expected an origin such as https://portal.example")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(format!("expected an http or https origin, not {scheme}:")),
    };
    if rest.contains(['/', '?', '#', '@']) {
        return Err(
            "an origin is only scheme, host and port, with no path, query or user: \
             a browser's Origin header never has them, so this could never match"
                .into(),
        );
    }
    let rest = rest.to_ascii_lowercase();
    let not_a_port = || format!("{rest:?} is not a host with an optional port");
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        // An IP literal: `[::1]` or `[::1]:8080`.
        let (address, tail) = inner.split_once(']').ok_or_else(not_a_port)?;
        let host = &rest[..address.len() + 2];
        match tail {
            "" => (host, None),
            tail => (host, Some(tail.strip_prefix(':').ok_or_else(not_a_port)?)),
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest.as_str(), None),
        }
    };
    let allowed = |b: u8| match host.starts_with('[') {
        true => b.is_ascii_hexdigit() || b == b':' || b == b'.',
        false => b.is_ascii_alphanumeric() || b == b'-' || b == b'.',
    };
    let inner = host.trim_start_matches('[').trim_end_matches(']');
    if inner.is_empty() || !inner.bytes().all(allowed) {
        return Err(format!("{host:?} is not a host name or address"));
    }
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(port) if port == default_port => Ok(format!("{scheme}://{host}")),
        Some(port) => match port.parse::<u16>() {
            Ok(n) if n > 0 => Ok(format!("{scheme}://{host}:{n}")),
            _ => Err(format!("{port:?} is not a port (1 to 65535)")),
        },
    }
}

/// Runs the command line `args` (the program's name first), as `podmeta` does.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let matches = Cli::command().get_matches_from(args);
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some((name, _)) = matches.subcommand() {
        refuse_serve_flags(&matches, name);
    }
    if let Some(Command::Document(document)) = &cli.command
        && let Some(conflict) = document.conflict()
    {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, conflict)
            .exit();
    }
    match cli.command.take() {
        None => serve(cli),
        Some(command) => run(&cli, command),
    }
}

/// Exits with a usage error (2) if a flag that only makes sense when serving was given
/// on the command line with the subcommand `name`. The same settings from the
/// environment are let be: a container's PODMETA_BIND must not break `podmeta pods`.
fn refuse_serve_flags(matches: &ArgMatches, name: &str) {
    for (id, flag, also) in SERVE_FLAGS {
        if matches.value_source(id) == Some(ValueSource::CommandLine) && !also.contains(&name) {
            Cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{flag} only applies when serving; `podmeta {name}` does not serve"),
                )
                .exit();
        }
    }
}

/// Runs a subcommand.
fn run(cli: &Cli, command: Command) -> ExitCode {
    let document = match command {
        Command::Check { path } => return check(&path),
        Command::Healthcheck => return healthcheck(cli.admin_bind.unwrap_or(cli.bind)),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "podmeta", &mut script);
            return print(&script);
        }
        Command::Document(Document::Lookup {
            value,
            kind,
            output,
        }) if value == "-" => match read_stdin() {
            Ok(value) => Document::Lookup {
                value,
                kind,
                output,
            },
            Err(e) => {
                eprintln!("podmeta: cannot read the value from stdin: {e}");
                return ExitCode::from(EXIT_PROBLEM);
            }
        },
        Command::Document(document) => document,
    };
    let output = document.output();
    let table = match output.config.as_ref().or(cli.config.as_ref()) {
        Some(path) => Table::from_path(path),
        None => Table::builtin(),
    };
    let catalog = match table {
        Ok(table) => Catalog::new(table),
        Err(e) => {
            eprintln!("podmeta: the pod table is invalid:\n{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let style = if output.compact {
        Style::Compact
    } else {
        Style::Pretty
    };
    match document.answer(&catalog, style) {
        Ok(answer) if answer.ok => print(&answer.body),
        Ok(answer) => match print(&answer.body) {
            code if code == ExitCode::SUCCESS => ExitCode::from(EXIT_FINDINGS),
            failed => failed,
        },
        Err(problem) => {
            if output.json {
                eprint!("{}", problem.problem_json(style));
            } else {
                eprintln!("podmeta: {}", problem.in_words());
            }
            ExitCode::from(EXIT_PROBLEM)
        }
    }
}

/// The value `podmeta lookup -` reads: all of stdin, without its final line break, read
/// no further than one byte past what a looked-up value may hold (and its line break).
fn read_stdin() -> Result<String, String> {
    let limit = crate::lookup::MAX_VALUE + 2;
    let bytes =
        crate::input::read_bounded(std::io::stdin().lock(), limit).map_err(|e| match e {
            crate::input::InputError::TooLarge(_) => {
                format!("expected at most {} bytes", crate::lookup::MAX_VALUE)
            }
            other => other.to_string(),
        })?;
    let value =
        String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_owned())?;
    let value = value.strip_suffix('\n').unwrap_or(&value);
    Ok(value.strip_suffix('\r').unwrap_or(value).to_owned())
}

/// Writes the whole answer to stdout at once.
fn print(answer: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(answer).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `podmeta pods | head -3`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podmeta: cannot write the answer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: &Path) -> ExitCode {
    match Table::from_path(path) {
        Ok(table) => {
            let ids: Vec<&str> = table.pods().iter().map(|p| p.id().as_str()).collect();
            println!("{}: ok: {}", path.display(), pods_summary(&ids));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
    }
}

/// `4 pods (us1, us2, eu1, au1)`: every id of a table of up to a dozen pods, and the
/// first ten of a bigger one, so that the summary stays a line a person reads (a table of
/// 1,000 pods made it 7 kB). `podmeta pods` lists them all.
fn pods_summary(ids: &[&str]) -> String {
    const LISTED: usize = 10;
    if ids.len() <= LISTED + 2 {
        return format!("{} pods ({})", ids.len(), ids.join(", "));
    }
    format!(
        "{} pods ({}, and {} more)",
        ids.len(),
        ids[..LISTED].join(", "),
        ids.len() - LISTED
    )
}

fn healthcheck(bind: SocketAddr) -> ExitCode {
    match crate::healthcheck(bind, Duration::from_secs(2)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podmeta healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> ExitCode {
    // Logs go through a background writer: a slow terminal or pipe must not stall
    // requests (a full queue drops lines rather than wait). The guard writes what is left
    // when serving returns. The queue's slots are allocated up front: tracing-appender's
    // default of 128,000 lines would hold 4 MiB from start-up on.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("podmeta-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ));
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
            crate::AccessLog::Tracing
        }
        LogFormat::Json => {
            logs.json()
                .with_current_span(true)
                .with_span_list(false)
                .init();
            crate::AccessLog::Json(writer)
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
    // The parser has trimmed and normalised each; an empty one (an empty variable) is
    // none, and `*` means every origin, which is the default, but only on its own.
    let listed: Vec<&String> = cli.cors_origins.iter().filter(|o| !o.is_empty()).collect();
    let listed = match listed.as_slice() {
        [only] if only.as_str() == "*" => Vec::new(),
        many if many.iter().any(|o| o.as_str() == "*") => {
            eprintln!(
                "podmeta: --cors-origin: `*` (every origin) cannot be listed beside other origins"
            );
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
        many => many.to_vec(),
    };
    let mut cors_origins = Vec::new();
    for origin in listed {
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
    let fit = crate::capacity::fit(
        cli.max_connections,
        if cli.admin_bind.is_some() {
            crate::capacity::ADMIN_MAX_CONNECTIONS
        } else {
            0
        },
        crate::capacity::raise_open_file_limit(),
        crate::capacity::memory_limit(),
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
        shutdown_delay: cli.shutdown_delay.into(),
        max_connections: fit.max_connections,
        ..ServerSettings::default()
    };

    // This runtime accepts connections, serves the admin listener, reloads the table and
    // waits for signals; the connections themselves are served on one worker thread per
    // core (`crate::serve`). One thread is plenty for that.
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
    let code = runtime.block_on(async move {
        let listener = match crate::bind(cli.bind) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("podmeta: cannot listen on {}: {e}", cli.bind);
                return ExitCode::FAILURE;
            }
        };
        let admin = match cli.admin_bind.map(crate::bind).transpose() {
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
                crate::watch_table(state.clone(), path);
            }
            None => crate::ignore_sighup_for_the_builtin_table(),
        }
        // Every signal handler is in place before the ready line: a signal sent as soon as
        // it is seen is handled, never the default action that ends the process.
        let signals = crate::shutdown_signals();
        tracing::info!(
            %address,
            pods = %ids.join(","),
            table = %cli.config.as_ref().map_or("built-in".into(), |p| p.display().to_string()),
            %version,
            admin = %admin_address.map_or("off".into(), |a| a.to_string()),
            max_connections = server.max_connections,
            "podmeta ready"
        );
        let listeners = crate::Listeners {
            main: listener,
            admin,
        };
        crate::serve(listeners, state, server, signals).await;
        tracing::info!("podmeta stopped");
        ExitCode::SUCCESS
    });
    // Not a drop, which would wait for every blocking-pool thread: one stuck in a read of
    // a hung filesystem must not keep the process from exiting.
    runtime.shutdown_background();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cors_origin_is_taken_as_a_browser_sends_it_or_refused() {
        for (given, taken) in [
            ("https://a.example", "https://a.example"),
            (" https://a.example ", "https://a.example"),
            ("https://A.Example:443", "https://a.example"),
            ("http://a.example:80", "http://a.example"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("*", "*"),
            ("", ""),
        ] {
            assert_eq!(cors_origin(given).as_deref(), Ok(taken), "{given:?}");
        }
        for refused in [
            "https://a.example/",
            "https://a.example/path",
            "https://user@a.example",
            "a.example",
            "ftp://a.example",
            "https://a.example:0",
            "https://a.example:99999",
            "https://a exa.mple",
            "https://",
        ] {
            assert!(cors_origin(refused).is_err(), "{refused:?} was taken");
        }
    }

    #[test]
    fn the_check_summary_names_every_pod_of_a_small_table_and_ten_of_a_big_one() {
        assert_eq!(
            pods_summary(&["us1", "us2", "eu1", "au1"]),
            "4 pods (us1, us2, eu1, au1)"
        );
        let twelve: Vec<String> = (1..=12).map(|i| format!("p{i}")).collect();
        let twelve: Vec<&str> = twelve.iter().map(String::as_str).collect();
        assert_eq!(
            pods_summary(&twelve),
            format!("12 pods ({})", twelve.join(", "))
        );
        let many: Vec<String> = (1..=1000).map(|i| format!("p{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            pods_summary(&many),
            "1000 pods (p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, and 990 more)"
        );
    }

    #[test]
    fn every_top_level_flag_but_config_is_a_serving_flag() {
        let command = Cli::command();
        let mut ids: Vec<&str> = command
            .get_arguments()
            .map(|a| a.get_id().as_str())
            .filter(|id| !["config", "help", "version"].contains(id))
            .collect();
        ids.sort_unstable();
        let mut listed: Vec<&str> = SERVE_FLAGS.iter().map(|(id, ..)| *id).collect();
        listed.sort_unstable();
        assert_eq!(ids, listed, "SERVE_FLAGS must list every serving flag");
        for (id, flag, _) in SERVE_FLAGS {
            let arg = command.get_arguments().find(|a| a.get_id() == id).unwrap();
            assert_eq!(Some(&flag[2..]), arg.get_long(), "{id}");
        }
    }

    #[test]
    fn the_parser_is_consistent() {
        Cli::command().debug_assert();
    }
}
