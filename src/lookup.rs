//! Reverse lookup: which pod is this host, URL, IP, API key, AWS region or ARN in?
//!
//! [`LookupQuery::parse`] turns the query string's pairs into one typed question (or says
//! precisely what is wrong with them); [`LookupQuery::read`] does the same for a value of
//! unknown kind (`q`), working out its kind first ([`LookupKind::detect`]);
//! [`LookupIndex`], built once per table, answers it with the positions of the matching
//! pods in table order.
//!
//! API keys are one half of a credential. Nothing here keeps, prints or returns one: the
//! query holds only the key's pod prefix, and no error message quotes a key.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use crate::domain::{AwsRegion, is_aws_region, is_hostname, is_pod_id};
use crate::table::Table;

/// What a lookup matched by: the name of its query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupKind {
    Host,
    Url,
    Ip,
    ApiKey,
    AwsRegion,
    Arn,
}

impl LookupKind {
    const ALL: [LookupKind; 6] = [
        Self::Host,
        Self::Url,
        Self::Ip,
        Self::ApiKey,
        Self::AwsRegion,
        Self::Arn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Url => "url",
            Self::Ip => "ip",
            Self::ApiKey => "api_key",
            Self::AwsRegion => "aws_region",
            Self::Arn => "arn",
        }
    }

    /// The kind in a sentence, with its article.
    fn in_words(self) -> &'static str {
        match self {
            Self::Host => "a host name",
            Self::Url => "a URL",
            Self::Ip => "an IP address",
            Self::ApiKey => "an API key",
            Self::AwsRegion => "an AWS region",
            Self::Arn => "an ARN",
        }
    }

    /// The kind named `name`, as in the API's parameters and `matched_by`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// How `q` reads a value of unknown kind: the first rule that applies wins.
    ///
    /// 1. It contains `://`: a URL.
    /// 2. It begins with `arn:`: an ARN.
    /// 3. It is made of digits and at least one dot, or of hex digits, dots and at least
    ///    one colon: an IP address (v4, or v6 such as `::ffff:34.199.76.170`).
    /// 4. It has the shape of an AWS region code (`eu-central-1`): an AWS region.
    /// 5. It has no dot: an API key, with a pod prefix (`eu1-…`) or without (US1's).
    /// 6. Anything else: a host name, with or without a `:port`.
    ///
    /// The rules only choose the kind; the value is then checked as that kind, so
    /// `34.199.76` is a malformed IP rather than an unknown host.
    pub fn detect(value: &str) -> Self {
        let ip_like = (value.contains('.')
            && value.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            || (value.contains(':')
                && value
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'));
        if value.contains("://") {
            Self::Url
        } else if value.starts_with("arn:") {
            Self::Arn
        } else if ip_like {
            Self::Ip
        } else if is_aws_region(value) {
            Self::AwsRegion
        } else if !value.contains('.') {
            Self::ApiKey
        } else {
            Self::Host
        }
    }
}

/// One well-formed question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupQuery {
    /// A host name, lower-cased, without a final dot or a port (`url=` gives one too).
    Host {
        kind: LookupKind,
        host: String,
    },
    Ip(IpAddr),
    /// The pod prefix of an API key, lower-cased; `None` for a key without one.
    ApiKeyPrefix(Option<String>),
    AwsRegion(AwsRegion),
    Arn(Arn),
}

/// The parts of an ARN that can name a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    partition: String,
    service: String,
    /// Empty for global services such as IAM.
    region: String,
    account: String,
    /// Whether the resource is an IAM role (`role/…`).
    is_role: bool,
}

impl Arn {
    /// Why no pod can match this ARN, if so. A pod is named only by an IAM role of its
    /// AWS account (its S3 principals are such roles), or by a Lambda function or Logs
    /// resource in its region (what the Rules IAM policy names), in the `aws` partition.
    pub fn unmatchable(&self) -> Option<&'static str> {
        match (self.partition.as_str(), self.service.as_str()) {
            (partition, _) if partition != "aws" => {
                Some("only ARNs in the aws partition name a pod")
            }
            (_, "iam") if !self.region.is_empty() => Some("an IAM ARN never carries a region"),
            (_, "iam") if !self.is_role => Some("only an IAM role (role/…) names a pod's account"),
            (_, "iam") => None,
            (_, "lambda" | "logs") if self.region.is_empty() => {
                Some("a Lambda or Logs ARN names a pod by its region, and this one has none")
            }
            (_, "lambda" | "logs") => None,
            _ => Some("only IAM roles and Lambda or Logs ARNs name a pod"),
        }
    }
}

/// Why a lookup's query string is not one well-formed question (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    NoParameter,
    SeveralParameters(Vec<String>),
    UnknownParameter(String),
    /// `q` holds nothing but white space.
    EmptyQ,
    /// The value is not a well-formed `kind`; `detected` when the kind was worked out
    /// from a `q` (whose value is then never quoted: it may be an API key).
    Malformed {
        kind: LookupKind,
        detected: bool,
        detail: String,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoParameter => write!(
                f,
                "Give exactly one query parameter: q (any value, whose kind is worked out), or one of: {}.",
                LookupKind::names()
            ),
            Self::SeveralParameters(names) => write!(
                f,
                "Give exactly one query parameter; got {} ({}).",
                names.len(),
                names.join(", ")
            ),
            Self::UnknownParameter(name) => write!(
                f,
                "Unknown query parameter{}; expected q, or one of: {}.",
                safe_name(name).map_or(String::new(), |n| format!(" {n}")),
                LookupKind::names()
            ),
            Self::EmptyQ => write!(
                f,
                "q is empty: give a host name, URL, IP address, API key, AWS region or ARN."
            ),
            Self::Malformed {
                kind,
                detected: false,
                detail,
            } => write!(f, "{}: {detail}", kind.name()),
            Self::Malformed {
                kind,
                detected: true,
                detail,
            } => write!(f, "q was read as {}: {detail}", kind.in_words()),
        }
    }
}

/// A parameter name, quoted, if it is safe to show: a mistyped `?eu1-…` puts an API key
/// where the name goes, so only names that look like names are ever repeated back.
fn safe_name(name: &str) -> Option<String> {
    let looks_like_a_name = (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    looks_like_a_name.then(|| crate::domain::quote(name))
}

/// The longest value a lookup parameter may have; longer is not a host, URL or key.
pub(crate) const MAX_VALUE: usize = 2048;

impl LookupQuery {
    /// Parses the query string's decoded pairs, in order: exactly one, either `q` (a
    /// value of any kind, see [`LookupQuery::read`]) or one named by its kind.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, LookupError> {
        let (name, value) = match pairs {
            [] => return Err(LookupError::NoParameter),
            [one] => one,
            several => {
                return Err(LookupError::SeveralParameters(
                    several
                        .iter()
                        .map(|(n, _)| safe_name(n).unwrap_or_else(|| "(unnamed)".into()))
                        .collect(),
                ));
            }
        };
        if name == "q" {
            return Self::read(value);
        }
        let kind = LookupKind::from_name(name)
            .ok_or_else(|| LookupError::UnknownParameter(name.clone()))?;
        Self::parse_as(kind, value)
    }

    /// A value of unknown kind, read as the kind [`LookupKind::detect`] gives. Its
    /// errors never quote the value: whoever sends `q` may not know it holds a key.
    /// Leading and trailing white space, which a paste often brings, is ignored.
    pub fn read(value: &str) -> Result<Self, LookupError> {
        let value = value.trim_ascii();
        if value.is_empty() {
            return Err(LookupError::EmptyQ);
        }
        let kind = LookupKind::detect(value);
        Self::checked(kind, value, false).map_err(|detail| LookupError::Malformed {
            kind,
            detected: true,
            detail,
        })
    }

    /// A value given as `kind`. Its errors quote the value, except an API key's.
    pub fn parse_as(kind: LookupKind, value: &str) -> Result<Self, LookupError> {
        Self::checked(kind, value, kind != LookupKind::ApiKey).map_err(|detail| {
            LookupError::Malformed {
                kind,
                detected: false,
                detail,
            }
        })
    }

    /// `value` as a `kind`, or what is wrong with it, quoting it if `echo`.
    fn checked(kind: LookupKind, value: &str, echo: bool) -> Result<Self, String> {
        // A URL's userinfo may be a credential: never repeated.
        let shown = without_userinfo(value);
        let expected = |what: &str| {
            if echo {
                format!("expected {what}, got {}", crate::domain::quote(&shown))
            } else {
                format!("expected {what}")
            }
        };
        if value.len() > MAX_VALUE {
            return Err(format!("expected at most {MAX_VALUE} bytes"));
        }
        match kind {
            LookupKind::Host => normalise_host(value)
                .map(|host| Self::Host { kind, host })
                .ok_or_else(|| expected("a DNS host name such as \"sftp.eu1.mparticle.com\"")),
            LookupKind::Url => url_host(value)
                .map(|host| Self::Host { kind, host })
                .ok_or_else(|| {
                    expected("an absolute URL with a DNS host name, such as \"https://app.eu1.mparticle.com\"")
                }),
            LookupKind::Ip => value
                .parse()
                .map(Self::Ip)
                .map_err(|_| expected("an IPv4 or IPv6 address")),
            LookupKind::ApiKey => api_key_prefix(value)
                .map(Self::ApiKeyPrefix)
                .ok_or_else(|| {
                    "expected an API key of 1 to 256 printable ASCII characters without spaces"
                        .to_owned()
                }),
            LookupKind::AwsRegion => value
                .parse()
                .map(Self::AwsRegion)
                .map_err(|_| expected("an AWS region code such as \"eu-central-1\"")),
            LookupKind::Arn => parse_arn(value).map(Self::Arn).ok_or_else(|| {
                expected("an ARN such as \"arn:aws:iam::583371261087:role/verifyrequest_lambda\"")
            }),
        }
    }

    /// The parameter this question came from.
    pub fn kind(&self) -> LookupKind {
        match self {
            Self::Host { kind, .. } => *kind,
            Self::Ip(_) => LookupKind::Ip,
            Self::ApiKeyPrefix(_) => LookupKind::ApiKey,
            Self::AwsRegion(_) => LookupKind::AwsRegion,
            Self::Arn(_) => LookupKind::Arn,
        }
    }

    /// Why no pod can match this question whatever the table, if so.
    pub fn unmatchable(&self) -> Option<&'static str> {
        match self {
            Self::Arn(arn) => arn.unmatchable(),
            _ => None,
        }
    }
}

/// Lower-cases a host, drops one final dot and a `:port` (of at most 65535); `None` if it
/// is not a host name.
fn normalise_host(value: &str) -> Option<String> {
    let host = match value.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            port.parse::<u16>().ok()?;
            host
        }
        _ => value,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    is_hostname(&host).then_some(host)
}

/// The host of an absolute URL (`scheme://[user@]host[:port][/…][?…][#…]`). A backslash
/// anywhere, or a character RFC 3986 does not allow in an authority, makes it no URL:
/// a browser (the WHATWG URL standard) reads `https://evil.example\@app.eu1…` as a URL
/// of evil.example, whose pod this must not answer.
fn url_host(value: &str) -> Option<String> {
    if value.contains('\\') {
        return None;
    }
    let (scheme, rest) = value.split_once("://")?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if !authority.bytes().all(is_authority_byte) {
        return None;
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    scheme_ok.then(|| normalise_host(host_port)).flatten()
}

/// RFC 3986's authority characters: unreserved, `%` of pct-encoded, sub-delims, `:`, `@`,
/// and the brackets of an IP literal.
fn is_authority_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@[]".contains(&b)
}

/// Where a URL's userinfo is, with its `@` (`user:password@`), if it has one. The Events
/// API takes the API key as the user name and the secret as the password, so a pasted URL
/// may hold both. It ends at the authority's last `@`, as a browser reads it.
fn userinfo(value: &str) -> Option<std::ops::Range<usize>> {
    let start = value.find("://")? + 3;
    let rest = &value[start..];
    let authority = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority].rfind('@')?;
    Some(start..start + at + 1)
}

/// Whether a URL holds userinfo, which may be a credential: its answer must not be
/// cached, and nothing may repeat it.
pub fn url_has_userinfo(value: &str) -> bool {
    userinfo(value).is_some()
}

/// `value` with its userinfo, if any, left out: what an error may repeat of a URL.
fn without_userinfo(value: &str) -> std::borrow::Cow<'_, str> {
    match userinfo(value) {
        Some(range) => format!("{}{}", &value[..range.start], &value[range.end..]).into(),
        None => value.into(),
    }
}

/// The pod prefix of an API key: the part before its first `-`, lower-cased, when that
/// part has the shape of a pod id; `None` for a key without such a prefix (a US1 key).
/// The outer `None` means the key is malformed.
#[allow(clippy::option_option)] // outer: malformed or not; inner: prefix or none
fn api_key_prefix(key: &str) -> Option<Option<String>> {
    let well_formed = (1..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return None;
    }
    let prefix = key
        .split_once('-')
        .map(|(prefix, _)| prefix.to_ascii_lowercase())
        .filter(|p| is_pod_id(p));
    Some(prefix)
}

/// `arn:partition:service:region:account:resource`, checked part by part.
fn parse_arn(value: &str) -> Option<Arn> {
    let mut parts = value.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ok = arn == "arn"
        && word(partition)
        && word(service)
        && (region.is_empty() || is_aws_region(region))
        && (account.is_empty() || account == "*" || crate::domain::is_account_id(account))
        && !resource.is_empty()
        && !resource.chars().any(char::is_control);
    ok.then(|| Arn {
        partition: partition.to_owned(),
        service: service.to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
        is_role: resource.starts_with("role/"),
    })
}

/// Everything a lookup can match, indexed once per table.
#[derive(Debug)]
pub struct LookupIndex {
    /// Every host the table names → its pod.
    hosts: HashMap<String, usize>,
    /// The domains under which hosts carry a pod label (`mparticle.com` for
    /// `s2s.eu1.mparticle.com`), learned from the table's own hosts.
    pod_domains: BTreeSet<String>,
    /// SFTP IPs → their pod.
    ips: HashMap<IpAddr, usize>,
    /// The account of each pod's S3 principals → the pods.
    principal_accounts: HashMap<String, Vec<usize>>,
    /// The pod of keys without a prefix.
    default_pod: usize,
}

impl LookupIndex {
    pub fn new(table: &Table) -> Self {
        let mut hosts = HashMap::new();
        let mut pod_domains = BTreeSet::new();
        let mut ips = HashMap::new();
        let mut principal_accounts: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, pod) in table.pods().iter().enumerate() {
            for host in pod.hosts() {
                hosts.insert(host.to_owned(), i);
                let mut labels = host.splitn(3, '.');
                if let (Some(_), Some(label), Some(domain)) =
                    (labels.next(), labels.next(), labels.next())
                    && label == pod.id().as_str()
                {
                    pod_domains.insert(domain.to_owned());
                }
            }
            ips.insert(IpAddr::V4(pod.sftp.ip.addr()), i);
            for principal in &pod.s3.principals {
                let pods = principal_accounts
                    .entry(principal.account_id().to_owned())
                    .or_default();
                if !pods.contains(&i) {
                    pods.push(i);
                }
            }
        }
        Self {
            hosts,
            pod_domains,
            ips,
            principal_accounts,
            default_pod: table.default_pod_position(),
        }
    }

    /// The positions of the pods that match, in table order; empty when none does.
    pub fn find(&self, table: &Table, query: &LookupQuery) -> Vec<usize> {
        let in_region = |region: &str| -> Vec<usize> {
            (0..table.pods().len())
                .filter(|&i| table.pod_at(i).aws_region.as_str() == region)
                .collect()
        };
        match query {
            LookupQuery::Host { host, .. } => self
                .hosts
                .get(host)
                .copied()
                .or_else(|| self.direct_routing_pod(table, host))
                .into_iter()
                .collect(),
            LookupQuery::Ip(ip) => {
                let ip = match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
                    IpAddr::V4(_) => *ip,
                };
                self.ips.get(&ip).copied().into_iter().collect()
            }
            LookupQuery::ApiKeyPrefix(None) => vec![self.default_pod],
            LookupQuery::ApiKeyPrefix(Some(prefix)) => {
                table.position_ignoring_case(prefix).into_iter().collect()
            }
            LookupQuery::AwsRegion(region) => in_region(region.as_str()),
            LookupQuery::Arn(arn) if arn.unmatchable().is_some() => Vec::new(),
            LookupQuery::Arn(arn) if arn.service == "iam" => self
                .principal_accounts
                .get(&arn.account)
                .cloned()
                .unwrap_or_default(),
            LookupQuery::Arn(arn) => in_region(&arn.region),
        }
    }

    /// `<label>.<pod>.<domain>`, the host shape of client SDKs' direct URL routing.
    fn direct_routing_pod(&self, table: &Table, host: &str) -> Option<usize> {
        let mut labels = host.splitn(3, '.');
        let (_, pod, domain) = (labels.next()?, labels.next()?, labels.next()?);
        if !self.pod_domains.contains(domain) {
            return None;
        }
        table.position_ignoring_case(pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn parse(name: &str, value: &str) -> Result<LookupQuery, LookupError> {
        LookupQuery::parse(&pairs(&[(name, value)]))
    }

    #[test]
    fn exactly_one_known_parameter_is_required() {
        assert_eq!(LookupQuery::parse(&[]), Err(LookupError::NoParameter));
        assert!(matches!(
            LookupQuery::parse(&pairs(&[("host", "a.com"), ("ip", "1.2.3.4")])),
            Err(LookupError::SeveralParameters(_))
        ));
        assert!(matches!(
            LookupQuery::parse(&pairs(&[("host", "a.com"), ("host", "b.com")])),
            Err(LookupError::SeveralParameters(_))
        ));
        assert!(matches!(
            parse("hostname", "a.com"),
            Err(LookupError::UnknownParameter(_))
        ));
    }

    #[test]
    fn hosts_are_normalised() {
        let host = |v| match parse("host", v) {
            Ok(LookupQuery::Host { host, .. }) => Some(host),
            _ => None,
        };
        assert_eq!(
            host("SFTP.mparticle.com").as_deref(),
            Some("sftp.mparticle.com")
        );
        assert_eq!(
            host("sftp.mparticle.com.").as_deref(),
            Some("sftp.mparticle.com")
        );
        assert_eq!(
            host("sftp.mparticle.com:4422").as_deref(),
            Some("sftp.mparticle.com")
        );
        for bad in [
            "",
            "localhost",
            "a b.com",
            "34.199.76.170",
            "https://a.com",
            "a.com:x",
            "a.com:65536",
            "a.com:999999",
        ] {
            assert_eq!(host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn urls_give_their_host() {
        let host = |v| match parse("url", v) {
            Ok(LookupQuery::Host { host, kind }) => {
                assert_eq!(kind, LookupKind::Url);
                Some(host)
            }
            _ => None,
        };
        assert_eq!(
            host("https://App.EU1.mparticle.com/login?x=1").as_deref(),
            Some("app.eu1.mparticle.com")
        );
        assert_eq!(
            host("sftp://user@sftp.mparticle.com:4422/in").as_deref(),
            Some("sftp.mparticle.com")
        );
        assert_eq!(
            host("https://s2s.mparticle.com#x").as_deref(),
            Some("s2s.mparticle.com")
        );
        for bad in [
            "app.mparticle.com",
            "https://",
            "://a.com",
            "1http://a.com",
            "https://[::1]/",
        ] {
            assert_eq!(host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn api_keys_yield_only_their_prefix() {
        assert_eq!(
            parse("api_key", "EU1-abc123"),
            Ok(LookupQuery::ApiKeyPrefix(Some("eu1".into())))
        );
        assert_eq!(
            parse("api_key", "abc123"),
            Ok(LookupQuery::ApiKeyPrefix(None))
        );
        assert_eq!(
            parse("api_key", "abc-123"),
            Ok(LookupQuery::ApiKeyPrefix(None))
        );
        for bad in ["", "has space", "tab\tkey", &"k".repeat(257)] {
            let err = parse("api_key", bad).unwrap_err().to_string();
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
    }

    #[test]
    fn arns_are_checked_part_by_part() {
        for good in [
            "arn:aws:iam::583371261087:role/verifyrequest_lambda",
            "arn:aws:lambda:eu-central-1:123456789012:function:mprx:PROD",
            "arn:aws:logs:eu-central-1:*:log-group:/aws/lambda/mpr*",
            "arn:aws:s3:::mp-forwarding-acme/*",
        ] {
            assert!(parse("arn", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "arn:aws",
            "arn:aws:iam::5833:role/x",
            "arn:aws:lambda:Frankfurt:123456789012:function:x",
            "urn:aws:iam::583371261087:role/x",
            "arn:aws:iam::583371261087:",
        ] {
            assert!(parse("arn", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn q_reads_a_value_by_the_first_rule_that_applies() {
        for (value, kind) in [
            ("https://a.com", LookupKind::Url),
            ("sftp://arn:aws@a.com", LookupKind::Url),
            ("arn:aws:s3:::b/*", LookupKind::Arn),
            ("1.2.3.4", LookupKind::Ip),
            ("1.2.3", LookupKind::Ip),
            ("12345", LookupKind::ApiKey),
            ("::1", LookupKind::Ip),
            ("fe80::1:2", LookupKind::Ip),
            ("eu-central-1", LookupKind::AwsRegion),
            ("us-gov-west-1", LookupKind::AwsRegion),
            ("eu1-abc", LookupKind::ApiKey),
            ("abc", LookupKind::ApiKey),
            ("has space", LookupKind::ApiKey),
            ("a.com", LookupKind::Host),
            ("a.com:4422", LookupKind::Host),
            ("cafe:beef.com", LookupKind::Host),
        ] {
            assert_eq!(LookupKind::detect(value), kind, "{value}");
        }
    }

    #[test]
    fn ips_and_regions_are_validated() {
        assert!(parse("ip", "::ffff:34.199.76.170").is_ok());
        assert!(parse("ip", "34.199.76").is_err());
        assert!(parse("aws_region", "eu-central-1").is_ok());
        assert!(parse("aws_region", "Frankfurt").is_err());
    }
}
