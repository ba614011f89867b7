//! A log writer that never blocks a request and costs no system call per line.
//!
//! Request threads append formatted lines to a shared buffer under a short lock; one
//! background thread takes the whole buffer every few milliseconds (or as soon as it
//! passes a threshold) and writes it in one call. Under load that is one write per batch
//! instead of one per line, and no thread is woken per line (as a per-line channel
//! would). If the sink falls behind so far that the buffer reaches its cap, lines are
//! dropped and counted rather than stall requests; the next batch says how many.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the background thread writes what has gathered.
const INTERVAL: Duration = Duration::from_millis(10);
/// A buffer this full is written at once.
const EAGER: usize = 64 * 1024;
/// A buffer this full takes no more lines until written.
const CAP: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: u64,
    closed: bool,
}

struct Shared {
    buffer: Mutex<Buffer>,
    /// Signalled when the buffer passes `EAGER`, and on close.
    wake: Condvar,
}

/// The writer handed to tracing: cheap to clone, one per formatted event.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Stops the background thread after a last write; hold it until the process ends.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the background thread writing to `sink`.
pub fn batch_writer<W: Write + Send + 'static>(sink: W) -> (BatchWriter, FlushOnDrop) {
    batch_writer_every(sink, INTERVAL)
}

/// [`batch_writer`], writing what has gathered every `interval` (a test's own, so that it
/// can tell a write on the interval from one because the buffer filled).
fn batch_writer_every<W: Write + Send + 'static>(
    mut sink: W,
    interval: Duration,
) -> (BatchWriter, FlushOnDrop) {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Buffer::default()),
        wake: Condvar::new(),
    });
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("podmeta-log".into())
        .spawn(move || {
            let mut out = Vec::with_capacity(EAGER);
            loop {
                let (dropped, closed) = {
                    let guard = worker.buffer.lock().unwrap_or_else(PoisonError::into_inner);
                    let (mut guard, _) = worker
                        .wake
                        .wait_timeout_while(guard, interval, |b| b.bytes.len() < EAGER && !b.closed)
                        .unwrap_or_else(PoisonError::into_inner);
                    std::mem::swap(&mut guard.bytes, &mut out);
                    (std::mem::take(&mut guard.dropped), guard.closed)
                };
                if dropped > 0 {
                    let _ = writeln!(
                        sink,
                        "{{\"level\":\"WARN\",\"message\":\"log lines dropped: the log sink is too slow\",\"dropped\":{dropped}}}"
                    );
                }
                if !out.is_empty() {
                    // A failing sink (a closed pipe) can't be reported anywhere; go on.
                    let _ = sink.write_all(&out);
                    let _ = sink.flush();
                    out.clear();
                }
                if closed {
                    break;
                }
            }
        });
    (
        BatchWriter {
            shared: shared.clone(),
        },
        FlushOnDrop {
            shared,
            thread: thread.ok(),
        },
    )
}

impl BatchWriter {
    /// Appends `line` to the next batch; if the buffer is full, drops and counts it.
    pub fn push(&self, line: &[u8]) {
        let passed_eager = {
            let mut buffer = self
                .shared
                .buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if buffer.bytes.len() + line.len() > CAP {
                buffer.dropped += 1;
                false
            } else {
                let was_below = buffer.bytes.len() < EAGER;
                buffer.bytes.extend_from_slice(line);
                was_below && buffer.bytes.len() >= EAGER
            }
        };
        // Woken with the lock still held, the background thread would find it taken and
        // sleep again, and so would the request thread that next wants it: at 2,000
        // connections that left 4 % of the machine idle (1 % with the wake after).
        if passed_eager {
            self.shared.wake.notify_one();
        }
    }
}

impl Write for BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.push(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A sink the test can read.
    #[derive(Clone, Default)]
    pub(crate) struct Sink(pub(crate) Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_and_all_are_written_by_the_time_the_guard_drops() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone());
        for i in 0..10_000 {
            writer
                .clone()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[9_999], "line 9999");
    }

    #[test]
    fn a_lone_line_is_written_promptly() {
        let sink = Sink::default();
        let (mut writer, _guard) = batch_writer(sink.clone());
        writer.write_all(b"ready\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while sink.0.lock().unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "not written within 2 s"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_buffer_past_the_threshold_is_written_without_waiting_for_the_interval() {
        let sink = Sink::default();
        // An interval no test waits out: only the threshold can get these lines written.
        let (writer, _guard) = batch_writer_every(sink.clone(), Duration::from_secs(3600));
        // Let the thread begin its wait, so that the threshold's signal is what ends it.
        std::thread::sleep(Duration::from_millis(50));
        let line = [b'x'; 1024];
        for _ in 0..EAGER / line.len() {
            writer.push(&line);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().len() < EAGER {
            assert!(
                std::time::Instant::now() < deadline,
                "a full buffer was not written within 5 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A sink that never returns from a write until told.
    struct Stuck(Arc<(Mutex<bool>, Condvar)>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (lock, cv) = &*self.0;
            let _released = cv.wait_while(lock.lock().unwrap(), |go| !*go).unwrap();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_drops_lines_instead_of_blocking_writers() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (writer, guard) = batch_writer(Stuck(gate.clone()));
        let line = [b'x'; 1024];
        let started = std::time::Instant::now();
        // Twice the cap: with the sink stuck, at least half must be dropped, quickly.
        for _ in 0..(2 * CAP / line.len()) {
            writer.clone().write_all(&line).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "writers were held up"
        );
        assert!(writer.shared.buffer.lock().unwrap().dropped > 0);
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        drop(guard);
    }
}
