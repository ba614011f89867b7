//! The real binary, as operators run it: the ready line, request ids on log lines, SIGHUP
//! reloads (a bad file keeps the old table), and SIGTERM drains and exits 0.

use std::process::Command;
use std::time::Duration;

use crate::child::{BIN, Podmeta};

#[test]
fn the_ready_line_names_the_address_and_the_pods() {
    let podmeta = Podmeta::start(&[]);
    assert!(podmeta.logged(|l| l["fields"]["message"] == "podmeta ready"
        && l["fields"]["pods"] == "us1,us2,eu1,au1"
        && l["fields"]["address"] == podmeta.addr.to_string()));
}

#[test]
fn every_log_line_of_a_request_carries_its_request_id() {
    let podmeta = Podmeta::start(&[]);
    let response = podmeta.request(
        "GET /pods/eu1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n",
    );
    assert!(
        response.contains("x-request-id: trace-me-42\r\n"),
        "{response}"
    );
    // The 200 access line of the request with this id, method and route template.
    let access_logged = |id: &str, method: &str, route: &str| {
        podmeta.logged(|l| {
            l["target"] == "podmeta::access"
                && l["span"]["request_id"] == id
                && l["fields"]["route"] == route
                && l["fields"]["status"] == 200
                && l["fields"]["method"] == method
                && l["fields"]["latency_us"].is_u64()
        })
    };
    podmeta.eventually("the access line is logged", || {
        access_logged("trace-me-42", "GET", "/pods/{pod}")
    });
    // A request the router answers (not a pre-rendered resource) writes its line the same way.
    let body = r#"{"bucket": "mp-forwarding-acme"}"#;
    let response = podmeta.request(&format!(
        "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-43\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    podmeta.eventually("the router's access line is logged", || {
        access_logged("trace-me-43", "POST", "/pods/{pod}/bucket-policy")
    });
}

#[test]
fn sighup_reloads_the_table_and_a_bad_file_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    std::fs::write(&path, podmeta::BUILTIN_TOML).unwrap();
    let podmeta = Podmeta::start(&["--config", path.to_str().unwrap()]);
    let successes = |p: &Podmeta| p.metric("podmeta_table_reloads_total{result=\"success\"} ");
    // SIGHUP reloads even an unchanged file: the operator asked.
    podmeta.signal("HUP");
    podmeta.eventually("a reload on SIGHUP", || successes(&podmeta) == 1);

    std::fs::write(&path, "[[pods]]\nid = \"EU1\"\n").unwrap();
    podmeta.signal("HUP");
    podmeta.eventually("the refusal is logged with its line", || {
        podmeta.logged(|l| {
            l["level"] == "ERROR"
                && l["fields"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("pods.toml:2:"))
        })
    });
    assert!(
        podmeta.get("/pods/eu1").starts_with("HTTP/1.1 200 OK"),
        "still serving"
    );
    assert!(
        podmeta
            .get("/pods/eu1")
            .contains("\"location\": \"Europe\"")
    );
}

#[test]
fn sigterm_drains_and_exits_0() {
    let mut podmeta = Podmeta::start(&[]);
    assert!(podmeta.get("/readyz").starts_with("HTTP/1.1 200 OK"));
    podmeta.signal("TERM");
    let status = podmeta.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(100));
    assert!(podmeta.logged(|l| l["fields"]["message"] == "podmeta stopped"));
}

#[test]
fn sigint_also_drains_and_exits_0() {
    let mut podmeta = Podmeta::start(&[]);
    podmeta.signal("INT");
    let status = podmeta.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
}

/// Runs `podmeta --bind BIND healthcheck`: its exit code and what it said on stderr.
fn healthcheck(bind: &str) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["--bind", bind, "healthcheck"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn healthcheck_passes_against_a_running_podmeta_and_fails_without_one() {
    let podmeta = Podmeta::start(&[]);
    let (code, stderr) = healthcheck(&podmeta.addr.to_string());
    assert_eq!(code, Some(0), "{stderr}");
    // The wildcard address a container listens on is asked on loopback.
    let wildcard = format!("0.0.0.0:{}", podmeta.addr.port());
    let (code, stderr) = healthcheck(&wildcard);
    assert_eq!(code, Some(0), "{stderr}");
    drop(podmeta);
    let (code, stderr) = healthcheck(&wildcard);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn the_cap_is_lowered_to_fit_the_open_file_limit_after_raising_it_and_says_so() {
    // Soft 100, hard 300: podmeta raises the soft limit to 300, keeps 64 files for
    // itself and 64 for the admin listener's connections, and lowers the cap to the rest.
    let podmeta = Podmeta::start_after(
        "ulimit -Sn 100 && ulimit -Hn 300",
        &["--admin-bind", "127.0.0.1:0", "--max-connections", "10000"],
    );
    assert!(podmeta.logged(|l| {
        l["level"] == "WARN"
            && l["fields"]["max_connections"] == 172
            && l["fields"]["asked"] == 10000
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("the open-file limit is 300"))
    }));
    assert!(podmeta.logged(
        |l| l["fields"]["message"] == "podmeta ready" && l["fields"]["max_connections"] == 172
    ));
    let metrics = podmeta.get("/metrics");
    assert!(
        metrics.contains("podmeta_connections_max{listener=\"main\"} 172\n"),
        "{metrics}"
    );
}

#[test]
fn a_cap_of_zero_is_a_usage_error_naming_the_flag() {
    let output = Command::new(BIN)
        .args(["--max-connections", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--max-connections"), "{stderr}");
    assert!(stderr.contains("at least 1"), "{stderr}");
}

#[test]
fn sighup_with_the_builtin_table_is_logged_and_the_server_keeps_serving() {
    let podmeta = Podmeta::start(&[]);
    podmeta.signal("HUP");
    podmeta.eventually("the SIGHUP is logged", || {
        podmeta.logged(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("SIGHUP received: the table is the compiled-in one"))
        })
    });
    assert!(podmeta.get("/healthz").starts_with("HTTP/1.1 200 OK"));
}

#[test]
fn an_episode_at_the_cap_is_logged_once_however_many_connections_it_turns_away() {
    use std::io::{Read, Write};
    // A cap of 10 (soft limit 9): nine callers answered and kept open, idle, then twenty
    // that send nothing. The first fills the cap; each of the next nine makes room by
    // closing one idle for a second or more, the rest wait: all in one episode.
    let podmeta = Podmeta::start(&["--max-connections", "10", "--header-read-timeout", "2s"]);
    let mut callers = Vec::new();
    for _ in 0..9 {
        let mut stream = std::net::TcpStream::connect(podmeta.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        callers.push(stream);
    }
    std::thread::sleep(Duration::from_millis(1100));
    let silent: Vec<_> = (0..20)
        .map(|_| std::net::TcpStream::connect(podmeta.addr).unwrap())
        .collect();
    let is = |l: &serde_json::Value, message: &str| l["fields"]["message"] == message;
    podmeta.eventually("the episode's end is logged", || {
        podmeta.logged(|l| is(l, "below the connection cap again"))
    });
    let began = podmeta.count_logged(|l| {
        l["level"] == "WARN"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("at the connection cap"))
    });
    assert_eq!(began, 1, "one line per episode, not one per connection");
    assert_eq!(
        podmeta.count_logged(|l| is(l, "below the connection cap again")),
        1
    );
    assert_eq!(
        podmeta.metric("podmeta_connections_idle_closed_total{listener=\"main\"} "),
        9
    );
    drop((callers, silent));
}

#[test]
fn an_episode_above_the_soft_limit_is_logged_once() {
    // A cap of 10: the soft limit is 9, and the episode ends below 8. Twenty callers one
    // after another, each kept open: the tenth and every later one is told to close after
    // its first response, which it does.
    let podmeta = Podmeta::start(&["--max-connections", "10"]);
    let mut callers = Vec::new();
    for i in 0..20 {
        let mut stream = std::net::TcpStream::connect(podmeta.addr).unwrap();
        let response = exchange(&mut stream, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            response.contains("connection: close"),
            i >= 9,
            "{i}: {response}"
        );
        callers.push(stream);
    }
    let began = |l: &serde_json::Value| {
        l["level"] == "WARN"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("above the soft connection limit"))
    };
    assert_eq!(podmeta.count_logged(began), 1);
    // The eleven, and the connection that asks for the metrics.
    assert_eq!(
        podmeta.metric("podmeta_connections_shed_total{listener=\"main\"} "),
        12
    );
    callers.truncate(5);
    let is =
        |l: &serde_json::Value| l["fields"]["message"] == "below the soft connection limit again";
    podmeta.eventually("the episode's end is logged", || podmeta.logged(is));
    assert_eq!(podmeta.count_logged(is), 1);
}

/// Writes `request` and reads its response: the head, then as many bytes of body as its
/// `content-length` says.
fn exchange(stream: &mut std::net::TcpStream, request: &str) -> String {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

#[test]
fn with_a_shutdown_delay_sigterm_serves_on_not_ready_then_drains_and_exits_0() {
    let mut podmeta = Podmeta::start(&["--shutdown-delay", "1s"]);
    let mut pooled = std::net::TcpStream::connect(podmeta.addr).unwrap();
    let response = exchange(&mut pooled, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(!response.contains("connection: close"), "{response}");
    let signalled = std::time::Instant::now();
    podmeta.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    let readyz = podmeta.get("/readyz");
    assert!(readyz.starts_with("HTTP/1.1 503 "), "{readyz}");
    let response = exchange(&mut pooled, "GET /pods/eu1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    let status = podmeta.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(
        signalled.elapsed() >= Duration::from_secs(1),
        "{:?}",
        signalled.elapsed()
    );
}

#[test]
fn a_second_sigterm_ends_the_shutdown_delay() {
    let mut podmeta = Podmeta::start(&["--shutdown-delay", "1m"]);
    podmeta.signal("TERM");
    podmeta.eventually("the delay is logged", || {
        podmeta.logged(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("shutdown delay"))
        })
    });
    podmeta.signal("TERM");
    let status = podmeta.wait_exit(Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn every_duration_flag_is_refused_outside_its_range_naming_the_flag() {
    for (flag, value) in [
        ("--header-read-timeout", "0s"),
        ("--keep-alive-timeout", "18446744073709551615s"),
        ("--request-timeout", "50ms"),
        ("--shutdown-timeout", "2h"),
        ("--shutdown-delay", "1day"),
        ("--shutdown-delay", "soon"),
    ] {
        let output = Command::new(BIN).args([flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
}

#[test]
fn a_table_swapped_for_a_fifo_fails_its_reload_and_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    let table = concat!(env!("CARGO_MANIFEST_DIR"), "/config/pods.toml");
    std::fs::copy(table, &path).unwrap();
    let mut podmeta = Podmeta::start(&["--config", &path.display().to_string()]);
    let failures = "podmeta_table_reloads_total{result=\"failure\"} ";
    let successes = "podmeta_table_reloads_total{result=\"success\"} ";
    std::fs::remove_file(&path).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success()
    );
    podmeta.signal("HUP");
    podmeta.eventually("the reload is counted as failed", || {
        podmeta.metric(failures) >= 1
    });
    // A later reload still happens, once a valid file is back.
    std::fs::remove_file(&path).unwrap();
    std::fs::copy(table, &path).unwrap();
    podmeta.signal("HUP");
    podmeta.eventually("the valid table is reloaded", || {
        podmeta.metric(successes) >= 1
    });
    podmeta.signal("TERM");
    assert_eq!(podmeta.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

/// The `access-control-allow-origin` a running podmeta gives a GET from `origin`.
fn allowed_origin(podmeta: &Podmeta, origin: &str) -> Option<String> {
    let response = podmeta.request(&format!(
        "GET /pods/eu1 HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
    ));
    response
        .lines()
        .find_map(|l| l.strip_prefix("access-control-allow-origin: "))
        .map(str::to_owned)
}

#[test]
fn a_cors_origin_of_star_alone_allows_every_origin() {
    let podmeta = Podmeta::start(&["--cors-origin", "*"]);
    assert_eq!(
        allowed_origin(&podmeta, "https://any.example").as_deref(),
        Some("*")
    );
}

#[test]
fn cors_origins_from_the_environment_are_trimmed_and_an_empty_variable_is_unset() {
    let listed = Podmeta::start_after(
        "export PODMETA_CORS_ORIGINS='https://a.example, https://b.example:443'",
        &[],
    );
    for origin in ["https://a.example", "https://b.example"] {
        assert_eq!(allowed_origin(&listed, origin).as_deref(), Some(origin));
    }
    assert_eq!(allowed_origin(&listed, "https://c.example"), None);
    let empty = Podmeta::start_after("export PODMETA_CORS_ORIGINS=", &[]);
    assert_eq!(
        allowed_origin(&empty, "https://c.example").as_deref(),
        Some("*")
    );
}

#[test]
fn a_cors_origin_that_could_never_match_is_a_usage_error_naming_the_flag() {
    for args in [
        &["--cors-origin", "https://a.example/"][..],
        &["--cors-origin", "a.example"][..],
        &["--cors-origin", "*", "--cors-origin", "https://a.example"][..],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--cors-origin"), "{args:?}: {stderr}");
    }
}
