//! Checking a policy a customer already has against their pod: the bucket policy that lets
//! mParticle's two roles write a forwarding bucket, and the IAM policy that Rules use.
//!
//! - `grammar`: AWS's policy grammar, read whole, every value with its JSON pointer; what
//!   a pattern covers, and whether conditions hold for a request.
//! - `bucket`, `iam`: the rules of each check, as pure functions of the pod table and a
//!   read document, giving [`Finding`]s.
//!
//! Each finding is one fact, named by a stable rule, with the pointer of the value it is
//! about (none where something is missing) and, in its detail, what to change.

pub mod bucket;
pub mod grammar;
pub mod iam;

use serde::Serialize;

use grammar::{Document, Effect, Known, Listed, Statement, Truth, covers, holds};

/// What a finding is about. The names are the API's (`rule` in each finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    MissingPrincipal,
    ForeignPrincipal,
    MissingAction,
    WrongResource,
    WrongRegion,
    Placeholder,
    BucketName,
    Denied,
    ConditionalDeny,
    PublicWrite,
    AccountPrincipal,
    BroadAction,
    Condition,
    Version,
}

/// Whether a finding stops the policy from working (or lets others in), or is advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
}

/// One fact about a checked policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// A JSON pointer (`#/Statement/0/Principal/AWS/0`) to the value the finding is
    /// about, or `None` where it is about something missing.
    pub pointer: Option<String>,
    pub detail: String,
}

impl Finding {
    fn error(rule: Rule, pointer: Option<&str>, detail: String) -> Self {
        Self::new(rule, Severity::Error, pointer, detail)
    }

    fn warning(rule: Rule, pointer: Option<&str>, detail: String) -> Self {
        Self::new(rule, Severity::Warning, pointer, detail)
    }

    fn new(rule: Rule, severity: Severity, pointer: Option<&str>, detail: String) -> Self {
        Self {
            rule,
            severity,
            pointer: pointer.map(str::to_owned),
            detail,
        }
    }
}

/// Whether no finding is an error.
pub fn ok(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}

/// The policy language version every policy podmeta renders uses.
const VERSION: &str = "2012-10-17";

/// `version`: a missing `Version` or the old one makes AWS read `${…}` policy variables as
/// text; any other value AWS refuses outright.
fn version(document: &Document) -> Option<Finding> {
    match &document.version {
        None => Some(Finding::warning(
            Rule::Version,
            None,
            format!(
                "The policy has no Version, so AWS reads it as version 2008-10-17, without \
                 policy variables: add \"Version\": \"{VERSION}\"."
            ),
        )),
        Some(v) if v.text == VERSION => None,
        Some(v) if v.text == "2008-10-17" => Some(Finding::warning(
            Rule::Version,
            Some(&v.pointer),
            format!(
                "Version 2008-10-17 is the old policy language, without policy variables: \
                 use \"{VERSION}\"."
            ),
        )),
        Some(v) => Some(Finding::error(
            Rule::Version,
            Some(&v.pointer),
            format!(
                "{} is not a policy language version, and AWS refuses the policy: use \"{VERSION}\".",
                crate::domain::quote(&v.text)
            ),
        )),
    }
}

/// `broad-action`: each action of `statement` that is a wildcard covering one of
/// `needed`, or its `NotAction`, which allows all but a few.
fn broad_actions(statement: &Statement, needed: &[&str], findings: &mut Vec<Finding>) {
    let list = |needed: &[&str]| format!("\"{}\"", needed.join("\", \""));
    match &statement.actions {
        Listed::AllBut(_) => findings.push(Finding::warning(
            Rule::BroadAction,
            Some(&format!("{}/NotAction", statement.pointer)),
            format!(
                "NotAction allows every action but the ones it lists: use \"Action\": [{}].",
                list(needed)
            ),
        )),
        Listed::Only(actions) => {
            for action in actions.iter().filter(|a| a.text.contains(['*', '?'])) {
                let covered: Vec<&str> = needed
                    .iter()
                    .copied()
                    .filter(|n| covers(&action.text, n, true))
                    .collect();
                if !covered.is_empty() {
                    findings.push(Finding::warning(
                        Rule::BroadAction,
                        Some(&action.pointer),
                        format!(
                            "{} allows more than what is needed: list {} instead.",
                            action.text,
                            list(&covered)
                        ),
                    ));
                }
            }
        }
    }
}

/// What podmeta knows of one of mParticle's requests, as `docs/api.md` states it: the
/// keys it can tell, each with its values or absent; any other key is unknown.
pub struct Request {
    /// How a detail names whoever sends it.
    pub name: String,
    keys: Vec<(&'static str, Known)>,
}

impl Request {
    /// A request of mParticle's: over TLS, from no VPC and no AWS organisation, from an IP
    /// address that cannot be known; `principal` and `account` where they are known
    /// (a bucket policy's roles), unknown otherwise (the Rules IAM user).
    pub fn new(name: String, principal: Option<(&str, &str)>) -> Self {
        let mut keys = vec![
            ("aws:securetransport", Known::Values(vec!["true".into()])),
            ("aws:sourcevpc", Known::Absent),
            ("aws:sourcevpce", Known::Absent),
            ("aws:principalorgid", Known::Absent),
        ];
        if let Some((arn, account)) = principal {
            keys.push(("aws:principalarn", Known::Values(vec![arn.into()])));
            keys.push(("aws:principalaccount", Known::Values(vec![account.into()])));
        }
        Self { name, keys }
    }

    /// What is known of `key` (lower case) in this request.
    fn known(&self, key: &str) -> Known {
        self.keys
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(Known::Unknown, |(_, known)| known.clone())
    }

    /// Whether `statement`'s conditions hold for this request.
    fn meets(&self, statement: &Statement) -> Truth {
        holds(&statement.conditions, |key| self.known(key))
    }
}

/// `denied` and `conditional-deny`: a Deny statement that covers each of `requests` (the
/// caller has checked its principals, actions and resources), by what its conditions come
/// to for each; `what` is what it stops them doing.
fn deny(statement: &Statement, requests: &[&Request], what: &str) -> Option<Finding> {
    if statement.effect != Effect::Deny || requests.is_empty() {
        return None;
    }
    let mut unknown = Vec::new();
    let mut denied = Vec::new();
    for request in requests {
        match request.meets(statement) {
            Truth::True => denied.push(request.name.as_str()),
            Truth::Unknown => unknown.push(request.name.as_str()),
            Truth::False => {}
        }
    }
    if !denied.is_empty() {
        let why = if statement.conditions.is_empty() {
            ""
        } else {
            ", whose conditions hold for mParticle's requests,"
        };
        return Some(Finding::error(
            Rule::Denied,
            Some(&statement.pointer),
            format!(
                "This Deny{why} stops {} from {what}: narrow it so that it leaves them out, or \
                 remove it.",
                denied.join(" and ")
            ),
        ));
    }
    (!unknown.is_empty()).then(|| {
        let keys: Vec<&str> = statement
            .conditions
            .iter()
            .map(|c| c.key.as_str())
            .collect();
        Finding::warning(
            Rule::ConditionalDeny,
            Some(&format!("{}/Condition", statement.pointer)),
            format!(
                "This Deny stops {} from {what} when its conditions hold, and podmeta cannot \
                 tell whether they hold for mParticle's requests ({}): make sure they do not.",
                unknown.join(" and "),
                keys.join(", ")
            ),
        )
    })
}

/// The findings in the order a reader acts on them: errors first, each group in the order
/// of the document.
fn ordered(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| f.severity);
    findings
}
