//! The JSON log line: one object per line, with the event's fields and the current
//! span's fields (the request id) as objects of their own.
//!
//! tracing-subscriber's own JSON formatter stores a span's fields as JSON text and then
//! parses that text again for every event in the span, and its `JsonFields` builds a map
//! of `serde_json::Value`s for every event and span before writing it. On the access
//! line of every request, the two were about a third of the request's CPU time. Here the
//! fields are written as they are visited ([`JsonObjectFields`]), and a span's stored
//! text is spliced in as it is ([`JsonLines`]).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::log_writer::BatchWriter;

/// Fields as one JSON object, `{"message":"…","status":200}`, written as they are
/// visited: strings, numbers and booleans as themselves, anything else by its `Debug`
/// (or `Display`, for `%value`) as a string.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonObjectFields;

impl<'writer> FormatFields<'writer> for JsonObjectFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        writer.write_char('{')?;
        let mut visitor = Members {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result?;
        writer.write_char('}')
    }

    /// Fields recorded on a span after it was made join its object.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let before = std::mem::take(&mut current.fields);
        self.format_fields(current.as_writer(), fields)?;
        let added = std::mem::take(&mut current.fields);
        let before = before.strip_suffix('}').unwrap_or("{");
        let added = added.strip_prefix('{').unwrap_or("}");
        current.fields.push_str(before);
        if before.len() > 1 && added.len() > 1 {
            current.fields.push(',');
        }
        current.fields.push_str(added);
        Ok(())
    }
}

/// Writes each field it visits as a member of a JSON object.
struct Members<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Members<'_, '_> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !self.first {
                self.writer.write_char(',')?;
            }
            self.first = false;
            write_json_str(self.writer, field.name())?;
            self.writer.write_char(':')?;
            value(self.writer)
        })();
    }
}

impl Visit for Members<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |w| write_json_str(w, value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity: those are written as strings.
        if value.is_finite() {
            self.member(field, |w| write!(w, "{value}"));
        } else {
            self.member(field, |w| write!(w, "\"{value}\""));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

/// `{"timestamp":…,"level":…,"target":…,"fields":{…},"span":{"name":…,…}}`, the same
/// shape as tracing-subscriber's JSON format with `with_current_span(true)`.
pub struct JsonLines;

impl<S> FormatEvent<S, JsonObjectFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonObjectFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        // tracing-subscriber's `SystemTime` writes the time piece by piece, at several
        // times the cost on every line.
        write!(
            writer,
            "{{\"timestamp\":\"{}",
            Rfc3339Micros(std::time::SystemTime::now())
        )?;
        write!(writer, "\",\"level\":\"{}\",\"fields\":", meta.level())?;
        JsonObjectFields.format_fields(writer.by_ref(), event)?;
        writer.write_str(",\"target\":")?;
        write_json_str(&mut writer, meta.target())?;
        if let Some(span) = ctx.lookup_current() {
            writer.write_str(",\"span\":{\"name\":")?;
            write_json_str(&mut writer, span.name())?;
            let extensions = span.extensions();
            // The stored fields are a JSON object's text: splice its members in.
            if let Some(fields) = extensions.get::<FormattedFields<JsonObjectFields>>() {
                let members = fields
                    .fields
                    .trim()
                    .strip_prefix('{')
                    .and_then(|f| f.strip_suffix('}'))
                    .unwrap_or("");
                if !members.is_empty() {
                    writer.write_char(',')?;
                    writer.write_str(members)?;
                }
            }
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

/// Where a request's access line goes (`http::envelope::access_line`, for the fast path
/// and the router alike).
#[derive(Clone, Default)]
pub enum AccessLog {
    /// Through tracing, in the request's span, like every other line (the text format,
    /// and a test's own subscriber).
    #[default]
    Tracing,
    /// Written as [`JsonLines`] would write it, straight to the JSON log's writer: no
    /// span, no dispatch, no field visitor. At 32 connections the line through tracing
    /// was a quarter of podmeta's CPU time per request (`bench/RESULTS.md`).
    Json(BatchWriter),
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessLog::Tracing => "Tracing",
            AccessLog::Json(_) => "Json",
        })
    }
}

/// One request's access line, as the fast path has it.
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
    /// "podmeta::access","span":{"name":"request","request_id":…}}` and a newline: the
    /// line [`JsonLines`] writes for the access event in its span, byte for byte but for
    /// the time (a test compares the two). Appended piece by piece rather than through
    /// `core::fmt`, whose machinery was most of this line's cost: at 32 connections perf
    /// put the line at 0.45-0.47 µs a request through `write!`, 0.12-0.15 appended
    /// (`bench/RESULTS.md`).
    pub fn write_json(&self, out: &mut String, timestamp: impl Timestamp) {
        let Access {
            method,
            route,
            status,
            latency_us,
            request_id,
        } = *self;
        out.push_str("{\"timestamp\":\"");
        timestamp.append_to(out);
        out.push_str("\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"method\":");
        append_json_str(out, method);
        out.push_str(",\"route\":");
        append_json_str(out, route);
        out.push_str(",\"status\":");
        out.push_str(itoa::Buffer::new().format(status));
        out.push_str(",\"latency_us\":");
        out.push_str(itoa::Buffer::new().format(latency_us));
        out.push_str("},\"target\":");
        append_json_str(out, ACCESS_TARGET);
        out.push_str(",\"span\":{\"name\":\"request\",\"request_id\":");
        append_json_str(out, request_id);
        out.push_str("}}\n");
    }
}

/// A line's time, appended to it as text.
pub trait Timestamp {
    fn append_to(&self, out: &mut String);
}

/// A time already written out (a test's, taken from another line).
impl Timestamp for &str {
    fn append_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// The target of access lines.
pub const ACCESS_TARGET: &str = "podmeta::access";

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
            access.write_json(line, Rfc3339Micros(std::time::SystemTime::now()));
            writer.push(line.as_bytes());
        });
        true
    }
}

/// A time in RFC 3339 with microseconds, UTC (`2026-11-29T10:47:02.123456Z`), as
/// humantime's `format_rfc3339_micros` writes it. Every line of a second shares its date
/// and time to the second: each thread formats that once per second and writes only the
/// microseconds per line, as nginx caches its time strings. A clock before 1970 is
/// written as 1970's first second rather than panic, as humantime would.
pub(crate) struct Rfc3339Micros(pub(crate) std::time::SystemTime);

impl Rfc3339Micros {
    /// Calls `with` with the date and time to the second (without the `Z`), formatted
    /// at most once per second on this thread, and the microseconds.
    fn parts<R>(&self, with: impl FnOnce(&str, u32) -> R) -> R {
        thread_local! {
            /// The second last formatted on this thread, and its text without the `Z`.
            static SECOND: std::cell::RefCell<(u64, String)> =
                const { std::cell::RefCell::new((u64::MAX, String::new())) };
        }
        let since = self
            .0
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
            with(text, since.subsec_micros())
        })
    }
}

impl fmt::Display for Rfc3339Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.parts(|second, micros| write!(f, "{second}.{micros:06}Z"))
    }
}

impl Timestamp for Rfc3339Micros {
    fn append_to(&self, out: &mut String) {
        self.parts(|second, micros| {
            out.push_str(second);
            out.push('.');
            // Six digits, zero-padded: `micros` is below 1,000,000.
            let mut buffer = itoa::Buffer::new();
            let digits = buffer.format(micros);
            for _ in digits.len()..6 {
                out.push('0');
            }
            out.push_str(digits);
            out.push('Z');
        });
    }
}

/// A JSON string literal.
fn write_json_str<W: fmt::Write + ?Sized>(writer: &mut W, s: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escaped(&mut *writer).write_str(s)?;
    writer.write_char('"')
}

/// A JSON string literal, appended to `out`.
fn append_json_str(out: &mut String, s: &str) {
    // Writing into a `String` cannot fail.
    let _ = write_json_str(out, s);
}

/// Writes what it is given as the inside of a JSON string.
struct Escaped<'a, W: ?Sized>(&'a mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Runs of plain characters are written whole. Every character JSON escapes is
        // ASCII, and no byte of a multi-byte UTF-8 character is, so bytes can be scanned.
        let mut plain = 0;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                self.0.write_str(&s[plain..i])?;
                match b {
                    b'"' => self.0.write_str("\\\"")?,
                    b'\\' => self.0.write_str("\\\\")?,
                    b => write!(self.0, "\\u{b:04x}")?,
                }
                plain = i + 1;
            }
        }
        self.0.write_str(&s[plain..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_writer::tests::Sink;

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
            assert_eq!(Rfc3339Micros(time).to_string(), expected);
            // The access line's way of writing it, too.
            let mut appended = String::from("before ");
            Rfc3339Micros(time).append_to(&mut appended);
            assert_eq!(appended, format!("before {expected}"));
        }
        assert_eq!(
            Rfc3339Micros(UNIX_EPOCH - Duration::from_secs(1)).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    /// What `emit` logs through JsonLines and JsonObjectFields, as main sets them up.
    fn logged(emit: impl FnOnce()) -> String {
        let out = Sink::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonObjectFields)
            .event_format(JsonLines)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn each_line_is_a_json_object_with_the_events_and_the_spans_fields() {
        let text = logged(|| {
            tracing::info!(target: "t", n = 1, "outside \"quoted\"");
            let span = tracing::info_span!("request", request_id = "abc-1");
            span.in_scope(|| tracing::warn!(route = "/pods/{pod}", "inside"));
        });
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["fields"]["message"], "outside \"quoted\"");
        assert_eq!(lines[0]["fields"]["n"], 1);
        assert_eq!(lines[0]["target"], "t");
        assert_eq!(lines[0]["level"], "INFO");
        assert!(lines[0].get("span").is_none());
        assert_eq!(lines[1]["span"]["request_id"], "abc-1");
        assert_eq!(lines[1]["span"]["name"], "request");
        assert_eq!(lines[1]["fields"]["route"], "/pods/{pod}");
        // RFC 3339 in UTC, to the microsecond: 2026-11-29T05:41:39.460737Z.
        let timestamp = lines[1]["timestamp"].as_str().unwrap();
        assert_eq!(timestamp.len(), 27, "{timestamp}");
        assert_eq!(&timestamp[10..11], "T");
        assert_eq!(&timestamp[19..20], ".");
        assert!(timestamp.ends_with('Z'));
    }

    #[test]
    fn the_direct_access_line_is_the_traced_one_byte_for_byte_but_the_time() {
        let access = Access {
            method: "GET",
            route: "/pods/{pod}",
            status: 304,
            latency_us: 17,
            request_id: "trace-\"me\"-42",
        };
        let traced = logged(|| {
            let span = tracing::info_span!("request", request_id = access.request_id);
            span.in_scope(|| access.trace());
        });
        let timestamp = &traced["{\"timestamp\":\"".len()..][..27];
        let mut direct = String::new();
        access.write_json(&mut direct, timestamp);
        assert_eq!(direct, traced);
        let line: serde_json::Value = serde_json::from_str(&direct).unwrap();
        assert_eq!(line["span"]["request_id"], "trace-\"me\"-42");
        assert_eq!(line["fields"]["status"], 304);
    }

    #[test]
    fn every_kind_of_field_is_valid_json() {
        let text = logged(|| {
            let span =
                tracing::info_span!("request", request_id = "a", later = tracing::field::Empty);
            span.record("later", 7_u64);
            span.in_scope(|| {
                tracing::info!(
                    text = "tab\there \"q\" back\\slash é",
                    negative = -3_i64,
                    yes = true,
                    ratio = 0.5_f64,
                    nan = f64::NAN,
                    debug = ?vec!["x\"y"],
                    display = %"line\nbreak",
                    "message with {}", "arguments"
                );
            });
        });
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        let fields = &line["fields"];
        assert_eq!(fields["message"], "message with arguments");
        assert_eq!(fields["text"], "tab\there \"q\" back\\slash é");
        assert_eq!(fields["negative"], -3);
        assert_eq!(fields["yes"], true);
        assert_eq!(fields["ratio"], 0.5);
        assert_eq!(fields["nan"], "NaN");
        assert_eq!(fields["debug"], "[\"x\\\"y\"]");
        assert_eq!(fields["display"], "line\nbreak");
        assert_eq!(line["span"]["request_id"], "a");
        assert_eq!(line["span"]["later"], 7);
    }
}
