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

/// A JSON string literal.
fn write_json_str<W: fmt::Write + ?Sized>(writer: &mut W, s: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escaped(&mut *writer).write_str(s)?;
    writer.write_char('"')
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
