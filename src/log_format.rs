//! Log output: every event as tracing-subscriber's JSON line (or its text), through
//! tracing-appender's non-blocking writer; and the access line, one per request.
//!
//! With JSON logs the access line is written by hand, straight to that writer, rather
//! than through tracing: a span, the dispatch and the formatter for every request cost
//! more than this machine's noise (`bench/RESULTS.md`). It is the line tracing-subscriber
//! writes for the same event in its span (a test compares the two as JSON).

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing_appender::non_blocking::NonBlocking;

/// The target of access lines.
pub const ACCESS_TARGET: &str = "podmeta::access";

/// Where a request's access line goes.
#[derive(Clone, Default)]
pub enum AccessLog {
    /// Through tracing, in the request's span, like every other line (the text format,
    /// and a test's own subscriber).
    #[default]
    Tracing,
    /// Written by [`Access::write_json`] to the JSON log's writer.
    Json(NonBlocking),
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessLog::Tracing => "Tracing",
            AccessLog::Json(_) => "Json",
        })
    }
}

/// One request's access line.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
    pub latency_us: u64,
    pub request_id: &'a str,
}

impl Access<'_> {
    /// The access event, through tracing, in the current span (which carries the id).
    pub fn trace(&self) {
        tracing::info!(
            target: ACCESS_TARGET,
            method = self.method,
            route = self.route,
            status = self.status,
            latency_us = self.latency_us,
            "request"
        );
    }

    /// `{"timestamp":…,"level":"INFO","fields":{"message":"request",…},"target":
    /// "podmeta::access","span":{"name":"request","request_id":…}}` and a newline, at
    /// `timestamp` (RFC 3339, as tracing-subscriber writes it).
    pub fn write_json(&self, out: &mut String, timestamp: &str) {
        let Access {
            method,
            route,
            status,
            latency_us,
            request_id,
        } = *self;
        out.push_str("{\"timestamp\":\"");
        out.push_str(timestamp);
        out.push_str("\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"method\":");
        push_json_str(out, method);
        out.push_str(",\"route\":");
        push_json_str(out, route);
        out.push_str(",\"status\":");
        out.push_str(itoa::Buffer::new().format(status));
        out.push_str(",\"latency_us\":");
        out.push_str(itoa::Buffer::new().format(latency_us));
        out.push_str("},\"target\":");
        push_json_str(out, ACCESS_TARGET);
        out.push_str(",\"span\":{\"name\":\"request\",\"request_id\":");
        push_json_str(out, request_id);
        out.push_str("}}\n");
    }
}

impl AccessLog {
    /// Writes the line directly if this log can; `false` if it must go through tracing.
    pub fn write_direct(&self, access: &Access<'_>) -> bool {
        let AccessLog::Json(writer) = self else {
            return false;
        };
        thread_local! {
            static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        LINE.with_borrow_mut(|line| {
            line.clear();
            let now = std::time::SystemTime::now();
            with_timestamp(now, |timestamp| access.write_json(line, timestamp));
            // A full queue drops the line and counts it; a write never blocks a request.
            let _ = writer.clone().write_all(line.as_bytes());
        });
        true
    }
}

/// Calls `with` with `time` in RFC 3339 with microseconds, UTC
/// (`2026-11-29T10:47:02.123456Z`). Every line of a second shares its text to the second:
/// each thread formats that once per second, as nginx caches its time strings. A clock
/// before 1970 is written as 1970's first second.
fn with_timestamp<R>(time: std::time::SystemTime, with: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        /// The second last formatted on this thread, and its text without the `Z`.
        static SECOND: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != seconds {
            let second = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            text.clear();
            // Formatting into a `String` cannot fail.
            let _ = write!(text, "{}", humantime::format_rfc3339_seconds(second));
            text.pop(); // the `Z`
            *cached = seconds;
        }
        let whole = text.len();
        text.push('.');
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(since.subsec_micros());
        for _ in digits.len()..6 {
            text.push('0');
        }
        text.push_str(digits);
        text.push('Z');
        let result = with(text);
        text.truncate(whole);
        result
    })
}

/// A JSON string literal, appended to `out`.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Runs of plain characters are written whole. Every character JSON escapes is ASCII,
    // and no byte of a multi-byte UTF-8 character is, so bytes can be scanned.
    let mut plain = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == b'"' || b == b'\\' || b < 0x20 {
            out.push_str(&s[plain..i]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b => {
                    let _ = write!(out, "\\u{b:04x}");
                }
            }
            plain = i + 1;
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn timestamps_are_humantimes_rfc3339_micros_within_a_second_and_across_seconds() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |seconds: u64, micros: u64| {
            UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros)
        };
        // Repeated seconds use the cached text; a change of second must not.
        let times = [
            at(0, 0),
            at(1_795_950_422, 0),
            at(1_795_950_422, 7),
            at(1_795_950_422, 999_999),
            at(1_795_950_423, 120_450),
            at(1_795_950_422, 5),
            at(1_795_950_422, 5) + Duration::from_nanos(999),
            at(253_402_300_799, 999_999), // 9999-12-31T23:59:59
        ];
        for time in times {
            let expected = humantime::format_rfc3339_micros(time).to_string();
            assert_eq!(with_timestamp(time, str::to_owned), expected);
        }
        assert_eq!(
            with_timestamp(UNIX_EPOCH - Duration::from_secs(1), str::to_owned),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    /// A sink the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_access_line_is_tracing_subscribers_json_line_for_the_event_in_its_span() {
        let access = Access {
            method: "GET",
            route: "/pods/{pod}",
            status: 304,
            latency_us: 17,
            request_id: "trace-\"me\"-42\u{1}",
        };
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = access.request_id);
            span.in_scope(|| access.trace());
        });
        let traced = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut traced: serde_json::Value = serde_json::from_str(&traced).unwrap();
        let timestamp = traced["timestamp"].as_str().unwrap().to_owned();
        let mut direct = String::new();
        access.write_json(&mut direct, &timestamp);
        assert!(direct.ends_with("}}\n"), "{direct}");
        let direct: serde_json::Value = serde_json::from_str(&direct).unwrap();
        traced["timestamp"] = timestamp.into();
        assert_eq!(direct, traced);
        assert_eq!(direct["span"]["request_id"], "trace-\"me\"-42\u{1}");
    }
}
