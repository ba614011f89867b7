//! Faults under load, against the real binary on loopback (every loop bounded in count
//! and time): reloads, half of them broken, during steady load; SIGTERM during load; and
//! a thousand connections that send half a request and stall.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::child::Podmeta;
use podmeta::BUILTIN_TOML;

/// What one GET came to.
enum Outcome {
    /// 200 with the whole body.
    Ok,
    /// Refused or closed before a single byte of answer: no request was in flight.
    NotServed,
    /// Anything else: a wrong status, or an answer cut short.
    Failed(String),
}

fn get_once(addr: SocketAddr, path: &str) -> Outcome {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return Outcome::NotServed;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return Outcome::NotServed;
    }
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    if response.is_empty() {
        return Outcome::NotServed;
    }
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.parse::<usize>().ok());
    match (head.starts_with("HTTP/1.1 200 "), length) {
        (true, Some(n)) if body.len() == n && read.is_ok() => Outcome::Ok,
        _ => Outcome::Failed(text.chars().take(300).collect()),
    }
}

/// Clients that GET `path` in a loop until stopped (or 60 s, or 200,000 requests).
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    not_served: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(addr: SocketAddr, path: &'static str, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let not_served = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_secs(60);
        let threads = (0..clients)
            .map(|_| {
                let (stop, ok, not_served, failures) = (
                    stop.clone(),
                    ok.clone(),
                    not_served.clone(),
                    failures.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..200_000 / clients {
                        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                            break;
                        }
                        match get_once(addr, path) {
                            Outcome::Ok => ok.fetch_add(1, Ordering::Relaxed),
                            Outcome::NotServed => not_served.fetch_add(1, Ordering::Relaxed),
                            Outcome::Failed(what) => {
                                failures.lock().unwrap().push(what);
                                0
                            }
                        };
                    }
                })
            })
            .collect();
        Self {
            stop,
            ok,
            not_served,
            failures,
            threads,
        }
    }

    /// Stops the clients: (answered, not served, failures).
    fn finish(self) -> (u64, u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (
            self.ok.load(Ordering::Relaxed),
            self.not_served.load(Ordering::Relaxed),
            failures,
        )
    }
}

#[test]
fn twenty_reloads_half_of_them_broken_during_load_fail_no_request() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = dir.join("pods.toml");
    std::fs::write(&path, BUILTIN_TOML).unwrap();
    let podmeta = Podmeta::start(&["--config", path.to_str().unwrap()]);
    let load = Load::start(podmeta.addr, "/pods/eu1", 4);

    for i in 1..=20 {
        let text = if i % 2 == 1 {
            BUILTIN_TOML.replace("port = 4422\nip = \"18", "port = 0\nip = \"18")
        } else {
            BUILTIN_TOML.replace("\"Europe\"", &format!("\"Europe {i}\""))
        };
        if i % 4 == 0 {
            // Half the valid edits arrive as an editor saves: a rename over the file.
            let staged = dir.join(".pods.toml.tmp");
            std::fs::write(&staged, text).unwrap();
            std::fs::rename(&staged, &path).unwrap();
        } else {
            std::fs::write(&path, text).unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    podmeta.eventually("the last, valid table is served", || {
        podmeta
            .get("/pods/eu1")
            .contains("\"location\": \"Europe 20\"")
    });
    let (ok, not_served, failures) = load.finish();
    assert!(
        failures.is_empty(),
        "{} failed requests, e.g. {:?}",
        failures.len(),
        &failures[..1]
    );
    assert_eq!(not_served, 0, "requests refused while reloading");
    assert!(ok > 100, "only {ok} requests made");
    assert!(podmeta.metric("podmeta_table_reloads_total{result=\"failure\"} ") >= 5);
    assert!(podmeta.metric("podmeta_table_reloads_total{result=\"success\"} ") >= 5);
}

#[test]
fn sigterm_during_load_finishes_the_requests_in_flight_and_exits_0() {
    let mut podmeta = Podmeta::start(&[]);
    let addr = podmeta.addr;
    let load = Load::start(addr, "/pods/eu1", 4);
    // Requests that are in flight when the signal comes: headers and half a body sent.
    let body = br#"{"bucket": "mp-forwarding-acme"}"#;
    let mut in_flight: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).unwrap();
            let head = format!(
                "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body[..10]).unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    podmeta.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    for stream in &mut in_flight {
        stream.write_all(&body[10..]).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200 OK"),
            "an in-flight request was cut: {response}"
        );
        assert!(
            response.ends_with("}\n"),
            "an in-flight answer was cut short"
        );
    }
    let status = podmeta.wait_exit(Duration::from_secs(10));
    let (ok, _not_served, failures) = load.finish();
    assert_eq!(status.code(), Some(0));
    assert!(ok > 100, "only {ok} requests made");
    assert!(
        failures.is_empty(),
        "answers cut short or wrong: {:?}",
        &failures[..1]
    );
}

#[test]
fn a_thousand_stalled_half_requests_do_not_starve_real_clients_and_are_closed() {
    let podmeta = Podmeta::start(&["--header-read-timeout", "2s"]);
    let stalled: Vec<TcpStream> = (0..1000)
        .map(|_| {
            let mut stream = TcpStream::connect(podmeta.addr).unwrap();
            stream
                .write_all(b"GET /pods/eu1 HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));

    let mut slowest = Duration::ZERO;
    for _ in 0..50 {
        let started = Instant::now();
        assert!(
            matches!(get_once(podmeta.addr, "/pods/eu1"), Outcome::Ok),
            "a real client was not served"
        );
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a real client waited {slowest:?}"
    );

    // After the header-read timeout (2 s), every stalled connection is closed.
    std::thread::sleep(Duration::from_secs(4));
    let still_open = stalled
        .into_iter()
        .filter(|stream| {
            stream.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 64];
            matches!((&*stream).read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
        })
        .count();
    assert_eq!(still_open, 0, "{still_open} stalled connections still open");
}
