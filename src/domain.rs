//! Domain types: every value of the pod table, each of which can only hold a valid value.
//!
//! "Parse, don't validate": raw text becomes one of these types through `FromStr` (or
//! serde, which goes through the same code) and nothing past loading ever handles a raw
//! string that could be invalid. Each type keeps the text exactly as the source wrote it,
//! because podmeta serves values byte for byte as the source page prints them (a URL type
//! that normalises would turn `https://app.mparticle.com` into `…com/`).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Quotes a piece of input (a client's, or a table file's) for an error message, cut to
/// a readable length, so that long or binary input keeps the message one readable line.
pub fn quote(input: &str) -> String {
    const MAX: usize = 64;
    let cut: String = input.chars().take(MAX).collect();
    let ellipsis = if cut.len() < input.len() { "…" } else { "" };
    format!("{:?}{ellipsis}", cut)
}

/// One broken rule of a request value, in the style of RFC 9457's own example: the one
/// shape every validator (bucket names, the Lambda ARN parameters) reports in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Where the value is: a JSON pointer into the body (`#/bucket`), or a query
    /// parameter.
    #[serde(flatten)]
    pub location: FieldLocation,
    /// A stable, machine-readable name of the rule.
    pub rule: String,
    /// The rule in a sentence.
    pub detail: String,
}

impl Violation {
    /// A rule broken by the query parameter `name`.
    pub fn parameter(name: &str, rule: &str, detail: String) -> Self {
        Self {
            location: FieldLocation::Parameter(name.into()),
            rule: rule.into(),
            detail,
        }
    }

    /// A rule broken by the body's value at the JSON pointer `pointer` (`#/bucket`).
    pub fn pointer(pointer: &str, rule: &str, detail: String) -> Self {
        Self {
            location: FieldLocation::Pointer(pointer.into()),
            rule: rule.into(),
            detail,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldLocation {
    /// A JSON pointer into the request body, such as `#/bucket`.
    Pointer(String),
    /// The name of a query parameter.
    Parameter(String),
}

/// Why a piece of text is not a valid value of some domain type.
///
/// The message says what was expected and quotes what was given, so that it can be shown
/// to the person who wrote the value without further context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    expected: &'static str,
    /// What was given, quoted and cut (see [`quote`]).
    got: String,
}

impl InvalidValue {
    pub(crate) fn new(expected: &'static str, got: &str) -> Self {
        Self {
            expected,
            got: quote(got),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.got)
    }
}

impl std::error::Error for InvalidValue {}

/// Declares a type that holds text checked by `$check`, kept exactly as written.
///
/// Every such type parses with `FromStr`, deserializes from a string through the same
/// check, serializes as its text and displays as its text.
macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $expected:literal, $check:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(Box<str>);

        impl $name {
            /// The value exactly as it was written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok(Self(s.into()))
                } else {
                    Err(InvalidValue::new($expected, s))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_type!(
    /// A pod's id: two lower-case letters and a number, e.g. `eu1`.
    PodId,
    "a pod id: two lower-case letters and a number, like \"eu1\"",
    is_pod_id
);

text_type!(
    /// A DNS host name, lower case, e.g. `sftp.eu1.mparticle.com`.
    Hostname,
    "a lower-case DNS host name with at least two labels, like \"sftp.eu1.mparticle.com\"",
    is_hostname
);

text_type!(
    /// An absolute `https` URL with a DNS host name, no credentials, query or fragment.
    HttpsUrl,
    "an https URL with a lower-case host name and no query or fragment, like \"https://app.eu1.mparticle.com\"",
    |s| split_https_url(s).is_some()
);

text_type!(
    /// An AWS region code, e.g. `eu-central-1`.
    AwsRegion,
    "an AWS region code like \"eu-central-1\"",
    is_aws_region
);

text_type!(
    /// A 12-digit AWS account id.
    AccountId,
    "an AWS account id of exactly 12 digits",
    is_account_id
);

/// Whether `s` is an AWS account id: exactly 12 ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

text_type!(
    /// The ARN of an IAM role, e.g. `arn:aws:iam::583371261087:role/verifyrequest_lambda`.
    IamRoleArn,
    "an IAM role ARN like \"arn:aws:iam::123456789012:role/name\"",
    |s| split_iam_role_arn(s).is_some()
);

text_type!(
    /// An AWS Lambda function name (or the prefix every Rules function name must carry).
    LambdaFunctionName,
    "a Lambda function name: 1 to 64 letters, digits, '-' or '_'",
    is_lambda_function_name
);

text_type!(
    /// A Lambda alias or version qualifier: `$LATEST` or an alias name such as `PROD`.
    LambdaAlias,
    "a Lambda alias: \"$LATEST\" or 1 to 128 letters, digits, '-' or '_', not all digits",
    is_lambda_alias
);

text_type!(
    /// The prefix that every forwarding bucket's name must begin with.
    BucketPrefix,
    "the start of an S3 bucket name: 1 to 62 lower-case letters, digits, '.' or '-', beginning with a letter or digit",
    |s| (1..=62).contains(&s.len())
        && s.bytes().all(is_bucket_byte)
        && s.as_bytes()[0].is_ascii_alphanumeric()
);

/// 1 to `max` characters, none of them a control character, without leading or trailing
/// space.
fn is_printable_text(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.chars().count()) && s.trim() == s && !s.chars().any(char::is_control)
}

text_type!(
    /// Human-readable text: a location such as `Europe` or an SDK name such as `Go`.
    Label,
    "1 to 64 printable characters without leading or trailing space",
    |s| is_printable_text(s, 64)
);

text_type!(
    /// A sentence or a value quoted from the source page, for people to read.
    Note,
    "1 to 500 printable characters without leading or trailing space",
    |s| is_printable_text(s, 500)
);

impl PodId {
    /// The pod's display name: its id in upper case (`eu1` → `EU1`), as the source writes it.
    pub fn display_name(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

impl HttpsUrl {
    /// The URL's host name.
    pub fn host(&self) -> &str {
        split_https_url(&self.0).map_or("", |(host, _)| host)
    }
}

impl IamRoleArn {
    /// The account the role belongs to.
    pub fn account_id(&self) -> &str {
        split_iam_role_arn(&self.0).map_or("", |(account, _)| account)
    }
}

/// A TCP port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Port(u16);

impl TryFrom<i64> for Port {
    type Error = InvalidValue;
    fn try_from(n: i64) -> Result<Self, InvalidValue> {
        match u16::try_from(n) {
            Ok(p) if p != 0 => Ok(Self(p)),
            _ => Err(InvalidValue::new(
                "a port number from 1 to 65535",
                &n.to_string(),
            )),
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Port::try_from(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An IPv4 address in its one canonical spelling (`18.157.92.224`; no leading zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4(Ipv4Addr);

impl Ipv4 {
    pub fn addr(self) -> Ipv4Addr {
        self.0
    }
}

impl FromStr for Ipv4 {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        // std rejects leading zeros, so a parsed address prints back as the same text.
        s.parse()
            .map(Self)
            .map_err(|_| InvalidValue::new("an IPv4 address like \"18.157.92.224\"", s))
    }
}

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Ipv4 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Ipv4 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A list with at least one element; the first is the canonical one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NonEmpty<T>(Vec<T>);

impl<T> NonEmpty<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> TryFrom<Vec<T>> for NonEmpty<T> {
    type Error = &'static str;
    fn try_from(v: Vec<T>) -> Result<Self, Self::Error> {
        if v.is_empty() {
            Err("expected a list with at least one value, got an empty list")
        } else {
            Ok(Self(v))
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NonEmpty::try_from(Vec::<T>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'a, T> IntoIterator for &'a NonEmpty<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

// ---- the checks behind the types ----

/// The longest pod id accepted; far more digits than any real pod needs.
const POD_ID_MAX: usize = 12;

pub(crate) fn is_pod_id(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=POD_ID_MAX).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2..].iter().all(u8::is_ascii_digit)
}

pub(crate) fn is_hostname(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        // A last label of digits only would make "1.2.3.4" a host name.
        && labels.last().is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits `https://host[:port][/path]` into host and path; `None` if it is not one.
fn split_https_url(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("https://")?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let host = match authority.split_once(':') {
        Some((host, port)) => {
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0 && !port.starts_with('0'))?;
            host
        }
        None => authority,
    };
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b))
        && percent_escapes_ok(path);
    (is_hostname(host) && path_ok).then_some((host, path))
}

fn percent_escapes_ok(path: &str) -> bool {
    let b = path.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

pub(crate) fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower_word = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    s.len() <= 32
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(lower_word)
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits `arn:{partition}:iam::{account}:role/{path/}{name}` into account and role.
fn split_iam_role_arn(s: &str) -> Option<(&str, &str)> {
    let rest = ["arn:aws:iam::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::"]
        .iter()
        .find_map(|p| s.strip_prefix(p))?;
    let (account, role) = rest.split_once(":role/")?;
    let name = role.rsplit('/').next().unwrap_or(role);
    let ok = is_account_id(account)
        && (1..=64).contains(&name.len())
        && role.len() <= 512
        && !role.contains("//")
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b));
    ok.then_some((account, role))
}

/// The longest Lambda function name.
pub(crate) const LAMBDA_NAME_MAX: usize = 64;

/// A byte a Lambda function name may hold: a letter, a digit, `-` or `_`.
pub(crate) fn is_lambda_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

pub(crate) fn is_lambda_function_name(s: &str) -> bool {
    (1..=LAMBDA_NAME_MAX).contains(&s.len()) && s.bytes().all(is_lambda_name_byte)
}

fn is_lambda_alias(s: &str) -> bool {
    s == "$LATEST"
        || ((1..=128).contains(&s.len())
            && s.bytes().all(is_lambda_name_byte)
            && !s.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn is_bucket_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: FromStr>(s: &str) -> bool {
        s.parse::<T>().is_ok()
    }

    #[test]
    fn pod_ids_are_two_lower_case_letters_and_a_number() {
        for good in ["us1", "eu1", "au1", "us2", "ab123"] {
            assert!(ok::<PodId>(good), "{good}");
        }
        for bad in [
            "",
            "us",
            "EU1",
            "u1",
            "usa1",
            "eu-1",
            "1eu",
            "eu1 ",
            "eu1a",
            "éu1",
            "ab1234567890123",
        ] {
            assert!(!ok::<PodId>(bad), "{bad:?}");
        }
    }

    #[test]
    fn pod_display_name_is_the_id_in_upper_case() {
        assert_eq!("eu1".parse::<PodId>().unwrap().display_name(), "EU1");
    }

    #[test]
    fn host_names_are_lower_case_dns_names() {
        for good in ["sftp.mparticle.com", "s2s.us1.mparticle.com", "a-b.c0.io"] {
            assert!(ok::<Hostname>(good), "{good}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        for bad in [
            "",
            "localhost",
            "SFTP.mparticle.com",
            "-a.com",
            "a-.com",
            "a..com",
            ".a.com",
            "a.com.",
            "1.2.3.4",
            "a_b.com",
            "a b.com",
            long_label.as_str(),
        ] {
            assert!(!ok::<Hostname>(bad), "{bad:?}");
        }
    }

    #[test]
    fn https_urls_keep_their_text_and_expose_their_host() {
        let url: HttpsUrl = "https://app.mparticle.com".parse().unwrap();
        assert_eq!(url.as_str(), "https://app.mparticle.com");
        assert_eq!(url.host(), "app.mparticle.com");
        let url: HttpsUrl = "https://s2s.eu1.mparticle.com:443/v2/events"
            .parse()
            .unwrap();
        assert_eq!(url.host(), "s2s.eu1.mparticle.com");
    }

    #[test]
    fn https_urls_refuse_other_schemes_credentials_queries_and_bad_hosts() {
        for bad in [
            "http://app.mparticle.com",
            "https://",
            "https://app",
            "https://user@app.mparticle.com",
            "https://app.mparticle.com?x=1",
            "https://app.mparticle.com#top",
            "https://app.mparticle.com:0",
            "https://app.mparticle.com:99999",
            "https://app.mparticle.com/a b",
            "https://app.mparticle.com/%zz",
            "https://APP.mparticle.com",
            " https://app.mparticle.com",
        ] {
            assert!(!ok::<HttpsUrl>(bad), "{bad:?}");
        }
    }

    #[test]
    fn aws_regions_have_the_us_east_1_shape() {
        for good in [
            "us-east-1",
            "eu-central-1",
            "ap-southeast-2",
            "us-gov-west-1",
        ] {
            assert!(ok::<AwsRegion>(good), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "u-east-1",
            "us--1",
            "us-east-123",
        ] {
            assert!(!ok::<AwsRegion>(bad), "{bad:?}");
        }
    }

    #[test]
    fn account_ids_are_exactly_twelve_digits() {
        assert!(ok::<AccountId>("999999999999"));
        for bad in ["99999999999", "9999999999999", "99999999999a", ""] {
            assert!(!ok::<AccountId>(bad), "{bad:?}");
        }
    }

    #[test]
    fn iam_role_arns_name_an_account_and_a_role() {
        let arn: IamRoleArn = "arn:aws:iam::583371261087:role/verifyrequest_lambda"
            .parse()
            .unwrap();
        assert_eq!(arn.account_id(), "583371261087");
        assert!(ok::<IamRoleArn>(
            "arn:aws:iam::338661164609:role/service/Prod-Role-DG12-Default"
        ));
        for bad in [
            "arn:aws:iam::58337126108:role/x",
            "arn:aws:iam::583371261087:user/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::583371261087:role/",
            "arn:aws:iam::583371261087:role/a b",
            "arn:aws:iam:us-east-1:583371261087:role/x",
        ] {
            assert!(!ok::<IamRoleArn>(bad), "{bad:?}");
        }
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert!(Port::try_from(4422).is_ok());
        assert!(Port::try_from(65535).is_ok());
        for bad in [0, -1, 65536] {
            let err = Port::try_from(bad).unwrap_err();
            assert!(err.to_string().contains("1 to 65535"), "{err}");
        }
    }

    #[test]
    fn ipv4_addresses_are_canonical() {
        assert_eq!(
            "18.157.92.224".parse::<Ipv4>().unwrap().to_string(),
            "18.157.92.224"
        );
        for bad in ["18.157.92", "18.157.92.256", "018.157.92.224", "::1", ""] {
            assert!(!ok::<Ipv4>(bad), "{bad:?}");
        }
    }

    #[test]
    fn lambda_names_and_aliases() {
        assert!(ok::<LambdaFunctionName>("mprmylambdafunction"));
        assert!(!ok::<LambdaFunctionName>(&"m".repeat(65)));
        assert!(!ok::<LambdaFunctionName>("mpr.fn"));
        assert!(ok::<LambdaAlias>("PROD"));
        assert!(ok::<LambdaAlias>("$LATEST"));
        assert!(!ok::<LambdaAlias>("$PROD"));
        assert!(!ok::<LambdaAlias>("123"));
    }

    #[test]
    fn an_error_says_what_was_expected_and_quotes_what_was_given() {
        let err = "1.2.3".parse::<Ipv4>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"expected an IPv4 address like "18.157.92.224", got "1.2.3""#
        );
    }

    #[test]
    fn non_empty_lists_refuse_empty_ones() {
        assert!(NonEmpty::<u8>::try_from(vec![]).is_err());
        assert_eq!(NonEmpty::try_from(vec![1, 2]).unwrap().iter().count(), 2);
    }
}
