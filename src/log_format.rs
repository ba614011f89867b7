//! The JSON log line: one object per line, with the event's fields and the current
//! span's fields (the request id) as objects of their own.
//!
//! tracing-subscriber's own JSON formatter stores a span's fields as JSON text and then
//! parses that text again for every event in the span; on the access line of every
//! request that parse was a measurable part of the request's cost. This formatter writes
//! the stored text as it is.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// `{"timestamp":…,"level":…,"target":…,"fields":{…},"span":{"name":…,…}}`, the same
/// shape as tracing-subscriber's JSON format with `with_current_span(true)`.
pub struct JsonLines;

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\",\"fields\":", meta.level())?;
        JsonFields::new().format_fields(writer.by_ref(), event)?;
        writer.write_str(",\"target\":")?;
        write_json_str(&mut writer, meta.target())?;
        if let Some(span) = ctx.lookup_current() {
            writer.write_str(",\"span\":{\"name\":")?;
            write_json_str(&mut writer, span.name())?;
            let extensions = span.extensions();
            // The stored fields are a JSON object's text: splice its members in.
            if let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() {
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

/// A JSON string literal.
fn write_json_str(writer: &mut Writer<'_>, s: &str) -> fmt::Result {
    writer.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => writer.write_str("\\\"")?,
            '\\' => writer.write_str("\\\\")?,
            c if u32::from(c) < 0x20 => write!(writer, "\\u{:04x}", u32::from(c))?,
            c => writer.write_char(c)?,
        }
    }
    writer.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_writer::tests::Sink;

    #[test]
    fn each_line_is_a_json_object_with_the_events_and_the_spans_fields() {
        let out = Sink::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "t", n = 1, "outside \"quoted\"");
            let span = tracing::info_span!("request", request_id = "abc-1");
            span.in_scope(|| tracing::warn!(route = "/pods/{pod}", "inside"));
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
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
        assert!(lines[1]["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
