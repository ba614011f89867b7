//! JSON as podmeta reads it, from a request body or a file: each key once in an object,
//! or a 400 that says where it is not JSON.

use crate::domain::Violation;
use crate::problem::ApiError;

/// `bytes` as a JSON object ([`parse`]), or the 422 that says it must be one.
pub fn object(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value = parse(bytes)?;
    if !value.is_object() {
        return Err(shape_error(vec![Violation::pointer(
            "#",
            "type",
            "The body must be a JSON object.".into(),
        )]));
    }
    Ok(value)
}

/// The 422 of a body that is JSON, but not of the shape it must have.
pub fn shape_error(errors: Vec<Violation>) -> ApiError {
    ApiError::Invalid {
        detail:
            "The body is JSON, but not in the shape this endpoint takes; each problem is in errors."
                .into(),
        errors,
    }
}

/// `bytes` as JSON, or the 400 that names the line and column where it stops being JSON,
/// or the key it repeats.
pub fn parse(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let Unique(value) = serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        detail: match e.to_string().split_once(REPEATED) {
            Some((_, key)) => format!(
                "The body repeats the key {} (line {}, column {}): a key may appear once in \
                 an object, so that the body has one meaning.",
                key.split(" at line").next().unwrap_or(key),
                e.line(),
                e.column()
            ),
            None => format!(
                "The body is not JSON: it stops being JSON at line {}, column {}.",
                e.line(),
                e.column()
            ),
        },
    })?;
    Ok(value)
}

/// JSON in which no object repeats a key. serde_json keeps the last of a repeated key,
/// so that `{"bucket": "Evil..Name", "bucket": "mp-forwarding-good"}` would be read as
/// the second; a body must have one meaning (RFC 8259 §4, RFC 7493 §2.3).
struct Unique(serde_json::Value);

/// How the error of a repeated key begins, before the key, quoted.
const REPEATED: &str = "repeated key: ";

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "{REPEATED}{}",
                    crate::domain::quote(&key)
                )));
            }
            let Unique(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(object.into())
    }
}
