//! S3 forwarding-bucket names: the rules a name must keep, each reported on its own.
//!
//! A person who types a bucket name wants to hear every rule it breaks at once, not one
//! per attempt, so validation returns the full list of broken rules.

use std::fmt;

use serde::Serialize;

use crate::domain::quote;
use crate::domain::{BucketPrefix, is_bucket_byte};

/// A bucket name that keeps every S3 naming rule and begins with the forwarding prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(Box<str>);

impl BucketName {
    /// Checks `name` against every rule; the error lists each rule it breaks, in the
    /// order of [`BucketRule`].
    pub fn parse(prefix: &BucketPrefix, name: &str) -> Result<Self, InvalidBucketName> {
        let broken = broken_rules(prefix, name);
        if broken.is_empty() {
            Ok(Self(name.into()))
        } else {
            Err(InvalidBucketName {
                given: quote(name),
                prefix: prefix.clone(),
                rules: broken,
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bucket name that was refused, with every rule it breaks. It becomes a 422 whose
/// `errors` name each rule at `#/bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBucketName {
    /// The name as given, quoted and cut.
    pub(crate) given: String,
    pub(crate) prefix: BucketPrefix,
    pub rules: Vec<BucketRule>,
}

impl InvalidBucketName {
    /// Every rule the name breaks, in a sentence.
    pub fn sentence(&self) -> String {
        let n = self.rules.len();
        let sentences: Vec<String> = self
            .rules
            .iter()
            .map(|r| r.describe(&self.prefix))
            .collect();
        format!(
            "The bucket name {} breaks {n} rule{}: {}.",
            self.given,
            if n == 1 { "" } else { "s" },
            sentences.join("; ")
        )
    }
}

/// One naming rule of S3 general-purpose buckets, or of mParticle's forwarding buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BucketRule {
    /// 3 to 63 characters.
    Length,
    /// Only lower-case letters, digits, `.` and `-`.
    Characters,
    /// Begins and ends with a letter or a digit.
    Ends,
    /// No two adjacent periods.
    AdjacentPeriods,
    /// Not formatted like an IPv4 address.
    IpAddressShape,
    /// None of the prefixes that S3 reserves.
    ReservedPrefix,
    /// None of the suffixes that S3 reserves.
    ReservedSuffix,
    /// Begins with the forwarding prefix (`mp-forwarding-`); carried separately because
    /// its text comes from the table.
    ForwardingPrefix,
}

/// Prefixes S3 reserves for its own use.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
/// Suffixes S3 reserves for access points, Object Lambda, Multi-Region access points,
/// directory buckets and S3 Tables buckets.
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

impl BucketRule {
    /// The rule in a sentence, for error details.
    pub fn describe(self, prefix: &BucketPrefix) -> String {
        match self {
            Self::Length => "must be 3 to 63 characters long".into(),
            Self::Characters => "may contain only lower-case letters, digits, '.' and '-'".into(),
            Self::Ends => "must begin and end with a lower-case letter or a digit".into(),
            Self::AdjacentPeriods => "must not contain two adjacent periods ('..')".into(),
            Self::IpAddressShape => {
                "must not be formatted as an IP address (like 192.168.5.4)".into()
            }
            Self::ReservedPrefix => format!(
                "must not begin with a reserved prefix ({})",
                RESERVED_PREFIXES.join(", ")
            ),
            Self::ReservedSuffix => format!(
                "must not end with a reserved suffix ({})",
                RESERVED_SUFFIXES.join(", ")
            ),
            Self::ForwardingPrefix => format!("must begin with '{prefix}'"),
        }
    }
}

impl fmt::Display for BucketRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(f)
    }
}

fn broken_rules(prefix: &BucketPrefix, name: &str) -> Vec<BucketRule> {
    let b = name.as_bytes();
    let is_end = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let checks = [
        // Counted in characters, as the rule says: a name with a non-ASCII letter breaks
        // the character rule, not this one too.
        (BucketRule::Length, (3..=63).contains(&name.chars().count())),
        (BucketRule::Characters, b.iter().all(|&c| is_bucket_byte(c))),
        (BucketRule::Ends, is_end(b.first()) && is_end(b.last())),
        (BucketRule::AdjacentPeriods, !name.contains("..")),
        (BucketRule::IpAddressShape, !looks_like_ipv4(name)),
        (
            BucketRule::ReservedPrefix,
            !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)),
        ),
        (
            BucketRule::ReservedSuffix,
            !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s)),
        ),
        (
            BucketRule::ForwardingPrefix,
            name.starts_with(prefix.as_str()),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(rule, kept)| (!kept).then_some(rule))
        .collect()
}

/// Four dot-separated groups of 1 to 3 digits, like `192.168.5.4`: S3 refuses that shape
/// whatever the numbers are.
fn looks_like_ipv4(name: &str) -> bool {
    let groups: Vec<&str> = name.split('.').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| (1..=3).contains(&g.len()) && g.bytes().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use BucketRule::*;

    fn prefix() -> BucketPrefix {
        "mp-forwarding-".parse().unwrap()
    }

    fn broken(name: &str) -> Vec<BucketRule> {
        BucketName::parse(&prefix(), name)
            .err()
            .map(|e| e.rules)
            .unwrap_or_default()
    }

    #[test]
    fn a_forwarding_bucket_name_is_accepted_as_given() {
        let name = BucketName::parse(&prefix(), "mp-forwarding-acme.prod-1").unwrap();
        assert_eq!(name.as_str(), "mp-forwarding-acme.prod-1");
    }

    #[test]
    fn each_s3_rule_is_reported_on_its_own() {
        assert_eq!(
            broken(&format!("mp-forwarding-{}", "a".repeat(50))),
            [Length]
        );
        assert_eq!(broken("mp-forwarding-Acme"), [Characters]);
        // 39 characters, 53 bytes: only the characters are wrong.
        let accented = format!("mp-forwarding-{}", "é".repeat(14) + "abcdefghijk");
        assert_eq!((accented.chars().count(), accented.len()), (39, 53));
        assert_eq!(broken(&accented), [Characters]);
        // 45 characters, 75 bytes.
        let wide = format!("mp-forwarding-{}a", "é".repeat(30));
        assert_eq!(broken(&wide), [Characters]);
        let too_long = format!("mp-forwarding-{}a", "é".repeat(49));
        assert_eq!(broken(&too_long), [Length, Characters]);
        assert_eq!(broken("mp-forwarding-acme_1"), [Characters]);
        assert_eq!(broken("mp-forwarding-acme-"), [Ends]);
        assert_eq!(broken("mp-forwarding-a..b"), [AdjacentPeriods]);
        assert_eq!(broken("mp-forwarding-acme-s3alias"), [ReservedSuffix]);
        assert_eq!(broken("mp-forwarding-acme--ol-s3"), [ReservedSuffix]);
        assert_eq!(broken("mp-forwarding-acme.mrap"), [ReservedSuffix]);
        assert_eq!(broken("mp-forwarding-acme--x-s3"), [ReservedSuffix]);
        assert_eq!(broken("mp-forwarding-acme--table-s3"), [ReservedSuffix]);
        assert_eq!(broken("acme"), [ForwardingPrefix]);
    }

    #[test]
    fn rules_that_the_prefix_hides_are_still_checked() {
        // With the prefix in force these can't arise, but the rules are S3's own and a table
        // may carry another prefix.
        let any: BucketPrefix = "a".parse().unwrap();
        let check = |n: &str| {
            BucketName::parse(&any, n)
                .err()
                .map(|e| e.rules)
                .unwrap_or_default()
        };
        assert_eq!(check("a.1.2.3"), []);
        let none: BucketPrefix = "1".parse().unwrap();
        assert_eq!(
            BucketName::parse(&none, "192.168.5.4").unwrap_err().rules,
            [IpAddressShape]
        );
        let xn: BucketPrefix = "x".parse().unwrap();
        assert_eq!(
            BucketName::parse(&xn, "xn--acme").unwrap_err().rules,
            [ReservedPrefix]
        );
        assert_eq!(
            BucketName::parse(&any, "amzn-s3-demo-x").unwrap_err().rules,
            [ReservedPrefix]
        );
    }

    #[test]
    fn every_broken_rule_is_listed_at_once() {
        assert_eq!(broken(""), [Length, Ends, ForwardingPrefix]);
        assert_eq!(
            broken("-X..y"),
            [Characters, Ends, AdjacentPeriods, ForwardingPrefix]
        );
    }

    #[test]
    fn rules_have_stable_kebab_case_names() {
        assert_eq!(AdjacentPeriods.to_string(), "adjacent-periods");
        assert_eq!(ForwardingPrefix.to_string(), "forwarding-prefix");
    }
}
