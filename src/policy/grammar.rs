//! AWS policy documents as a customer has them, in AWS's whole grammar: `Statement` as an
//! object or a list; `Action`, `Resource` and their values as a string or a list;
//! `NotAction`, `NotResource` and `NotPrincipal`; principals as `"*"`, an account id, an
//! account's `root` or an ARN, under `AWS`, `Service`, `CanonicalUser` or `Federated`; and
//! `Condition` blocks. Every value keeps its JSON pointer (RFC 6901, in the `#/…` form of
//! `errors[].pointer`) into the document as posted, so that a finding can name its line.
//!
//! The questions the checks ask are answered here too: does a pattern cover a value (`*`
//! and `?`, case-sensitive for ARNs, not for action names, as AWS matches them), and do a
//! statement's conditions hold for a request, in three values, since some keys of a
//! request cannot be known.

use serde_json::{Map, Value};

use crate::domain::Violation;

/// A string of the document, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub text: String,
    pub pointer: String,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// An element and its `Not…` form: `Action` lists what the statement covers,
/// `NotAction` what it covers all but.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed<T> {
    Only(Vec<T>),
    AllBut(Vec<T>),
}

impl<T> Listed<T> {
    /// Whether the element covers something: whether `covers` holds of one of `Only`'s
    /// items, or of none of `AllBut`'s.
    pub fn covers(&self, covers: impl Fn(&T) -> bool) -> bool {
        match self {
            Self::Only(items) => items.iter().any(covers),
            Self::AllBut(items) => !items.iter().any(covers),
        }
    }

    /// The items as written, whichever the form.
    pub fn items(&self) -> &[T] {
        match self {
            Self::Only(items) | Self::AllBut(items) => items,
        }
    }
}

/// One principal of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`, or `{"AWS": "*"}`: anyone.
    Anyone(String),
    /// An `AWS` principal: an account id, `arn:aws:iam::ACCOUNT:root`, or a role's or
    /// user's ARN.
    Aws(Located),
    /// A `Service`, `CanonicalUser` or `Federated` principal, which no check is about.
    Other(Located),
}

impl Principal {
    pub fn pointer(&self) -> &str {
        match self {
            Self::Anyone(pointer) => pointer,
            Self::Aws(located) | Self::Other(located) => &located.pointer,
        }
    }
}

/// One condition: `{"StringEquals": {"aws:SourceVpce": ["vpce-1"]}}` is one, with the
/// operator as written (qualifier and `IfExists` included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    pub pointer: String,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub pointer: String,
    pub effect: Effect,
    pub actions: Listed<Located>,
    pub resources: Listed<Located>,
    /// `None` where the statement names no principal (as in an identity policy).
    pub principals: Option<Listed<Principal>>,
    pub conditions: Vec<Condition>,
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub version: Option<Located>,
    pub statements: Vec<Statement>,
}

/// How many ways a document is not a policy are listed, at most, so that an answer stays a
/// page a person reads.
const MAX_VIOLATIONS: usize = 20;

/// The elements a statement may have, as AWS lists them.
const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Document {
    /// Reads `value` as a policy document. Each way it is not one is a violation, with
    /// its pointer: not an object, no `Statement`, an element of the wrong type, a
    /// statement with neither or both of `Action` and `NotAction`, and so on.
    pub fn read(value: &Value) -> Result<Self, Vec<Violation>> {
        let mut broken = Vec::new();
        let Some(object) = value.as_object() else {
            return Err(vec![Violation::pointer(
                "#",
                "policy",
                "a policy document is a JSON object with a Statement".into(),
            )]);
        };
        for key in object.keys() {
            if !["Version", "Id", "Statement"].contains(&key.as_str()) {
                broken.push(Violation::pointer(
                    &format!("#/{}", token(key)),
                    "policy",
                    format!(
                        "{} is not an element of a policy (they are Version, Id and Statement)",
                        crate::domain::quote(key)
                    ),
                ));
            }
        }
        if object.get("Id").is_some_and(|id| !id.is_string()) {
            broken.push(not_a("#/Id", "string"));
        }
        let version = match object.get("Version") {
            None => None,
            Some(Value::String(text)) => Some(Located {
                text: text.clone(),
                pointer: "#/Version".into(),
            }),
            Some(_) => {
                broken.push(not_a("#/Version", "string"));
                None
            }
        };
        let statements = match object.get("Statement") {
            None => {
                broken.push(Violation::pointer(
                    "#",
                    "policy",
                    "a policy document has a Statement: one statement, or a list of them".into(),
                ));
                Vec::new()
            }
            Some(Value::Object(statement)) => statement_at(statement, "#/Statement", &mut broken)
                .into_iter()
                .collect(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let at = format!("#/Statement/{i}");
                    match item {
                        Value::Object(statement) => statement_at(statement, &at, &mut broken),
                        _ => {
                            broken.push(not_a(&at, "statement (a JSON object)"));
                            None
                        }
                    }
                })
                .collect(),
            Some(_) => {
                broken.push(not_a("#/Statement", "statement or a list of statements"));
                Vec::new()
            }
        };
        if broken.len() > MAX_VIOLATIONS {
            let more = broken.len() - MAX_VIOLATIONS;
            broken.truncate(MAX_VIOLATIONS);
            broken.push(Violation::pointer(
                "#",
                "policy",
                format!("and {more} more of the same kind"),
            ));
        }
        if broken.is_empty() {
            Ok(Self {
                version,
                statements,
            })
        } else {
            Err(broken)
        }
    }
}

fn not_a(pointer: &str, what: &str) -> Violation {
    Violation::pointer(pointer, "policy", format!("must be a {what}"))
}

/// `key` as a reference token of a JSON pointer: `~` and `/` escaped (RFC 6901), and cut
/// to a readable length (no element or condition key of AWS's is near it), so that an
/// answer never repeats a 60,000-character key whole.
fn token(key: &str) -> String {
    let escaped = key.replace('~', "~0").replace('/', "~1");
    match escaped.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &escaped[..at]),
        None => escaped,
    }
}

/// A statement, or `None` with what is wrong with it in `broken`.
fn statement_at(
    object: &Map<String, Value>,
    at: &str,
    broken: &mut Vec<Violation>,
) -> Option<Statement> {
    let before = broken.len();
    for key in object.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            broken.push(Violation::pointer(
                &format!("{at}/{}", token(key)),
                "policy",
                format!(
                    "{} is not an element of a policy statement (they are {})",
                    crate::domain::quote(key),
                    STATEMENT_ELEMENTS.join(", ")
                ),
            ));
        }
    }
    if object.get("Sid").is_some_and(|sid| !sid.is_string()) {
        broken.push(not_a(&format!("{at}/Sid"), "string"));
    }
    let effect = match object.get("Effect") {
        Some(Value::String(effect)) if effect == "Allow" => Some(Effect::Allow),
        Some(Value::String(effect)) if effect == "Deny" => Some(Effect::Deny),
        _ => {
            broken.push(Violation::pointer(
                &format!("{at}/Effect"),
                "policy",
                "a statement's Effect is \"Allow\" or \"Deny\"".into(),
            ));
            None
        }
    };
    let actions = either(object, at, "Action", "NotAction", broken);
    let resources = either(object, at, "Resource", "NotResource", broken);
    let principals = match (object.get("Principal"), object.get("NotPrincipal")) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            broken.push(Violation::pointer(
                &format!("{at}/NotPrincipal"),
                "policy",
                "a statement has Principal or NotPrincipal, not both".into(),
            ));
            None
        }
        (Some(value), None) => {
            principals_at(value, &format!("{at}/Principal"), broken).map(Listed::Only)
        }
        (None, Some(value)) => {
            principals_at(value, &format!("{at}/NotPrincipal"), broken).map(Listed::AllBut)
        }
    };
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(value) => conditions_at(value, &format!("{at}/Condition"), broken),
    };
    if broken.len() > before {
        return None;
    }
    Some(Statement {
        pointer: at.to_owned(),
        effect: effect?,
        actions: actions?,
        resources: resources?,
        principals,
        conditions,
    })
}

/// `name` or `not_name` of a statement: exactly one of them.
fn either(
    object: &Map<String, Value>,
    at: &str,
    name: &str,
    not_name: &str,
    broken: &mut Vec<Violation>,
) -> Option<Listed<Located>> {
    match (object.get(name), object.get(not_name)) {
        (Some(_), Some(_)) => {
            broken.push(Violation::pointer(
                &format!("{at}/{not_name}"),
                "policy",
                format!("a statement has {name} or {not_name}, not both"),
            ));
            None
        }
        (Some(value), None) => strings_at(value, &format!("{at}/{name}"), broken).map(Listed::Only),
        (None, Some(value)) => {
            strings_at(value, &format!("{at}/{not_name}"), broken).map(Listed::AllBut)
        }
        (None, None) => {
            broken.push(Violation::pointer(
                at,
                "policy",
                format!("a statement has {name} or {not_name}"),
            ));
            None
        }
    }
}

/// A string or a non-empty list of strings.
fn strings_at(value: &Value, at: &str, broken: &mut Vec<Violation>) -> Option<Vec<Located>> {
    match value {
        Value::String(text) => Some(vec![Located {
            text: text.clone(),
            pointer: at.to_owned(),
        }]),
        Value::Array(items) if !items.is_empty() => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) => out.push(Located {
                        text: text.clone(),
                        pointer: format!("{at}/{i}"),
                    }),
                    _ => broken.push(not_a(&format!("{at}/{i}"), "string")),
                }
            }
            (out.len() == items.len()).then_some(out)
        }
        _ => {
            broken.push(not_a(at, "string or a non-empty list of strings"));
            None
        }
    }
}

/// `"*"`, or an object of principal types, each a string or a list.
fn principals_at(value: &Value, at: &str, broken: &mut Vec<Violation>) -> Option<Vec<Principal>> {
    match value {
        Value::String(star) if star == "*" => Some(vec![Principal::Anyone(at.to_owned())]),
        Value::Object(types) if !types.is_empty() => {
            let mut out = Vec::new();
            for (kind, value) in types {
                let here = format!("{at}/{}", token(kind));
                let known = ["AWS", "Service", "CanonicalUser", "Federated"];
                if !known.contains(&kind.as_str()) {
                    broken.push(Violation::pointer(
                        &here,
                        "policy",
                        format!(
                            "{} is not a principal type (they are {})",
                            crate::domain::quote(kind),
                            known.join(", ")
                        ),
                    ));
                    continue;
                }
                for located in strings_at(value, &here, broken).unwrap_or_default() {
                    out.push(match kind.as_str() {
                        "AWS" if located.text == "*" => Principal::Anyone(located.pointer),
                        "AWS" => Principal::Aws(located),
                        _ => Principal::Other(located),
                    });
                }
            }
            Some(out)
        }
        _ => {
            broken.push(not_a(
                at,
                "\"*\" or an object of principal types (AWS, Service, …)",
            ));
            None
        }
    }
}

/// `{"Operator": {"key": value or [values]}}`.
fn conditions_at(value: &Value, at: &str, broken: &mut Vec<Violation>) -> Vec<Condition> {
    let Value::Object(operators) = value else {
        broken.push(not_a(at, "JSON object of condition operators"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, keys) in operators {
        let here = format!("{at}/{}", token(operator));
        let Value::Object(keys) = keys else {
            broken.push(not_a(&here, "JSON object of condition keys"));
            continue;
        };
        for (key, values) in keys {
            let pointer = format!("{here}/{}", token(key));
            let scalar = |value: &Value| match value {
                Value::String(text) => Some(text.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            let values: Option<Vec<String>> = match values {
                Value::Array(items) => items.iter().map(scalar).collect(),
                other => scalar(other).map(|v| vec![v]),
            };
            match values {
                Some(values) => out.push(Condition {
                    operator: operator.clone(),
                    key: key.clone(),
                    values,
                    pointer,
                }),
                None => broken.push(not_a(&pointer, "string, number, boolean or a list of them")),
            }
        }
    }
    out
}

/// Whether `pattern` covers `value`: `*` stands for any run of characters, `?` for any
/// one, as in AWS's action, resource and `…Like` patterns. Action names match in any
/// case (`fold_case`); ARNs and condition values as written.
pub fn covers(pattern: &str, value: &str, fold_case: bool) -> bool {
    let fold = |c: char| {
        if fold_case { c.to_ascii_lowercase() } else { c }
    };
    let pattern: Vec<char> = pattern.chars().map(fold).collect();
    let value: Vec<char> = value.chars().map(fold).collect();
    // Iterative matching with one backtrack point: linear in practice, never exponential.
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, v));
            p += 1;
        } else if let Some((star_p, star_v)) = star {
            p = star_p + 1;
            v = star_v + 1;
            star = Some((star_p, star_v + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A truth value that may be unknown: what podmeta can say of a condition on a key that it
/// cannot know for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::False, _) | (_, Self::False) => Self::False,
            (Self::True, Self::True) => Self::True,
            _ => Self::Unknown,
        }
    }

    fn from(holds: bool) -> Self {
        if holds { Self::True } else { Self::False }
    }
}

/// What is known of one key of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The key has these values.
    Values(Vec<String>),
    /// The key is not in the request.
    Absent,
    /// The key's value cannot be known.
    Unknown,
}

/// Whether `conditions` all hold for a request whose keys are as `known` says (keys match
/// in any case, as AWS's do). A condition whose operator is not evaluated here (numbers,
/// dates, IP ranges, binary) is unknown, and so is one on a key `known` cannot tell.
pub fn holds(conditions: &[Condition], known: impl Fn(&str) -> Known) -> Truth {
    conditions.iter().fold(Truth::True, |truth, condition| {
        truth.and(condition_holds(
            condition,
            &known(&condition.key.to_ascii_lowercase()),
        ))
    })
}

/// One condition, as AWS evaluates it: the values of one key are ORed; a negated operator
/// holds where none matches, and on an absent key; `…IfExists` holds on an absent key;
/// `ForAnyValue:` needs one request value to match, and fails on an absent key;
/// `ForAllValues:` needs every request value to, and holds on an absent key.
fn condition_holds(condition: &Condition, known: &Known) -> Truth {
    let (qualifier, operator) = match condition.operator.split_once(':') {
        Some((qualifier, operator)) => (Some(qualifier), operator),
        None => (None, condition.operator.as_str()),
    };
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(operator) => (operator, true),
        None => (operator, false),
    };
    if operator == "Null" {
        // {"Null": {"key": "true"}} holds where the key is absent.
        return match known {
            Known::Unknown => Truth::Unknown,
            Known::Absent => Truth::from(condition.values.iter().any(|v| v == "true")),
            Known::Values(_) => Truth::from(condition.values.iter().any(|v| v == "false")),
        };
    }
    let Some((negated, matches)) = matcher(operator) else {
        return Truth::Unknown;
    };
    let values = match known {
        Known::Unknown => return Truth::Unknown,
        Known::Absent => {
            return Truth::from(match qualifier {
                Some("ForAllValues") => true,
                Some("ForAnyValue") => false,
                _ => negated || if_exists,
            });
        }
        Known::Values(values) => values,
    };
    let one = |value: &String| {
        let matched = condition
            .values
            .iter()
            .any(|pattern| matches(pattern, value));
        matched != negated
    };
    Truth::from(match qualifier {
        Some("ForAllValues") => values.iter().all(one),
        _ => values.iter().any(one),
    })
}

/// How one value of a condition matches one of the request's.
type Matches = fn(&str, &str) -> bool;

/// An operator podmeta evaluates: whether it is negated, and how one of its values
/// matches one of the request's.
fn matcher(operator: &str) -> Option<(bool, Matches)> {
    Some(match operator {
        "StringEquals" | "ArnEquals" => (false, |p, v| p == v),
        "StringNotEquals" | "ArnNotEquals" => (true, |p, v| p == v),
        "StringEqualsIgnoreCase" => (false, |p, v| p.eq_ignore_ascii_case(v)),
        "StringNotEqualsIgnoreCase" => (true, |p, v| p.eq_ignore_ascii_case(v)),
        "StringLike" | "ArnLike" => (false, |p, v| covers(p, v, false)),
        "StringNotLike" | "ArnNotLike" => (true, |p, v| covers(p, v, false)),
        "Bool" => (false, |p, v| p.eq_ignore_ascii_case(v)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(value: Value) -> Document {
        Document::read(&value).unwrap()
    }

    #[test]
    fn a_statement_may_be_one_object_and_each_element_one_string() {
        let one = read(
            json!({"Statement": {"Effect": "Allow", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*", "Principal": {"AWS": "123456789012"}}}),
        );
        let statement = &one.statements[0];
        assert_eq!(statement.pointer, "#/Statement");
        assert_eq!(statement.actions.items()[0].pointer, "#/Statement/Action");
        assert_eq!(
            statement.principals,
            Some(Listed::Only(vec![Principal::Aws(Located {
                text: "123456789012".into(),
                pointer: "#/Statement/Principal/AWS".into()
            })]))
        );
        assert_eq!(one.version, None);
    }

    #[test]
    fn lists_keep_each_items_pointer_and_not_elements_are_their_own_form() {
        let doc = read(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "NotResource": "x",
             "NotPrincipal": "*"}]}));
        let statement = &doc.statements[0];
        assert_eq!(statement.effect, Effect::Deny);
        assert!(matches!(&statement.actions, Listed::AllBut(items)
            if items[1].pointer == "#/Statement/0/NotAction/1"));
        assert!(matches!(&statement.resources, Listed::AllBut(_)));
        assert_eq!(
            statement.principals,
            Some(Listed::AllBut(vec![Principal::Anyone(
                "#/Statement/0/NotPrincipal".into()
            )]))
        );
    }

    #[test]
    fn anyone_is_star_or_aws_star_and_services_are_other_principals() {
        let doc = read(
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Principal": {"AWS": ["*", "arn:aws:iam::1:root"], "Service": "logs.amazonaws.com"}}]}),
        );
        let Some(Listed::Only(principals)) = &doc.statements[0].principals else {
            panic!()
        };
        assert!(
            matches!(&principals[0], Principal::Anyone(p) if p == "#/Statement/0/Principal/AWS/0")
        );
        assert!(matches!(&principals[1], Principal::Aws(_)));
        assert!(matches!(&principals[2], Principal::Other(_)));
    }

    #[test]
    fn what_is_not_a_policy_is_named_with_its_pointer() {
        let rules = |value: Value| -> Vec<String> {
            Document::read(&value)
                .unwrap_err()
                .into_iter()
                .map(|v| match v.location {
                    crate::domain::FieldLocation::Pointer(p) => p,
                    crate::domain::FieldLocation::Parameter(p) => p,
                })
                .collect()
        };
        assert_eq!(rules(json!({})), ["#"]);
        assert_eq!(rules(json!([1])), ["#"]);
        assert_eq!(rules(json!({"Statement": 3})), ["#/Statement"]);
        assert_eq!(
            rules(json!({"Statement": [{"Effect": "allow", "Action": [1], "Resource": "*"}]})),
            ["#/Statement/0/Effect", "#/Statement/0/Action/0"]
        );
        assert_eq!(
            rules(
                json!({"Statement": {"Effect": "Allow", "Action": "a", "NotAction": "b",
                "Resource": "*", "Sids": "x"}})
            ),
            ["#/Statement/Sids", "#/Statement/NotAction"]
        );
        assert_eq!(
            rules(
                json!({"Statement": {"Effect": "Allow", "Action": "a", "Resource": [],
                "Condition": {"Bool": {"a/b": {}}}}})
            ),
            ["#/Statement/Resource", "#/Statement/Condition/Bool/a~1b"]
        );
    }

    #[test]
    fn patterns_cover_as_aws_matches_them() {
        assert!(covers("s3:Put*", "s3:PutObjectAcl", true));
        assert!(covers("S3:PUTOBJECT", "s3:PutObject", true));
        assert!(!covers("S3:PUTOBJECT", "s3:PutObject", false));
        assert!(covers(
            "arn:aws:s3:::mp-forwarding-*/*",
            "arn:aws:s3:::mp-forwarding-acme/*",
            false
        ));
        assert!(!covers(
            "arn:aws:s3:::mp-forwarding-*/*",
            "arn:aws:s3:::mp-forwarding-acme",
            false
        ));
        assert!(covers("s3:PutObjec?", "s3:PutObject", true));
        assert!(!covers("s3:PutObjec?", "s3:PutObjectAcl", true));
        assert!(covers("*", "", false) && covers("a*b*c", "aXbYbc", false));
        assert!(!covers("a*b*c", "aXbYbcd", false));
    }

    fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: operator.into(),
            key: key.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            pointer: "#".into(),
        }
    }

    fn known(key: &str) -> Known {
        match key {
            "aws:securetransport" => Known::Values(vec!["true".into()]),
            "aws:principalarn" => Known::Values(vec!["arn:aws:iam::1:role/r".into()]),
            "aws:sourcevpce" => Known::Absent,
            _ => Known::Unknown,
        }
    }

    #[test]
    fn conditions_hold_as_aws_evaluates_them() {
        let truth = |c: Condition| holds(&[c], known);
        assert_eq!(
            truth(condition("Bool", "aws:SecureTransport", &["false"])),
            Truth::False
        );
        assert_eq!(
            truth(condition("Bool", "aws:SecureTransport", &["true"])),
            Truth::True
        );
        assert_eq!(
            truth(condition(
                "ArnLike",
                "aws:PrincipalArn",
                &["x", "arn:aws:iam::1:role/*"]
            )),
            Truth::True
        );
        assert_eq!(
            truth(condition(
                "StringNotEquals",
                "aws:PrincipalArn",
                &["arn:aws:iam::1:role/r"]
            )),
            Truth::False
        );
        // On an absent key: a negated operator holds, a plain one does not, IfExists does.
        assert_eq!(
            truth(condition("StringNotEquals", "aws:SourceVpce", &["v"])),
            Truth::True
        );
        assert_eq!(
            truth(condition("StringEquals", "aws:SourceVpce", &["v"])),
            Truth::False
        );
        assert_eq!(
            truth(condition("StringEqualsIfExists", "aws:SourceVpce", &["v"])),
            Truth::True
        );
        assert_eq!(
            truth(condition(
                "ForAnyValue:StringEquals",
                "aws:SourceVpce",
                &["v"]
            )),
            Truth::False
        );
        assert_eq!(
            truth(condition(
                "ForAllValues:StringEquals",
                "aws:SourceVpce",
                &["v"]
            )),
            Truth::True
        );
        assert_eq!(
            truth(condition("Null", "aws:SourceVpce", &["true"])),
            Truth::True
        );
        assert_eq!(
            truth(condition("Null", "aws:SecureTransport", &["true"])),
            Truth::False
        );
        // What cannot be known, and operators not evaluated, are unknown.
        assert_eq!(
            truth(condition("IpAddress", "aws:SourceIp", &["10.0.0.0/8"])),
            Truth::Unknown
        );
        assert_eq!(
            truth(condition("NumericLessThan", "aws:SecureTransport", &["1"])),
            Truth::Unknown
        );
        // Conditions are ANDed: a false one decides.
        let both = [
            condition("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
            condition("Bool", "aws:SecureTransport", &["false"]),
        ];
        assert_eq!(holds(&both, known), Truth::False);
    }
}
