//! Connections over real sockets: the time limits from accept, the keep-alive timeout,
//! the cap (idle connections closed to make room, the rest waiting in the backlog), and
//! the admin listener answering while the main one is full.
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

#[tokio::test]
async fn at_the_cap_the_longest_idle_connections_are_closed_to_make_room() {
    let server = server().await;
    let mut idle = Vec::new();
    for _ in 0..CAP {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        get_ok(&mut stream, "/healthz").await;
        idle.push(stream);
    }
    // One more: room is made for it at once, well inside any timeout.
    let started = Instant::now();
    let mut newcomer = TcpStream::connect(server.addr).await.unwrap();
    get_ok(&mut newcomer, "/pods/eu1").await;
    assert!(
        started.elapsed() < HEADER_READ / 2,
        "{:?}",
        started.elapsed()
    );
    // The first connection opened was the longest idle, so it went first.
    let (_, closed) = read_until_closed(&mut idle[0], HEADER_READ).await;
    assert!(
        closed.is_some(),
        "the longest idle connection is still open"
    );
    let admin = server.admin.unwrap();
    let closed = r#"podmeta_connections_idle_closed_total{listener="main"} "#;
    assert!(metric(admin, closed).await >= 1.0);
    let open = r#"podmeta_connections_open{listener="main"} "#;
    assert!(metric(admin, open).await <= CAP as f64);
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
