//! JSON as podmeta writes it: pretty for people, compact for scripts, with a final
//! newline. A leaf: the renderers, the catalog and the problem bodies all write through it.

use serde::Serialize;

/// How JSON is laid out: pretty for people (every HTTP body), or one line for scripts
/// (`podmeta … --compact`). Either way the keys come in the same order, from the same
/// structs, and the text ends with a newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Pretty,
    Compact,
}

/// JSON in `style` (pretty with the given indent) and a final newline.
pub fn to_json<T: Serialize>(value: &T, style: Style, indent: &[u8]) -> String {
    let mut out = Vec::with_capacity(512);
    // Serializing plain structs of strings into a Vec cannot fail, and serde_json writes
    // only UTF-8; were either ever false the output would be empty, never a panic.
    let written = match style {
        Style::Pretty => {
            let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
            value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out, formatter,
            ))
        }
        Style::Compact => value.serialize(&mut serde_json::Serializer::new(&mut out)),
    };
    if written.is_err() {
        return String::new();
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}
