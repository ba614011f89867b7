//! The HTTP server: the accept loops of the main and admin listeners, and a bounded,
//! graceful drain.
//!
//! Not `axum::serve`: that has neither a connection cap nor time limits, and a client
//! that opens connections and never finishes them must not hold them forever. Each
//! listener has its own [`Pool`] of connections; the admin listener serves only the
//! probes and metrics, outside the main cap, so that a flood of the main port can
//! neither queue nor starve them.
//!
//! HTTP/1.1 only. Nothing of ours needs cleartext HTTP/2 (browsers speak HTTP/2 only over
//! TLS, and load balancers speak HTTP/1.1 to their backends by default), and hyper-util's
//! protocol detection reads the first bytes with no timer at all (hyper#3962), which is
//! how silent connections were held forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use tokio::net::{TcpListener, TcpSocket};

use crate::capacity::{ADMIN_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS};
use crate::connections::Service;
use crate::connections::{Episode, Limits, Pool};
use crate::http::state::AppState;
use crate::http::{admin_app, app};

/// The most bytes of request line and headers a request may have.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The listen backlog: connections the kernel completes and holds while podmeta is at
/// its cap or busy. tokio's default is 1,024 through mio; set here so that it is
/// chosen, not inherited. The kernel caps it at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Where podmeta listens unless told otherwise: loopback, so that a first run exposes
/// nothing.
pub const DEFAULT_BIND: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8080),
);

/// How the server treats connections.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// A connection must send a request's headers within this long: from accept for the
    /// first request, from its first byte for later ones.
    pub header_read_timeout: Duration,
    /// An idle keep-alive connection is closed after this long without a request.
    pub keep_alive_timeout: Duration,
    /// How long requests in flight may take to finish once shutdown begins.
    pub shutdown_timeout: Duration,
    /// After the first stop signal, how long to go on serving, not ready, with
    /// `Connection: close` on every response, before shutdown begins.
    pub shutdown_delay: Duration,
    /// The most connections open at once on the main listener.
    pub max_connections: usize,
    /// How many threads serve connections: by default, the cores this process may use
    /// (which counts a container's CPU limit).
    pub workers: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            keep_alive_timeout: Duration::from_secs(75),
            shutdown_timeout: Duration::from_secs(10),
            shutdown_delay: Duration::ZERO,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// The bound sockets to serve on: the main one, and the admin one if any.
pub struct Listeners {
    pub main: TcpListener,
    pub admin: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(main: TcpListener) -> Self {
        Self { main, admin: None }
    }
}

/// Binds a listening socket with podmeta's backlog.
pub fn bind(address: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A restart must not wait for the old process's connections to leave TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The stop signals a server obeys, one `()` each (SIGTERM or SIGINT for the process,
/// [`shutdown_signals`]): the first begins the shutdown delay, a second ends it, and one
/// during the drain stops at once. A closed channel sends no more.
pub type Signals = tokio::sync::mpsc::UnboundedReceiver<()>;

/// Serves the app until the first of `signals`; then reports not-ready at once and, for
/// the shutdown delay, goes on serving with `Connection: close` on every response, so
/// that callers retire their pooled connections at response boundaries while their load
/// balancers see the 503. Then it stops accepting, closes idle connections, lets requests
/// in flight finish (for at most the shutdown timeout) and returns. The admin listener,
/// if any, answers until the main one has drained. The listeners are bound by the
/// caller, so that tests can use port 0, and binding is all that can fail: once
/// serving, a connection's error ends that connection, and a failed accept is logged and
/// retried.
pub async fn serve(
    listeners: impl Into<Listeners>,
    state: AppState,
    settings: ServerSettings,
    mut signals: Signals,
) {
    let Listeners { main, admin } = listeners.into();
    let limits = Limits {
        header_read: settings.header_read_timeout,
        keep_alive: settings.keep_alive_timeout,
    };
    let metrics = state.metrics();
    let pool = Pool::new(
        "main",
        settings.max_connections,
        limits,
        metrics.connections("main"),
    );
    let admin = admin.map(|listener| {
        let pool = Pool::new(
            "admin",
            ADMIN_MAX_CONNECTIONS,
            limits,
            metrics.connections("admin"),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = admin_app(state.clone());
        // The probes are served here, not on the workers, so that a flood of the main
        // port does not delay them.
        let task = tokio::spawn(accept_loop(
            listener,
            pool.clone(),
            app,
            Workers::none(),
            async {
                let _ = stopped.await;
            },
        ));
        (pool, stop, task)
    });

    let workers = Workers::start(settings.workers);
    let (stop_accepting, accepting_stopped) = tokio::sync::oneshot::channel::<()>();
    let accepting = accept_loop(
        main,
        pool.clone(),
        app(state.clone()),
        workers.clone(),
        async {
            let _ = accepting_stopped.await;
        },
    );
    let mut accepting = std::pin::pin!(accepting);
    // Whether the accept loop has returned on its own (its pool closed): a finished
    // future must not be polled again.
    let mut accepting_ended = false;
    tokio::select! {
        () = &mut accepting => accepting_ended = true,
        () = next_signal(&mut signals) => {}
    }
    state.start_draining();
    let delay = settings.shutdown_delay;
    if !delay.is_zero() && !accepting_ended {
        pool.retire_all();
        if let Some((admin_pool, _, _)) = &admin {
            admin_pool.retire_all();
        }
        tracing::info!(
            delay_s = delay.as_secs_f64(),
            "shutdown delay: not ready; still serving, each response with Connection: close"
        );
        tokio::select! {
            () = &mut accepting => accepting_ended = true,
            () = tokio::time::sleep(delay) => {}
            () = next_signal(&mut signals) => tracing::info!("a second signal: the delay ends now"),
        }
    }
    let _ = stop_accepting.send(());
    if !accepting_ended {
        accepting.await;
    }
    tracing::info!(
        timeout_s = settings.shutdown_timeout.as_secs_f64(),
        "shutting down: not ready, no longer accepting, finishing requests in flight"
    );
    pool.close_all();
    tokio::select! {
        () = pool.drained() => tracing::info!("all connections finished"),
        () = tokio::time::sleep(settings.shutdown_timeout) => {
            tracing::warn!("requests still in flight after the shutdown timeout; stopping anyway");
        }
        () = next_signal(&mut signals) => {
            tracing::warn!("a signal during the drain: stopping now, with requests in flight");
            return;
        }
    }
    if let Some((pool, stop, task)) = admin {
        let _ = stop.send(());
        let _ = task.await;
        pool.close_all();
        // Probes answer in microseconds; one that has not within a second never will.
        let _ = tokio::time::timeout(Duration::from_secs(1), pool.drained()).await;
    }
}

/// Completes with the next signal, or never once no more can come.
async fn next_signal(signals: &mut Signals) {
    if signals.recv().await.is_none() {
        std::future::pending::<()>().await;
    }
}

/// Completes at `at`, or never if there is none.
async fn sleep_until_some(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Accepts connections onto `pool` until `shutdown` completes, then drops the listener.
async fn accept_loop<S: Service + Clone>(
    listener: TcpListener,
    pool: Arc<Pool>,
    app: S,
    workers: Workers,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        // Our own time limits (crate::connections) replace hyper's one timer.
        .header_read_timeout(None)
        // hyper would buffer ~400 kB of request line and headers; no client of ours sends
        // more than a few hundred bytes. hyper answers 431 once its buffer holds this much
        // without a whole head; it checks between reads, so up to twice this may pass.
        // The header count stays at hyper's 100: more puts the header array on the heap
        // for every request.
        .max_buf_size(MAX_HEADER_BYTES);
    // Shared rather than copied into each connection's task, which it would enlarge for
    // as long as the connection is open.
    let builder = Arc::new(builder);
    let mut shutdown: Pin<&mut _> = std::pin::pin!(shutdown);
    let mut episode = Episode::default();
    loop {
        let accepted = loop {
            let quiet_at = episode.quiet_at();
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                accepted = listener.accept() => break accepted,
                // Say that an episode at the cap is over even if nobody connects again.
                () = sleep_until_some(quiet_at) => episode.maybe_end(&pool),
            }
        };
        match accepted {
            Ok((stream, _peer)) => {
                // At the cap, the connection waits here, and the next ones in the backlog:
                // room is made only for a connection that is waiting.
                let permit = tokio::select! {
                    biased;
                    () = &mut shutdown => return,
                    permit = pool.slot(&mut episode) => match permit {
                        Some(permit) => permit,
                        None => return,
                    },
                };
                // Small JSON answers: send them now rather than wait to fill a segment.
                let _ = stream.set_nodelay(true);
                let (pool, builder, app) = (pool.clone(), builder.clone(), app.clone());
                workers.serve(stream, move |stream| {
                    pool.serve(&builder, permit, stream, app)
                });
            }
            Err(e) => {
                // Out of file descriptors, say: back off rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Where connections are served: one current-thread runtime per core, each on a thread
/// of its own, to which the accept loop hands connections in turn.
///
/// On tokio's multi-threaded runtime, one I/O driver wakes connection tasks on whichever
/// worker, and idle workers steal from busy ones: with thousands of connections that
/// cross-core traffic cost more than the requests. Here a connection lives on
/// one thread, with its own I/O driver and timers, from accept to close, as in nginx's
/// one worker process per core. The accept loop, the cap and the time limits stay one.
#[derive(Clone)]
struct Workers(Arc<WorkerSet>);

struct WorkerSet {
    handles: Vec<tokio::runtime::Handle>,
    next: std::sync::atomic::AtomicUsize,
    /// Dropping these stops the workers' runtimes, and any connection still on them.
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Workers {
    /// No workers: connections are served on the caller's runtime.
    fn none() -> Self {
        Self(Arc::new(WorkerSet {
            handles: Vec::new(),
            next: Default::default(),
            _stops: Vec::new(),
        }))
    }

    /// Starts `count` workers. One that cannot start is logged and left out; with none,
    /// connections are served on the caller's runtime.
    fn start(count: usize) -> Self {
        let mut handles = Vec::with_capacity(count);
        let mut stops = Vec::with_capacity(count);
        for index in 0..count {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (started, handle) = std::sync::mpsc::sync_channel(1);
            let spawned = std::thread::Builder::new()
                .name(format!("podmeta-worker-{index}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => {
                            let _ = started.send(Ok(runtime.handle().clone()));
                            runtime.block_on(async {
                                let _ = stopped.await;
                            });
                        }
                        Err(e) => {
                            let _ = started.send(Err(e));
                        }
                    }
                });
            let outcome = match spawned {
                Ok(_thread) => handle
                    .recv()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the thread ended"))),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(handle) => {
                    handles.push(handle);
                    stops.push(stop);
                }
                Err(e) => tracing::warn!(worker = index, error = %e, "a worker could not start"),
            }
        }
        Self(Arc::new(WorkerSet {
            handles,
            next: Default::default(),
            _stops: stops,
        }))
    }

    /// Serves `stream` with `serve` on the next worker in turn.
    fn serve<F>(
        &self,
        stream: tokio::net::TcpStream,
        serve: impl FnOnce(tokio::net::TcpStream) -> F + Send + 'static,
    ) where
        F: Future<Output = ()> + Send + 'static,
    {
        let set = &self.0;
        if set.handles.is_empty() {
            tokio::spawn(serve(stream));
            return;
        }
        // The socket moves to the worker's I/O driver: out of this one as a std socket
        // (still non-blocking), into the worker's inside its runtime.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "an accepted connection could not be handed on");
                return;
            }
        };
        let index = set.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % set.handles.len();
        set.handles[index].spawn(async move {
            match tokio::net::TcpStream::from_std(stream) {
                Ok(stream) => serve(stream).await,
                Err(e) => tracing::warn!(error = %e, "an accepted connection could not be served"),
            }
        });
    }
}

/// The process's stop signals: one `()` for each SIGTERM or SIGINT (Ctrl-C elsewhere),
/// each logged. The handlers are installed when this is called, not when the channel is
/// first read: a signal that arrives between the ready line and the first read must start
/// a drain, not end the process. Call it on a runtime: a task of it forwards them.
pub fn shutdown_signals() -> Signals {
    let (send, signals) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        async fn received(signal: &mut Option<Signal>) -> Option<()> {
            match signal {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        }
        // If a handler can't be installed, the other signal still stops the server.
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = received(&mut interrupt) => tracing::info!("SIGINT received"),
                    Some(()) = received(&mut terminate) => tracing::info!("SIGTERM received"),
                    else => break,
                }
                if send.send(()).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received");
            if send.send(()).is_err() {
                break;
            }
        }
    });
    signals
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts one connection on a loopback listener and hands it to `workers`; returns
    /// the name of the thread that served it.
    async fn served_on(workers: &Workers) -> String {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let address = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        workers.serve(stream, move |stream| async move {
            // The stream works on the thread it was handed to.
            let _ = stream.peer_addr();
            let name = std::thread::current().name().unwrap_or("").to_owned();
            let _ = tx.send(name);
        });
        rx.await.unwrap()
    }

    #[tokio::test]
    async fn connections_are_served_on_the_workers_in_turn() {
        let workers = Workers::start(2);
        assert_eq!(workers.0.handles.len(), 2);
        let mut names = Vec::new();
        for _ in 0..4 {
            names.push(served_on(&workers).await);
        }
        assert_eq!(
            names,
            [
                "podmeta-worker-0",
                "podmeta-worker-1",
                "podmeta-worker-0",
                "podmeta-worker-1"
            ]
        );
    }

    #[tokio::test]
    async fn without_workers_connections_are_served_on_the_callers_runtime() {
        let here = std::thread::current().name().unwrap_or("").to_owned();
        assert_eq!(served_on(&Workers::none()).await, here);
        assert_eq!(served_on(&Workers::start(0)).await, here);
    }
}
