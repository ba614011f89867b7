//! The podmeta binary as a child process on a loopback port, its JSON log lines
//! collected, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_podmeta");

/// The binary, started on a loopback port, with its log lines collected.
pub struct Podmeta {
    pub child: Child,
    pub addr: SocketAddr,
    logs: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Podmeta {
    pub fn start(args: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
            .args(args);
        Self::start_command(command)
    }

    /// Starts podmeta under a shell that first runs `setup` (`ulimit -n 300`, say).
    pub fn start_after(setup: &str, args: &[&str]) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{setup} && exec \"$0\" \"$@\""))
            .arg(BIN)
            .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
            .args(args);
        Self::start_command(command)
    }

    fn start_command(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let collected = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                let ready = (value["fields"]["message"] == "podmeta ready")
                    .then(|| value["fields"]["address"].as_str().unwrap().to_owned());
                collected.lock().unwrap().push(value);
                if let Some(address) = ready {
                    let _ = ready_tx.send(address);
                }
            }
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("podmeta logs that it is ready")
            .parse()
            .unwrap();
        Self { child, addr, logs }
    }

    /// One request on its own connection; the whole response.
    pub fn request(&self, head: &str) -> String {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out);
        out
    }

    /// The value of the metric line that begins with `line_prefix` (0 if there is none).
    pub fn metric(&self, line_prefix: &str) -> u64 {
        self.get("/metrics")
            .lines()
            .find_map(|l| l.strip_prefix(line_prefix))
            .map_or(0, |n| n.trim().parse().unwrap())
    }

    pub fn get(&self, path: &str) -> String {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Polls `check` for at most five seconds.
    pub fn eventually(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !check() {
            assert!(Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits at most `limit` for the process to exit, and returns its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running {limit:?} later");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logged(&self, pred: impl Fn(&serde_json::Value) -> bool) -> bool {
        self.count_logged(pred) > 0
    }

    /// How many log lines so far match `pred`.
    pub fn count_logged(&self, pred: impl Fn(&serde_json::Value) -> bool) -> usize {
        self.logs.lock().unwrap().iter().filter(|l| pred(l)).count()
    }
}

impl Drop for Podmeta {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
