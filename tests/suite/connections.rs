//! Connections over real sockets: the time limits from accept, the keep-alive timeout and
//! its header, the soft limit (connections past it closed at a response boundary), the
//! cap (a connection idle for a second closed to make room, the rest waiting in the
//! backlog), the admin listener answering while the main one is full, and the shutdown
//! with and without its delay.
//!
//! The limits are set small (a 1 s header-read timeout, a 3 s keep-alive timeout, a cap of
//! 50) so that each behaviour shows within seconds; the bounds asserted are loose, since
//! they only tell a timer that fired from one that never did.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::RunningServer;
use podmeta::{AppState, Catalog, ServerSettings, Table};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_READ: Duration = Duration::from_secs(1);
const KEEP_ALIVE: Duration = Duration::from_secs(3);
const CAP: usize = 50;

fn settings() -> ServerSettings {
    ServerSettings {
        header_read_timeout: HEADER_READ,
        keep_alive_timeout: KEEP_ALIVE,
        max_connections: CAP,
        ..ServerSettings::default()
    }
}

async fn server() -> RunningServer {
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    RunningServer::start_with_admin(state, settings()).await
}

/// Reads until the server closes the connection (at most `limit`); what was read, and
/// when it closed (`None` if it was still open at `limit`).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut out = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok();
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

/// Sends one keep-alive GET and reads exactly its response; the status line and body.
async fn get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// Sends one keep-alive GET that must be answered 200.
async fn get_ok(stream: &mut TcpStream, path: &str) {
    let response = get(stream, path).await;
    assert!(
        response.starts_with("HTTP/1.1 200 OK"),
        "{path}: {response}"
    );
}

async fn read_response(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("a response within 10 s")
            .unwrap();
        assert_eq!(
            n,
            1,
            "closed mid-response: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    format!("{}{}", head, String::from_utf8(body).unwrap())
}

/// A metric's value, read from `/metrics` at `addr` on a new connection.
async fn metric(addr: SocketAddr, line_start: &str) -> f64 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    crate::common::metric_value(&get(&mut stream, "/metrics").await, line_start)
}

/// How many main-listener connections a time limit closed in `phase`.
async fn timed_out(server: &RunningServer, phase: &str) -> f64 {
    let line =
        format!(r#"podmeta_connections_timed_out_total{{listener="main",phase="{phase}"}} "#);
    metric(server.admin.unwrap(), &line).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let server = server().await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let opened = Instant::now();
    let (read, closed) = read_until_closed(&mut silent, HEADER_READ * 6).await;
    let closed = closed.expect("a silent connection is closed");
    let held = closed - opened;
    assert!(held >= HEADER_READ * 8 / 10, "closed too soon: {held:?}");
    assert!(read.is_empty(), "{read}");
    assert_eq!(timed_out(&server, "new").await, 1.0);
}

#[tokio::test]
async fn a_partial_http2_preface_counts_as_nothing() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let opened = Instant::now();
    // As far as HTTP/1.1 can tell, the start of a request line: it waits for more.
    stream.write_all(b"PRI * HTTP/").await.unwrap();
    let (_, closed) = read_until_closed(&mut stream, HEADER_READ * 6).await;
    let held = closed.expect("closed") - opened;
    assert!(held >= HEADER_READ * 8 / 10, "closed too soon: {held:?}");
}

#[tokio::test]
async fn cleartext_http2_is_refused_at_once() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let opened = Instant::now();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let (read, closed) = read_until_closed(&mut stream, HEADER_READ * 6).await;
    let held = closed.expect("closed") - opened;
    assert!(held < HEADER_READ / 2, "held for {held:?}: {read}");
    assert!(!read.contains("200 OK"), "{read}");
}

#[tokio::test]
async fn headers_sent_a_line_at_a_time_are_cut_off_at_the_header_read_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let opened = Instant::now();
    stream.write_all(b"GET /pods HTTP/1.1\r\n").await.unwrap();
    // Each line well inside the timeout: only a deadline on the whole head stops this.
    let mut cut_off = false;
    for i in 0..25 {
        tokio::time::sleep(HEADER_READ / 5).await;
        let line = format!("X-Slow-{i}: y\r\n");
        if stream.write_all(line.as_bytes()).await.is_err() {
            cut_off = true;
            break;
        }
    }
    let (read, closed) = read_until_closed(&mut stream, HEADER_READ).await;
    assert!(
        cut_off || closed.is_some(),
        "still open after 5 s of trickling"
    );
    assert!(!read.contains("200 OK"), "{read}");
    assert_eq!(timed_out(&server, "new").await, 1.0);
    assert!(opened.elapsed() < HEADER_READ * 6);
}

#[tokio::test]
async fn an_idle_connection_outlives_the_header_read_timeout_until_the_keep_alive_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut stream, "/pods/eu1").await;
    // Idle for twice the header-read timeout: still open, still served.
    tokio::time::sleep(HEADER_READ * 2).await;
    get_ok(&mut stream, "/pods/eu1").await;
    let answered = Instant::now();
    let (read, closed) = read_until_closed(&mut stream, KEEP_ALIVE * 3).await;
    let idle = closed.expect("closed at the keep-alive timeout") - answered;
    assert!(read.is_empty(), "{read}");
    assert!(idle >= KEEP_ALIVE * 9 / 10, "closed after {idle:?} idle");
    assert_eq!(timed_out(&server, "idle").await, 1.0);
}

#[tokio::test]
async fn a_later_requests_headers_get_the_header_read_timeout_from_their_first_byte() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut stream, "/healthz").await;
    tokio::time::sleep(HEADER_READ * 3 / 2).await;
    stream.write_all(b"GET /pods HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let (read, closed) = read_until_closed(&mut stream, KEEP_ALIVE * 2).await;
    let held = closed.expect("closed") - started;
    assert!(held >= HEADER_READ * 8 / 10, "closed too soon: {held:?}");
    // Cut by the header-read timeout, well before the keep-alive timeout would have.
    assert!(held < KEEP_ALIVE * 9 / 10, "held for {held:?}");
    assert!(!read.contains("200 OK"), "{read}");
    assert_eq!(timed_out(&server, "headers").await, 1.0);
}

/// The main listener's open connections, as its gauge says, once it says `expected`
/// (within 2 s): a close is seen by the server a moment after the client's.
async fn open_becomes(server: &RunningServer, expected: usize) {
    let open = r#"podmeta_connections_open{listener="main"} "#;
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let now = metric(server.admin.unwrap(), open).await;
        if now == expected as f64 {
            return;
        }
        assert!(Instant::now() < deadline, "{now} open, not {expected}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `count` connections, each answered once and kept open, idle.
async fn kept_alive(server: &RunningServer, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let response = get(&mut stream, "/healthz").await;
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(!says_close(&response), "{response}");
        streams.push(stream);
    }
    streams
}

/// Whether a response head says `Connection: close`.
fn says_close(response: &str) -> bool {
    response.lines().any(|l| l == "connection: close")
}

/// The value of a response's `keep-alive` header, if it has one.
fn keep_alive_header(response: &str) -> Option<&str> {
    response
        .lines()
        .find_map(|l| l.strip_prefix("keep-alive: "))
}

/// Sends a GET on `stream`, which must be answered 200 with `Connection: close` and no
/// `Keep-Alive`, and then closed: the connection retired at a response boundary.
async fn answered_and_retired(stream: &mut TcpStream) {
    let response = get(stream, "/pods/eu1").await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(says_close(&response), "{response}");
    assert_eq!(keep_alive_header(&response), None, "{response}");
    let (_, closed) = read_until_closed(stream, HEADER_READ).await;
    assert!(closed.is_some(), "still open after Connection: close");
}

/// The soft limit of a cap of [`CAP`]: 90 % of it.
const SOFT: usize = CAP * 9 / 10;

#[tokio::test]
async fn every_response_that_keeps_its_connection_says_for_how_long() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The second /pods/eu1 is answered from the kept head of the first.
    for path in ["/pods/eu1", "/pods/eu1", "/healthz", "/no-such-route"] {
        let response = get(&mut stream, path).await;
        assert_eq!(
            keep_alive_header(&response),
            Some("timeout=3"),
            "{response}"
        );
    }
    // A request that closes its connection is told nothing of the kind.
    let mut closing = TcpStream::connect(server.addr).await.unwrap();
    closing
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (response, _) = read_until_closed(&mut closing, HEADER_READ).await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert_eq!(keep_alive_header(&response), None, "{response}");
    // HTTP/1.0 keeps a connection only when asked to.
    let mut old = TcpStream::connect(server.addr).await.unwrap();
    old.write_all(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut old).await;
    assert_eq!(
        keep_alive_header(&response),
        Some("timeout=3"),
        "{response}"
    );
}

#[tokio::test]
async fn the_keep_alive_header_gives_whole_seconds_and_is_left_out_below_one() {
    for (timeout, expected) in [(2_500, Some("timeout=2")), (999, None)] {
        let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
        let settings = ServerSettings {
            keep_alive_timeout: Duration::from_millis(timeout),
            ..settings()
        };
        let server = RunningServer::start(state, settings).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let response = get(&mut stream, "/pods/eu1").await;
        assert_eq!(
            keep_alive_header(&response),
            expected,
            "{timeout} ms: {response}"
        );
    }
}

#[tokio::test]
async fn above_the_soft_limit_each_new_connection_closes_after_its_first_response() {
    let server = server().await;
    let mut pooled = kept_alive(&server, SOFT).await;
    // One past the soft limit: answered, told to close, and closed.
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    answered_and_retired(&mut extra).await;
    // The pooled ones keep their connections: only the excess goes.
    for stream in &mut pooled {
        let response = get(stream, "/healthz").await;
        assert!(!says_close(&response), "{response}");
    }
    let shed = r#"podmeta_connections_shed_total{listener="main"} "#;
    assert_eq!(metric(server.admin.unwrap(), shed).await, 1.0);
}

#[tokio::test]
async fn an_episode_above_the_soft_limit_ends_below_85_percent_not_before() {
    let server = server().await;
    let mut pooled = kept_alive(&server, SOFT).await;
    // Two more, told to close at their first response, which they have not asked for.
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    open_becomes(&server, SOFT + 2).await;
    // Down to 88 %: below the soft limit but not below 85 %, so still told to close.
    pooled.truncate(SOFT - 2);
    open_becomes(&server, SOFT).await;
    let response = get(&mut first, "/pods/eu1").await;
    assert!(says_close(&response), "at 90 %: {response}");
    drop(first);
    // Below 85 %: the episode is over, and the other keeps its connection after all.
    pooled.truncate(CAP * 85 / 100 - 2);
    open_becomes(&server, CAP * 85 / 100 - 1).await;
    let response = get(&mut second, "/pods/eu1").await;
    assert!(!says_close(&response), "below 85 %: {response}");
    assert_eq!(
        keep_alive_header(&response),
        Some("timeout=3"),
        "{response}"
    );
}

#[tokio::test]
async fn at_the_cap_only_a_connection_idle_for_a_second_is_closed_to_make_room() {
    // Silent connections hold their slots for the whole test.
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let settings = ServerSettings {
        header_read_timeout: Duration::from_secs(20),
        keep_alive_timeout: Duration::from_secs(20),
        ..settings()
    };
    let server = RunningServer::start_with_admin(state, settings).await;
    // The first is the longest idle: the floor runs from its answer.
    let mut idle = kept_alive(&server, 1).await;
    let idle_from = Instant::now();
    idle.extend(kept_alive(&server, SOFT - 1).await);
    let mut silent = Vec::new();
    for _ in SOFT..CAP {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    open_becomes(&server, CAP).await;
    // At the cap, with nothing idle for a second yet: the newcomer waits for that.
    let mut newcomer = TcpStream::connect(server.addr).await.unwrap();
    let response = get(&mut newcomer, "/pods/eu1").await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    let waited = idle_from.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "room made after {waited:?} idle"
    );
    // Room for one: the longest idle, and no other.
    let (_, closed) = read_until_closed(&mut idle[0], HEADER_READ).await;
    assert!(
        closed.is_some(),
        "the longest idle connection is still open"
    );
    let admin = server.admin.unwrap();
    let closed = r#"podmeta_connections_idle_closed_total{listener="main"} "#;
    assert_eq!(metric(admin, closed).await, 1.0);
    for stream in &mut idle[1..] {
        get_ok(stream, "/healthz").await;
    }
    drop(silent);
}

#[tokio::test]
async fn at_the_cap_with_nothing_idle_new_connections_wait_in_the_backlog() {
    let server = server().await;
    let admin = server.admin.unwrap();
    let mut silent = Vec::new();
    for _ in 0..CAP {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let open = r#"podmeta_connections_open{listener="main"} "#;
    let deadline = Instant::now() + HEADER_READ / 2;
    while metric(admin, open).await < CAP as f64 {
        assert!(
            Instant::now() < deadline,
            "the silent connections were not accepted"
        );
    }
    // The kernel completes the handshake; podmeta takes it once a silent one times out.
    let started = Instant::now();
    let mut waiting = TcpStream::connect(server.addr).await.unwrap();
    let extra = TcpStream::connect(server.addr).await.unwrap();
    assert!(metric(admin, open).await <= CAP as f64, "grew past the cap");
    let response = get(&mut waiting, "/pods/eu1").await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    let waited = started.elapsed();
    assert!(
        waited >= HEADER_READ / 4,
        "served without waiting: {waited:?}"
    );
    let at_cap = r#"podmeta_connections_at_cap_seconds_total{listener="main"} "#;
    assert!(metric(admin, at_cap).await > 0.0);
    drop((silent, extra));
}

#[tokio::test]
async fn the_admin_listener_answers_while_the_main_one_is_full() {
    let server = server().await;
    let mut silent = Vec::new();
    for _ in 0..CAP + 20 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let admin = server.admin.unwrap();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let started = Instant::now();
        let mut probe = TcpStream::connect(admin).await.unwrap();
        let response = get(&mut probe, path).await;
        assert!(
            response.starts_with("HTTP/1.1 200 OK"),
            "{path}: {response}"
        );
        assert!(
            started.elapsed() < HEADER_READ / 2,
            "{path}: {:?}",
            started.elapsed()
        );
    }
    // The main listener is full: a probe there waits for a silent connection to go.
    let mut main = TcpStream::connect(server.addr).await.unwrap();
    main.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(HEADER_READ / 4, main.read(&mut byte)).await;
    assert!(early.is_err(), "answered past the cap");
    // Only the operational routes are on the admin listener.
    let mut probe = TcpStream::connect(admin).await.unwrap();
    assert!(
        get(&mut probe, "/pods/eu1")
            .await
            .starts_with("HTTP/1.1 404 ")
    );
    drop(silent);
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut stream, "/healthz").await;
    let started = Instant::now();
    server.stop().await;
    let (_, closed) = read_until_closed(&mut stream, KEEP_ALIVE).await;
    assert!(closed.is_some(), "an idle connection outlived shutdown");
    assert!(started.elapsed() < HEADER_READ, "{:?}", started.elapsed());
}

/// A server with a shutdown delay of `delay` and the usual limits.
async fn server_with_delay(delay: Duration) -> RunningServer {
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let settings = ServerSettings {
        shutdown_delay: delay,
        ..settings()
    };
    RunningServer::start_with_admin(state, settings).await
}

#[tokio::test]
async fn during_the_shutdown_delay_podmeta_serves_not_ready_and_each_response_says_close() {
    const DELAY: Duration = Duration::from_millis(1500);
    let server = server_with_delay(DELAY).await;
    let mut pooled = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut pooled, "/healthz").await;
    let signalled = Instant::now();
    server.signal();
    // Not ready at once, on both listeners, for the whole delay; and still serving.
    let mut looks = 0;
    while signalled.elapsed() < DELAY - Duration::from_millis(300) {
        for addr in [server.addr, server.admin.unwrap()] {
            let mut probe = TcpStream::connect(addr).await.unwrap();
            let response = get(&mut probe, "/readyz").await;
            assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
            assert!(says_close(&response), "{response}");
        }
        looks += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(looks >= 5, "looked {looks} times");
    // A pooled connection's next response retires it, at a response boundary.
    answered_and_retired(&mut pooled).await;
    // After the delay: no longer accepting, and stopped.
    let task = tokio::time::timeout(DELAY * 2, async {
        let mut server = server;
        server.task.take().unwrap().await
    });
    task.await.expect("stopped after the delay").unwrap();
    assert!(signalled.elapsed() >= DELAY, "{:?}", signalled.elapsed());
}

#[tokio::test]
async fn a_second_signal_ends_the_delay() {
    let server = server_with_delay(Duration::from_secs(60)).await;
    let mut pooled = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut pooled, "/healthz").await;
    server.signal();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut probe = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        get(&mut probe, "/readyz")
            .await
            .starts_with("HTTP/1.1 503 ")
    );
    let second = Instant::now();
    server.stop().await;
    assert!(
        second.elapsed() < Duration::from_secs(2),
        "{:?}",
        second.elapsed()
    );
    // The drain that follows closes the idle connection.
    let (_, closed) = read_until_closed(&mut pooled, HEADER_READ).await;
    assert!(closed.is_some(), "an idle connection outlived the shutdown");
}

#[tokio::test]
async fn a_signal_during_the_drain_stops_at_once() {
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let settings = ServerSettings {
        shutdown_timeout: Duration::from_secs(60),
        ..settings()
    };
    let mut server = RunningServer::start(state, settings).await;
    // A request in flight that will not finish: its body never comes.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(
        b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal();
    let task = server.task.take().unwrap();
    let mut task = std::pin::pin!(task);
    // Draining: it waits for the request in flight...
    let early = tokio::time::timeout(Duration::from_millis(500), &mut task).await;
    assert!(early.is_err(), "stopped with a request in flight");
    // ...until another signal.
    let second = Instant::now();
    server.signal();
    tokio::time::timeout(Duration::from_secs(1), &mut task)
        .await
        .expect("stopped at once")
        .unwrap();
    assert!(second.elapsed() < Duration::from_secs(1));
    drop(slow);
}

#[tokio::test]
async fn probes_and_scrapes_on_the_admin_port_are_counted_apart_from_the_traffic() {
    let server = server().await;
    let admin = server.admin.unwrap();
    let mut main = TcpStream::connect(server.addr).await.unwrap();
    get(&mut main, "/healthz").await;
    let mut probe = TcpStream::connect(admin).await.unwrap();
    get(&mut probe, "/healthz").await;
    get(&mut probe, "/healthz").await;
    let series = |listener: &str| {
        format!(
            r#"podmeta_http_requests_total{{listener="{listener}",method="GET",route="/healthz",status="200"}} "#
        )
    };
    assert_eq!(metric(admin, &series("main")).await, 1.0);
    assert_eq!(metric(admin, &series("admin")).await, 2.0);
}
