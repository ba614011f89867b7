//! The floor of `bench/run.sh`'s sweep: hyper and tokio alone, on podmeta's connection
//! model, answering every request with one fixed response: what the dependencies cost
//! with no feature of ours. Where podmeta misses a target that this misses too, the
//! floor is theirs.
//!
//! It shares with podmeta everything that is not a feature: the listening socket
//! (`podmeta::bind`, so the same backlog), one accept loop on a current-thread runtime
//! handing connections in turn to one current-thread runtime per core, `TCP_NODELAY`,
//! hyper's HTTP/1 builder with podmeta's settings, and mimalloc. It has none of
//! podmeta's features: no routing, negotiation, ETag or CORS work, no connection cap or
//! time limits, no metrics, no access log. The response is the one podmeta gave: the
//! body and headers (as `curl -D` writes them) are read from files at start-up, and
//! every request gets a copy of that header map and a reference to that body.
//!
//! ```text
//! cargo run --release --example floor -- 127.0.0.1:18080 body.json headers.txt
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_LENGTH, DATE, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;

/// podmeta's allocator (see `src/main.rs`), so that the allocator is not a difference.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The response every request gets.
struct Fixed {
    body: Bytes,
    headers: HeaderMap,
}

impl Fixed {
    fn answer(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The header lines of `curl -D`'s file: the status line, blank lines, and the headers
/// hyper writes itself (`date`, `content-length`) are left out.
fn parse_headers(text: &str) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("HTTP/") {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("not a header line: {line:?}"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())?;
        if name == DATE || name == CONTENT_LENGTH {
            continue;
        }
        headers.append(name, HeaderValue::from_str(value.trim())?);
    }
    Ok(headers)
}

fn usage() -> Error {
    "usage: floor ADDRESS BODY_FILE HEADERS_FILE (ADDRESS on loopback, e.g. 127.0.0.1:18080)".into()
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(body), Some(headers), None) =
        (args.next(), args.next(), args.next(), args.next())
    else {
        return Err(usage());
    };
    let address: SocketAddr = address
        .parse()
        .map_err(|e| format!("{address:?} is not an address: {e}"))?;
    // A load generator's target: never anything but this machine.
    if !address.ip().is_loopback() {
        return Err(format!("{address} is not on loopback").into());
    }
    let fixed = Arc::new(Fixed {
        body: std::fs::read(&body)
            .map_err(|e| format!("reading {body}: {e}"))?
            .into(),
        headers: parse_headers(
            &std::fs::read_to_string(&headers).map_err(|e| format!("reading {headers}: {e}"))?,
        )?,
    });

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut workers = Vec::with_capacity(cores);
    for index in 0..cores {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        workers.push(runtime.handle().clone());
        // Named as podmeta's are, so that per-thread counters compare.
        std::thread::Builder::new()
            .name(format!("floor-worker-{index}"))
            .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    }

    let mut builder = http1::Builder::new();
    builder
        .header_read_timeout(None)
        .max_buf_size(podmeta::internals::MAX_HEADER_BYTES);
    let builder = Arc::new(builder);

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = podmeta::bind(address)?;
            println!("floor: serving on {}", listener.local_addr()?);
            for next in (0..workers.len()).cycle() {
                let (stream, _) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        eprintln!("floor: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let stream = match stream.into_std() {
                    Ok(stream) => stream,
                    Err(e) => {
                        eprintln!("floor: a connection could not be handed on: {e}");
                        continue;
                    }
                };
                let (builder, fixed) = (builder.clone(), fixed.clone());
                workers[next].spawn(async move {
                    let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |_: Request<_>| {
                        let response = fixed.answer();
                        async move { Ok::<_, std::convert::Infallible>(response) }
                    });
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Ok(())
        })
}
