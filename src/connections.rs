//! The connections of one listener: the cap, the time limits that run from accept, and
//! how connections are retired near the cap and during a shutdown delay.
//!
//! Callers come through proxies' pooled keep-alive connections, which may reuse one at
//! any moment: a bare FIN on an idle connection can always cross a request (the HTTP/1.1
//! idle race). So connections are retired at response boundaries wherever possible: one
//! told to *retire* answers its next request with `Connection: close` (hyper adds it once
//! `Serving` has switched keep-alive off, before that response is made) and closes:
//! - above the soft limit (90 % of the cap), each connection accepted past it; the
//!   episode ends, and those not yet retired stay, once fewer than 85 % are open;
//! - during a shutdown delay, every connection, new ones included ([`Pool::retire_all`]).
//!
//! Only at the cap itself is an idle connection closed to make room, one per waiting
//! accept, and only one idle for at least [`IDLE_FLOOR`]: in a pool the longest-idle
//! connection may have been used a moment ago. The floor makes the race rare, not
//! impossible. With nothing idle that long, new connections wait in the listen backlog.
//! A response that keeps its connection says for how long (`Keep-Alive: timeout=N`), so
//! that clients such as undici retire it first.
//!
//! hyper 1.x has one header-read timer that is also the idle timer (hyper#1628), so an
//! idle connection would be closed as soon as a slow request is. The time limits are
//! ours: `TimedIo`, the I/O hyper reads through, knows from `Tracked` (the service
//! wrapper) whether a request is being answered. One timer per connection, re-armed
//! lazily: it may wake a connection early, never late, and the common case (one request,
//! then idle) does no timer work at all.
//!
//! | phase | from | limit | closed as |
//! | --- | --- | --- | --- |
//! | new | accept | header-read timeout | `new` |
//! | headers | a later request's first bytes (the first read after them that would wait) | header-read timeout | `headers` |
//! | busy | the request's headers, to its response | none here (the request timeout bounds a body) | |
//! | idle | the response | keep-alive timeout | `idle` |

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, Version, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use crate::metrics::ConnectionMetrics;

/// What a connection serves: a hyper service of HTTP/1.1 requests that a worker thread
/// can run (the application says so by implementing this).
pub trait Service:
    hyper::service::Service<
        Request<Incoming>,
        Response = Response<Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Send
    + 'static
{
}

/// How long a connection may take in each phase.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A new connection must send its first request's headers within this long, and a
    /// later request's headers must be complete this long after their first byte.
    pub header_read: Duration,
    /// An idle keep-alive connection is closed after this long without a request.
    pub keep_alive: Duration,
}

/// At the cap, an idle connection is closed to make room only once it has been idle this
/// long.
const IDLE_FLOOR: Duration = Duration::from_secs(1);

/// The soft limit, in percent of the cap: each connection accepted past it is told to
/// retire at its next response.
const SOFT_LIMIT_PERCENT: usize = 90;

/// An episode above the soft limit ends once fewer than this percentage of the cap are
/// open.
const SOFT_RESUME_PERCENT: usize = 85;

/// The response header that tells a client how long its idle connection is kept.
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// While at the cap, how often to look again for an idle connection to close, and to
/// count the time spent there.
const AT_CAP_TICK: Duration = Duration::from_millis(100);

/// An episode at the cap ends once a connection has been taken without waiting this long
/// after the last wait: one log line per episode, not one per connection.
const EPISODE_QUIET: Duration = Duration::from_secs(1);

/// `idle_since` of a connection that is not idle.
const NOT_IDLE: u64 = u64::MAX;

/// The connections of one listener.
pub struct Pool {
    /// Its name in logs and metrics: `main` or `admin`.
    name: &'static str,
    cap: usize,
    /// More open than this, and each connection accepted is told to retire.
    soft: usize,
    /// Fewer open than this, and an episode above the soft limit is over.
    resume: usize,
    slots: Arc<Semaphore>,
    open: Mutex<Open>,
    next_id: AtomicU64,
    /// The zero of `Conn::idle_since`.
    started: Instant,
    limits: Limits,
    /// `Keep-Alive: timeout=N`, or `None` when N would be 0.
    keep_alive: Option<&'static HeaderValue>,
    metrics: ConnectionMetrics,
}

/// The open connections, and what is decided for all of them at once.
struct Open {
    conns: HashMap<u64, Arc<Conn>>,
    /// Every connection, new ones included, is to retire: the shutdown delay.
    retire_all: bool,
    /// An episode above the soft limit: when it began, and how many were told to retire.
    shedding: Option<(Instant, u64)>,
}

/// What a connection's I/O, its service and its pool share.
struct Conn {
    /// The zero of `idle_since`: its pool's start.
    started: Instant,
    /// Requests whose responses are not yet made (0 or 1 for HTTP/1.1).
    in_flight: AtomicU32,
    /// Responses made so far: a change tells the I/O that a request has ended.
    done: AtomicU64,
    /// Milliseconds since the pool started at which the connection became idle, or
    /// [`NOT_IDLE`].
    idle_since: AtomicU64,
    /// Set once it has been asked to close (once its request in flight, if any, is
    /// answered), so that it is asked once.
    closing: AtomicBool,
    /// Set when it is to close after its next response, with `Connection: close`.
    retire: AtomicBool,
    /// Set by its task once hyper's keep-alive is off: a response made from then on says
    /// `Connection: close`.
    keep_alive_off: AtomicBool,
    /// Wakes the connection's task when `closing` is set (one atomic exchange per poll).
    close_waker: AtomicWaker,
}

/// Milliseconds from `zero` (a pool's start) to `at`, short of [`NOT_IDLE`].
fn millis_since(zero: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(zero).as_millis()).unwrap_or(NOT_IDLE - 1)
}

impl Conn {
    fn new(started: Instant) -> Self {
        Self {
            started,
            in_flight: AtomicU32::new(0),
            done: AtomicU64::new(0),
            idle_since: AtomicU64::new(NOT_IDLE),
            closing: AtomicBool::new(false),
            retire: AtomicBool::new(false),
            keep_alive_off: AtomicBool::new(false),
            close_waker: AtomicWaker::new(),
        }
    }

    fn ask_to_close(&self) -> bool {
        let first = !self.closing.swap(true, Ordering::AcqRel);
        if first {
            // The task registers its waker before it looks at `closing`: either it sees
            // the flag, or this wakes it.
            self.close_waker.wake();
        }
        first
    }
}

impl Pool {
    pub fn new(
        name: &'static str,
        cap: usize,
        limits: Limits,
        metrics: ConnectionMetrics,
    ) -> Arc<Self> {
        let cap = cap.clamp(1, Semaphore::MAX_PERMITS);
        metrics.cap.set(i64::try_from(cap).unwrap_or(i64::MAX));
        let seconds = limits.keep_alive.as_secs();
        // Leaked once per listener: connections hold a pointer, not a copy, and each
        // response's copy is static rather than a count every worker thread touches.
        let keep_alive = (seconds > 0).then(|| {
            let text: &'static str = Box::leak(format!("timeout={seconds}").into_boxed_str());
            &*Box::leak(Box::new(HeaderValue::from_static(text)))
        });
        Arc::new(Self {
            name,
            cap,
            soft: (cap * SOFT_LIMIT_PERCENT / 100).max(1),
            resume: cap * SOFT_RESUME_PERCENT / 100,
            slots: Arc::new(Semaphore::new(cap)),
            open: Mutex::new(Open {
                conns: HashMap::with_capacity(cap.min(16_384)),
                retire_all: false,
                shedding: None,
            }),
            next_id: AtomicU64::new(0),
            started: Instant::now(),
            limits,
            keep_alive,
            metrics,
        })
    }

    /// A slot for a connection just accepted, at once if there is one. At the cap, closes
    /// the longest-idle connection if it has been idle for at least [`IDLE_FLOOR`] (one
    /// per look: one accept is waiting), and waits for one to end; meanwhile the
    /// connection waits, and new ones wait in the listen backlog. `None` only if the pool
    /// is closed.
    pub async fn slot(&self, episode: &mut Episode) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            episode.maybe_end(self);
            return Some(permit);
        }
        episode.begin(self);
        let mut counted_to = Instant::now();
        let permit = loop {
            if self.close_longest_idle(IDLE_FLOOR) {
                episode.idle_closed += 1;
            }
            let wait = tokio::time::timeout(AT_CAP_TICK, self.slots.clone().acquire_owned());
            let outcome = wait.await;
            let now = Instant::now();
            self.metrics
                .at_cap_seconds
                .inc_by((now - counted_to).as_secs_f64());
            counted_to = now;
            match outcome {
                Ok(Ok(permit)) => break permit,
                Ok(Err(_closed)) => return None,
                Err(_tick) => {}
            }
        };
        episode.last_wait_ended = Some(Instant::now());
        Some(permit)
    }

    /// Registers an accepted connection; it leaves the pool when the guard drops. Past
    /// the soft limit, or during the shutdown delay, it is told to retire at once.
    fn register(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(self.started));
        {
            let mut open = self.lock();
            open.conns.insert(id, conn.clone());
            if open.retire_all {
                conn.retire.store(true, Ordering::Release);
            } else if open.conns.len() > self.soft {
                conn.retire.store(true, Ordering::Release);
                self.metrics.shed.inc();
                let episode = open.shedding.get_or_insert_with(|| {
                    tracing::warn!(
                        listener = self.name,
                        soft_limit = self.soft,
                        max_connections = self.cap,
                        "above the soft connection limit: each new connection closes after its first response, with Connection: close"
                    );
                    (Instant::now(), 0)
                });
                episode.1 += 1;
            }
        }
        self.metrics.accepted.inc();
        self.metrics.open.inc();
        Registered {
            pool: self.clone(),
            id,
            conn,
            _permit: permit,
        }
    }

    /// Leaves the pool; ends an episode above the soft limit once few enough are open.
    fn unregister(&self, id: u64) {
        let mut open = self.lock();
        open.conns.remove(&id);
        if open.conns.len() >= self.resume {
            return;
        }
        if let Some((began, told)) = open.shedding.take() {
            // Those told to retire and not yet answered may stay after all.
            if !open.retire_all {
                for conn in open.conns.values() {
                    conn.retire.store(false, Ordering::Release);
                }
            }
            tracing::info!(
                listener = self.name,
                seconds = began.elapsed().as_secs_f64(),
                told_to_close = told,
                "below the soft connection limit again"
            );
        }
    }

    /// Asks the longest-idle connection to close, if it has been idle for at least
    /// `floor`; whether one was asked.
    fn close_longest_idle(&self, floor: Duration) -> bool {
        let latest = Instant::now()
            .checked_sub(floor)
            .map_or(0, |at| millis_since(self.started, at));
        let oldest = self
            .lock()
            .conns
            .values()
            .filter(|c| !c.closing.load(Ordering::Acquire))
            .filter_map(|c| {
                let since = c.idle_since.load(Ordering::Acquire);
                (since <= latest && c.in_flight.load(Ordering::Acquire) == 0)
                    .then(|| (since, c.clone()))
            })
            .min_by_key(|(since, _)| *since);
        let asked = oldest.is_some_and(|(_, c)| c.ask_to_close());
        if asked {
            self.metrics.idle_closed.inc();
        }
        asked
    }

    /// Tells every connection, and every one accepted from now on, to close after its
    /// next response, with `Connection: close` (the shutdown delay). An idle one stays
    /// open until its next request or its keep-alive timeout.
    pub fn retire_all(&self) {
        let mut open = self.lock();
        open.retire_all = true;
        for conn in open.conns.values() {
            conn.retire.store(true, Ordering::Release);
        }
    }

    /// Asks every connection to close once its request in flight is answered (shutdown).
    pub fn close_all(&self) {
        for conn in self.lock().conns.values() {
            conn.ask_to_close();
        }
    }

    /// Completes when every connection has ended. Call it once no more are accepted.
    pub async fn drained(&self) {
        let all = u32::try_from(self.cap).unwrap_or(u32::MAX);
        let _all = self.slots.acquire_many(all).await;
    }

    /// Serves one accepted connection with `app` until it ends, under the limits. Call it
    /// on the runtime that is to serve the connection: its timer is that runtime's.
    ///
    /// The connection is made here and the future holds only it and its place in the
    /// pool: an async fn would also keep its arguments, and a `select!` on a `Notify`
    /// its waiter, for as long as the connection is open.
    pub fn serve<S>(
        self: Arc<Self>,
        builder: &http1::Builder,
        permit: OwnedSemaphorePermit,
        stream: TcpStream,
        app: S,
    ) -> impl Future<Output = ()> + use<S>
    where
        S: Service,
    {
        let registered = self.register(permit);
        let io = TimedIo::new(stream, registered.conn.clone(), self.clone());
        let service = Tracked {
            inner: app,
            conn: registered.conn.clone(),
            keep_alive: self.keep_alive,
        };
        Serving {
            connection: builder.serve_connection(TokioIo::new(io), service),
            registered,
            shutting_down: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        // The map holds no invariant a panic could break half-way: use it regardless.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An accepted connection's place in its pool.
struct Registered {
    pool: Arc<Pool>,
    id: u64,
    conn: Arc<Conn>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.pool.unregister(self.id);
        self.pool.metrics.open.dec();
    }
}

pin_project_lite::pin_project! {
    /// A connection being served: it leaves the pool when this is dropped.
    struct Serving<S: Service> {
        #[pin]
        connection: http1::Connection<TokioIo<TimedIo>, Tracked<S>>,
        registered: Registered,
        // Whether it has been told to close after its request in flight.
        shutting_down: bool,
    }
}

impl<S: Service> Future for Serving<S> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if !*this.shutting_down {
            let conn = &this.registered.conn;
            conn.close_waker.register(cx.waker());
            if conn.closing.load(Ordering::Acquire) {
                // An idle connection closes at once; a busy one after its response, which
                // hyper sends with `Connection: close`.
                *this.shutting_down = true;
                this.connection.as_mut().graceful_shutdown();
                conn.keep_alive_off.store(true, Ordering::Release);
            }
        }
        if let Err(e) = std::task::ready!(this.connection.poll(cx)) {
            let listener = this.registered.pool.name;
            tracing::debug!(listener, error = %e, "connection ended with an error");
        }
        Poll::Ready(())
    }
}

/// A stretch of time at the cap, logged once when it begins and once when it ends.
#[derive(Debug, Default)]
pub struct Episode {
    began: Option<Instant>,
    last_wait_ended: Option<Instant>,
    idle_closed: usize,
}

impl Episode {
    fn begin(&mut self, pool: &Pool) {
        if self.began.is_none() {
            self.began = Some(Instant::now());
            self.idle_closed = 0;
            tracing::warn!(
                listener = pool.name,
                max_connections = pool.cap,
                "at the connection cap: closing keep-alive connections idle for 1 s or more, one per waiting connection; new connections wait in the listen backlog"
            );
        }
    }

    /// When the episode under way, if any, may be called over.
    pub fn quiet_at(&self) -> Option<Instant> {
        self.began?;
        self.last_wait_ended.map(|last| last + EPISODE_QUIET)
    }

    /// Ends the episode, with its log line, once no connection has waited for a while.
    pub fn maybe_end(&mut self, pool: &Pool) {
        let (Some(began), Some(last)) = (self.began, self.last_wait_ended) else {
            return;
        };
        if last.elapsed() >= EPISODE_QUIET {
            tracing::info!(
                listener = pool.name,
                seconds = (last - began).as_secs_f64(),
                idle_closed = self.idle_closed,
                "below the connection cap again"
            );
            *self = Self::default();
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`Tracked`] call: the request counts as in flight until it is
    /// answered or dropped.
    pub struct TrackedFuture<F> {
        #[pin]
        inner: F,
        in_flight: InFlight,
        // `Keep-Alive: timeout=N` for the response, if the request keeps its connection.
        keep_alive: Option<&'static HeaderValue>,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let conn = &this.in_flight.0;
        if conn.retire.load(Ordering::Acquire) && !conn.keep_alive_off.load(Ordering::Acquire) {
            // The response must not be made before hyper's keep-alive is off, or it would
            // go out without `Connection: close` and the connection would then be closed
            // idle. The connection's task switches it off (`Serving`) and polls this again.
            conn.ask_to_close();
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(keep_alive) = this.keep_alive.take()
            && !conn.keep_alive_off.load(Ordering::Acquire)
        {
            response
                .headers_mut()
                .insert(KEEP_ALIVE, keep_alive.clone());
        }
        Poll::Ready(Ok(response))
    }
}

/// Marks one request in flight on a connection, until dropped.
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.idle_since.store(
            millis_since(self.0.started, Instant::now()),
            Ordering::Release,
        );
        // `done` first: whoever sees `in_flight` fall to 0 also sees the new `done`.
        self.0.done.fetch_add(1, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// A connection's service, telling its I/O when a request is being answered.
struct Tracked<S> {
    inner: S,
    conn: Arc<Conn>,
    /// Its pool's `Keep-Alive` value.
    keep_alive: Option<&'static HeaderValue>,
}

impl<S, B, RB> hyper::service::Service<Request<B>> for Tracked<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn call(&self, request: Request<B>) -> Self::Future {
        self.conn.in_flight.fetch_add(1, Ordering::AcqRel);
        self.conn.idle_since.store(NOT_IDLE, Ordering::Release);
        let keep_alive = self.keep_alive.filter(|_| keeps_alive(&request));
        TrackedFuture {
            inner: self.inner.call(request),
            in_flight: InFlight(self.conn.clone()),
            keep_alive,
        }
    }
}

/// Whether a request leaves its connection open for another, as hyper decides it: an
/// HTTP/1.1 one unless it says `Connection: close`, an HTTP/1.0 one only if it says
/// `Connection: keep-alive`.
fn keeps_alive<B>(request: &Request<B>) -> bool {
    let (mut close, mut keep) = (false, false);
    for value in request.headers().get_all(header::CONNECTION) {
        for token in value.as_bytes().split(|b| *b == b',') {
            let token = token.trim_ascii();
            close |= token.eq_ignore_ascii_case(b"close");
            keep |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    match request.version() {
        Version::HTTP_11 => !close,
        Version::HTTP_10 => keep && !close,
        _ => false,
    }
}

/// Where a connection is, as its I/O sees it; see the module's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    Headers,
    Busy,
    Idle,
}

/// A connection's socket, closing it (with a `TimedOut` error to hyper) when its phase's
/// time runs out. Only a read or write that would wait looks at the clock.
///
/// A later request's header time starts at the first read that would wait after its
/// first bytes, not at those bytes: hyper reads on until the head is whole or the socket
/// would wait, so that read follows within the same poll, and a request that arrives
/// whole (the common case) never needs the clock for it.
struct TimedIo {
    stream: TcpStream,
    conn: Arc<Conn>,
    pool: Arc<Pool>,
    phase: Phase,
    /// The `done` count last seen: a change means a response was made since.
    seen_done: u64,
    /// When the current phase's time runs out; `None` for headers not yet timed.
    deadline: Option<Instant>,
    /// The timer, armed for `armed`: never later than `deadline`, perhaps earlier.
    sleep: Pin<Box<Sleep>>,
    armed: Instant,
    /// The waker the timer holds, if it has been polled since it was last armed.
    timer_waker: Option<Waker>,
}

impl TimedIo {
    fn new(stream: TcpStream, conn: Arc<Conn>, pool: Arc<Pool>) -> Self {
        let deadline = Instant::now() + pool.limits.header_read;
        Self {
            stream,
            conn,
            pool,
            phase: Phase::New,
            seen_done: 0,
            deadline: Some(deadline),
            sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
            armed: deadline,
            timer_waker: None,
        }
    }

    /// Catches up with the service: a request being answered, or one answered since.
    fn sync(&mut self) {
        if self.conn.in_flight.load(Ordering::Acquire) > 0 {
            self.phase = Phase::Busy;
            return;
        }
        let done = self.conn.done.load(Ordering::Acquire);
        if self.phase == Phase::Busy || done != self.seen_done {
            self.seen_done = done;
            self.phase = Phase::Idle;
            // Idle since the response was made, which may be a while before this look.
            let since = self.conn.idle_since.load(Ordering::Acquire);
            let since = if since == NOT_IDLE {
                Instant::now()
            } else {
                self.conn.started + Duration::from_millis(since)
            };
            self.deadline = Some(since + self.pool.limits.keep_alive);
        }
    }

    /// Bytes arrived: an idle connection is now reading a request's headers.
    fn on_bytes(&mut self) {
        if self.phase == Phase::Idle {
            self.phase = Phase::Headers;
            self.deadline = None;
            self.conn.idle_since.store(NOT_IDLE, Ordering::Release);
        }
    }

    /// Called when the socket would wait: whether the phase's time is up. If not, makes
    /// sure the task is woken by the time it must look again.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let now = Instant::now();
        let wake_by = if self.phase == Phase::Busy {
            // No limit while a request is answered, but hyper may not read again after
            // the response until something wakes it, and the idle time starts no earlier
            // than now: look again by then.
            now + self.pool.limits.keep_alive
        } else {
            // Headers not yet timed are timed from now.
            let deadline = *self
                .deadline
                .get_or_insert(now + self.pool.limits.header_read);
            if now >= deadline {
                let metrics = &self.pool.metrics;
                match self.phase {
                    Phase::New => metrics.timed_out_new.inc(),
                    Phase::Headers => metrics.timed_out_headers.inc(),
                    Phase::Idle | Phase::Busy => metrics.timed_out_idle.inc(),
                }
                return true;
            }
            deadline
        };
        // An earlier wake-up is harmless (it lands here again and re-arms); a later one
        // would miss the deadline, and one already past would never come.
        if self.armed > wake_by || self.armed <= now {
            self.armed = wake_by;
            self.sleep.as_mut().reset(wake_by.into());
            self.timer_waker = None;
        }
        // An armed timer keeps the waker it was polled with until it fires, and then it is
        // armed again above: polling it on every request would only touch its memory.
        let held = self.timer_waker.as_ref();
        if !held.is_some_and(|waker| waker.will_wake(cx.waker())) {
            if self.sleep.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            } else {
                self.timer_waker = Some(cx.waker().clone());
            }
        }
        false
    }

    /// A write would wait: a client that stops reading its answers is held no longer
    /// than an idle one.
    fn write_would_wait<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.sync();
        if self.expired(cx) {
            Poll::Ready(Err(self.timed_out()))
        } else {
            Poll::Pending
        }
    }

    fn timed_out(&self) -> io::Error {
        let what = match self.phase {
            Phase::New => "no request within the header-read timeout",
            Phase::Headers => "headers not complete within the header-read timeout",
            Phase::Idle | Phase::Busy => "idle for the keep-alive timeout",
        };
        io::Error::new(io::ErrorKind::TimedOut, what)
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.sync();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.on_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(this.timed_out())),
            other => other,
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Pending => this.write_would_wait(cx),
            ready => ready,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.write_would_wait(cx),
            ready => ready,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
