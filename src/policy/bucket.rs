//! The rules of a forwarding bucket's policy: mParticle's two roles of the pod may put
//! objects (and their ACLs) into the bucket, and nothing lets anyone else write them.
//!
//! The statements that grant to mParticle (the pod's roles or account, or another pod's)
//! are judged; the customer's own statements, for their own principals, are left alone,
//! but for a Deny that stops mParticle and an Allow that lets anyone write.

use super::grammar::{Document, Effect, Listed, Located, Principal, Statement, Truth, covers};
use super::{Finding, Request, Rule, broad_actions, deny, ordered, version};
use crate::bucket::BucketName;
use crate::domain::{BucketPrefix, IamRoleArn, quote};
use crate::table::Pod;

/// What mParticle's roles need on the bucket's objects.
const WRITE: [&str; 2] = ["s3:PutObject", "s3:PutObjectAcl"];

/// Actions that write a bucket's objects, or its policy and ACL: what a grant to anyone
/// must not allow.
const PUBLIC_WRITE: [&str; 12] = [
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:RestoreObject",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:DeleteBucket",
];

/// Condition keys whose fixed values make a grant to `*` not public, as S3 defines it.
const NARROWING_KEYS: [&str; 11] = [
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

/// The template's placeholders.
const PLACEHOLDERS: [&str; 3] = ["{bucket}", "{arn1}", "{arn2}"];

const S3_ARN: &str = "arn:aws:s3:::";

/// The pod a policy is checked for, and the others, whose principals are the usual
/// mistake.
pub struct Pods<'a> {
    pub pod: &'a Pod,
    pub all: &'a [Pod],
    pub prefix: &'a BucketPrefix,
}

/// What the check found.
pub struct Report {
    /// The bucket the policy is for: as given, or read from its grants.
    pub bucket: Option<String>,
    /// The same, where it keeps S3's naming rules: the bucket of the expected policy.
    pub valid: Option<BucketName>,
    pub findings: Vec<Finding>,
}

/// Whose a principal is.
enum Whose<'a> {
    /// One of the pod's two roles, by its index.
    Role(usize),
    /// The pod's mParticle account, which holds both roles.
    Account,
    /// A role of other pods (by index, and so the pod's own counterpart), or their
    /// account (`None`).
    Foreign(Vec<&'a Pod>, Option<usize>),
    /// Anyone (`*`).
    Anyone,
    /// The customer's own, or a service.
    Other,
}

/// The account a principal names, if it is an account: `123456789012` or
/// `arn:aws:iam::123456789012:root`.
fn account_of(text: &str) -> Option<&str> {
    let account = text
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(text);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

fn account(pod: &Pod) -> &str {
    pod.s3.principals[0].account_id()
}

impl<'a> Pods<'a> {
    fn whose(&self, principal: &Principal) -> Whose<'a> {
        let text = match principal {
            Principal::Anyone(_) => return Whose::Anyone,
            Principal::Other(_) => return Whose::Other,
            Principal::Aws(located) => located.text.as_str(),
        };
        let own = &self.pod.s3.principals;
        if let Some(i) = own.iter().position(|r| r.as_str() == text) {
            return Whose::Role(i);
        }
        if account_of(text) == Some(account(self.pod)) {
            return Whose::Account;
        }
        let others = || self.all.iter().filter(|p| p.id() != self.pod.id());
        for i in 0..2 {
            let pods: Vec<&Pod> = others()
                .filter(|p| p.s3.principals[i].as_str() == text)
                .collect();
            if !pods.is_empty() {
                return Whose::Foreign(pods, Some(i));
            }
        }
        let pods: Vec<&Pod> = others()
            .filter(|p| account_of(text) == Some(account(p)))
            .collect();
        if pods.is_empty() {
            Whose::Other
        } else {
            Whose::Foreign(pods, None)
        }
    }

    /// Whether `principals` name the pod's role `i`: itself, its account, or anyone.
    fn reach(&self, principals: &Option<Listed<Principal>>, i: usize) -> bool {
        let names = |p: &Principal| match self.whose(p) {
            Whose::Role(j) => i == j,
            Whose::Account | Whose::Anyone => true,
            _ => false,
        };
        principals
            .as_ref()
            .is_some_and(|listed| listed.covers(names))
    }

    /// Whether `principals` name anything of mParticle's, this pod's or another's.
    fn names_mparticle(&self, principals: &Option<Listed<Principal>>) -> bool {
        let Some(Listed::Only(principals)) = principals else {
            return false;
        };
        principals.iter().any(|p| {
            matches!(
                self.whose(p),
                Whose::Role(_) | Whose::Account | Whose::Foreign(..)
            )
        })
    }

    fn role(&self, i: usize) -> &IamRoleArn {
        &self.pod.s3.principals[i]
    }

    fn name(&self) -> String {
        self.pod.id().display_name()
    }
}

/// Checks `document`, a bucket policy, for the pod of `pods`, for the bucket `given`, or
/// for the bucket its grants name.
pub fn check(pods: &Pods, given: Option<&BucketName>, document: &Document) -> Report {
    let mut findings: Vec<Finding> = version(document).into_iter().collect();
    let placeholders = placeholders(pods, document, &mut findings);
    let skip = |located: &Located| placeholders.contains(&located.pointer);
    let allows = || {
        document
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
    };
    let grants = || allows().filter(|s| pods.names_mparticle(&s.principals));

    // The bucket: as given, or the first that the grants name (any Allow's, if none does).
    let (bucket, valid) = match given {
        Some(name) => (Some(name.as_str().to_owned()), Some(name.clone())),
        None => {
            let mut named = named(grants().collect(), &skip);
            if named.is_empty() {
                named = self::named(allows().collect(), &skip);
            }
            match named.first() {
                None => (None, None),
                Some(first) => {
                    let name = bucket_of(&first.text).unwrap_or_default();
                    match BucketName::parse(pods.prefix, name) {
                        Ok(valid) => (Some(name.to_owned()), Some(valid)),
                        Err(broken) => {
                            findings.push(Finding::error(
                                Rule::BucketName,
                                Some(&first.pointer),
                                broken.sentence(),
                            ));
                            (Some(name.to_owned()), None)
                        }
                    }
                }
            }
        }
    };
    let objects = bucket.as_ref().map(|b| format!("{S3_ARN}{b}/*"));
    let covers_objects = |statement: &Statement| match &objects {
        Some(objects) => statement
            .resources
            .covers(|r| covers(&r.text, objects, false)),
        None => statement
            .resources
            .covers(|r| r.text == "*" || r.text.starts_with(S3_ARN) && r.text.contains('/')),
    };

    for statement in grants() {
        principal_findings(pods, statement, &mut findings);
        let writes = statement
            .actions
            .covers(|a| WRITE.iter().any(|w| covers(&a.text, w, true)));
        if !writes {
            continue;
        }
        broad_actions(statement, &WRITE, &mut findings);
        if !covers_objects(statement) {
            resource_findings(bucket.as_deref(), statement, &skip, &mut findings);
        } else if let Listed::Only(items) = &statement.resources {
            // Another bucket beside this one's objects is still a grant to the wrong bucket.
            for item in items.iter().filter(|r| !skip(r)) {
                if let (Some(b), Some(other)) = (&bucket, bucket_of(&item.text))
                    && other != b
                    && !covers(other, b, false)
                {
                    findings.push(other_bucket(item, other, b));
                }
            }
        }
        conditions(pods, statement, &mut findings);
    }

    // Each of the pod's roles: named, and with both actions.
    for i in 0..2 {
        let role = pods.role(i);
        let reaching: Vec<&Statement> = allows().filter(|s| pods.reach(&s.principals, i)).collect();
        let Some(first) = reaching.first() else {
            findings.push(Finding::error(
                Rule::MissingPrincipal,
                None,
                format!(
                    "{role}, one of {}'s two mParticle roles, is not allowed to write the \
                     bucket's objects: add it to the Principal's AWS list of the statement that \
                     allows s3:PutObject and s3:PutObjectAcl.",
                    pods.name()
                ),
            ));
            continue;
        };
        for action in WRITE {
            let granted = reaching
                .iter()
                .any(|s| s.actions.covers(|a| covers(&a.text, action, true)));
            if !granted {
                findings.push(Finding::error(
                    Rule::MissingAction,
                    None,
                    format!(
                        "{role} is allowed by {} but not to {action}: add \"{action}\" to that \
                         statement's Action.",
                        first.pointer.trim_start_matches("#/")
                    ),
                ));
            }
        }
    }

    // A Deny that stops the roles writing the objects.
    let requests: [Request; 2] = [0, 1].map(|i| {
        let role = pods.role(i);
        Request::new(role.to_string(), Some((role.as_str(), role.account_id())))
    });
    for statement in &document.statements {
        let writes = statement
            .actions
            .covers(|a| WRITE.iter().any(|w| covers(&a.text, w, true)));
        if statement.effect != Effect::Deny || !writes || !covers_objects(statement) {
            continue;
        }
        let covered: Vec<&Request> = (0..2)
            .filter(|&i| pods.reach(&statement.principals, i))
            .map(|i| &requests[i])
            .collect();
        findings.extend(deny(statement, &covered, "writing the bucket's objects"));
    }

    for statement in allows() {
        findings.extend(public_write(statement, bucket.as_deref()));
    }
    Report {
        bucket,
        valid,
        findings: ordered(findings),
    }
}

/// The resources of `statements` that name a bucket.
fn named<'d>(statements: Vec<&'d Statement>, skip: &dyn Fn(&Located) -> bool) -> Vec<&'d Located> {
    statements
        .into_iter()
        .filter_map(|s| match &s.resources {
            Listed::Only(items) => Some(items),
            Listed::AllBut(_) => None,
        })
        .flatten()
        .filter(|r| !skip(r) && bucket_of(&r.text).is_some())
        .collect()
}

/// The bucket an S3 ARN names, where it names one without a wildcard:
/// `arn:aws:s3:::acme/*` → `acme`.
fn bucket_of(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix(S3_ARN)?;
    let bucket = rest.split('/').next().unwrap_or(rest);
    (!bucket.is_empty() && !bucket.contains(['*', '?'])).then_some(bucket)
}

/// `placeholder`: each value that still holds one of the template's placeholders. Their
/// pointers are returned, so that no other rule reports those values too.
fn placeholders(pods: &Pods, document: &Document, findings: &mut Vec<Finding>) -> Vec<String> {
    let mut found = Vec::new();
    for statement in &document.statements {
        let principals = statement.principals.iter().flat_map(|p| p.items());
        let values = statement
            .resources
            .items()
            .iter()
            .map(|r| (r.text.as_str(), r.pointer.as_str()))
            .chain(principals.filter_map(|p| match p {
                Principal::Aws(l) | Principal::Other(l) => {
                    Some((l.text.as_str(), l.pointer.as_str()))
                }
                Principal::Anyone(_) => None,
            }));
        for (text, pointer) in values {
            let Some(placeholder) = PLACEHOLDERS.iter().find(|p| text.contains(*p)) else {
                continue;
            };
            let fill = match *placeholder {
                "{bucket}" => "your bucket's name".to_owned(),
                "{arn1}" => pods.role(0).to_string(),
                _ => pods.role(1).to_string(),
            };
            findings.push(Finding::error(
                Rule::Placeholder,
                Some(pointer),
                format!("{placeholder} is the template's placeholder, still here: put {fill} in its place."),
            ));
            found.push(pointer.to_owned());
        }
    }
    found
}

/// `foreign-principal` and `account-principal`, for each principal of a grant.
fn principal_findings(pods: &Pods, statement: &Statement, findings: &mut Vec<Finding>) {
    let Some(Listed::Only(principals)) = &statement.principals else {
        return;
    };
    let here = pods.name();
    // Whether the statement already names each role: worked out once, not per principal,
    // so that a long list costs its length and not its square.
    let present = [0, 1].map(|i| allows_reach(pods, principals, i));
    for principal in principals {
        let Principal::Aws(located) = principal else {
            continue;
        };
        match pods.whose(principal) {
            Whose::Account => findings.push(Finding::warning(
                Rule::AccountPrincipal,
                Some(&located.pointer),
                format!(
                    "{} is {here}'s whole mParticle account: it works, but trusts every role \
                     of it. Trust its two roles instead: {} and {}.",
                    located.text,
                    pods.role(0),
                    pods.role(1)
                ),
            )),
            Whose::Foreign(others, index) => {
                let names: Vec<String> = others.iter().map(|p| p.id().display_name()).collect();
                let whose = names.join("'s and ");
                let (fix, present) = match index {
                    Some(i) => (pods.role(i).to_string(), present[i]),
                    None => (
                        format!("{} and {}", pods.role(0), pods.role(1)),
                        present[0] && present[1],
                    ),
                };
                let what = if index.is_some() {
                    ""
                } else {
                    " mParticle account"
                };
                let detail = format!(
                    "{} is {whose}'s{what}; this organisation is in {here}: use {fix}",
                    located.text
                );
                findings.push(if present {
                    Finding::warning(
                        Rule::ForeignPrincipal,
                        Some(&located.pointer),
                        format!("{detail}, which is here already, and remove it."),
                    )
                } else {
                    Finding::error(Rule::ForeignPrincipal, Some(&located.pointer), detail)
                });
            }
            _ => {}
        }
    }
}

/// Whether one of `principals` names the pod's role `i` (itself, or its account).
fn allows_reach(pods: &Pods, principals: &[Principal], i: usize) -> bool {
    principals.iter().any(|p| match pods.whose(p) {
        Whose::Role(j) => i == j,
        Whose::Account => true,
        _ => false,
    })
}

/// `wrong-resource`, for a grant whose resources do not cover the bucket's objects.
fn resource_findings(
    bucket: Option<&str>,
    statement: &Statement,
    skip: &dyn Fn(&Located) -> bool,
    findings: &mut Vec<Finding>,
) {
    let Listed::Only(items) = &statement.resources else {
        return;
    };
    for item in items.iter().filter(|r| !skip(r)) {
        let text = &item.text;
        let detail = match (text.strip_prefix(S3_ARN), bucket) {
            (None, Some(b)) => format!(
                "{} is not an S3 ARN: the bucket's objects are {S3_ARN}{b}/*.",
                quote(text)
            ),
            (None, None) => format!(
                "{} is not an S3 ARN: the bucket's objects are {S3_ARN}BUCKET/*.",
                quote(text)
            ),
            (Some(rest), Some(b)) if rest == b || rest == format!("{b}/") => {
                format!("{text} is the bucket itself, not its objects: use {S3_ARN}{b}/*.")
            }
            (Some(rest), _) if !rest.contains('/') => {
                format!("{text} is a bucket, not its objects: add /* ({text}/*).")
            }
            (Some(rest), Some(b)) => match bucket_of(text) {
                Some(other) if other != b && !covers(other, b, false) => {
                    findings.push(other_bucket(item, other, b));
                    continue;
                }
                _ => format!(
                    "{} does not cover every object of {b}: use {S3_ARN}{b}/*.",
                    quote(&format!("{S3_ARN}{rest}"))
                ),
            },
            (Some(_), None) => continue,
        };
        findings.push(Finding::error(
            Rule::WrongResource,
            Some(&item.pointer),
            detail,
        ));
    }
}

fn other_bucket(item: &Located, other: &str, bucket: &str) -> Finding {
    Finding::error(
        Rule::WrongResource,
        Some(&item.pointer),
        format!(
            "{} is bucket {other}'s; this policy is for {bucket}: use {S3_ARN}{bucket}/*. A \
             bucket's policy grants on that bucket alone.",
            item.text
        ),
    )
}

/// `condition`: a grant to the pod's roles that carries conditions. An error where they
/// do not hold for mParticle's requests, a warning where podmeta cannot tell.
fn conditions(pods: &Pods, statement: &Statement, findings: &mut Vec<Finding>) {
    if statement.conditions.is_empty() {
        return;
    }
    let mut worst = Truth::True;
    for i in 0..2 {
        if !pods.reach(&statement.principals, i) {
            continue;
        }
        let role = pods.role(i);
        let request = Request::new(role.to_string(), Some((role.as_str(), role.account_id())));
        match request.meets(statement) {
            Truth::False => worst = Truth::False,
            Truth::Unknown if worst == Truth::True => worst = Truth::Unknown,
            _ => {}
        }
    }
    let pointer = format!("{}/Condition", statement.pointer);
    let keys: Vec<&str> = statement
        .conditions
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    let keys = keys.join(", ");
    match worst {
        Truth::False => findings.push(Finding::error(
            Rule::Condition,
            Some(&pointer),
            format!(
                "This grant's conditions ({keys}) do not hold for mParticle's requests, so it \
                 allows them nothing: remove them."
            ),
        )),
        Truth::Unknown => findings.push(Finding::warning(
            Rule::Condition,
            Some(&pointer),
            format!(
                "This grant holds only when its conditions ({keys}) do, which podmeta cannot \
                 tell for mParticle's requests: if writes fail, remove them."
            ),
        )),
        Truth::True => {}
    }
}

/// `public-write`: an Allow to anyone that writes the bucket, not narrowed by a condition
/// with fixed values on a key that S3 counts as narrowing.
fn public_write(statement: &Statement, bucket: Option<&str>) -> Option<Finding> {
    let anyone = match &statement.principals {
        Some(Listed::Only(principals)) => principals
            .iter()
            .find(|p| matches!(p, Principal::Anyone(_)))
            .map(|p| p.pointer().to_owned())?,
        Some(Listed::AllBut(_)) => format!("{}/NotPrincipal", statement.pointer),
        None => return None,
    };
    let writes: Vec<&str> = PUBLIC_WRITE
        .iter()
        .copied()
        .filter(|w| statement.actions.covers(|a| covers(&a.text, w, true)))
        .collect();
    if writes.is_empty() {
        return None;
    }
    let on_bucket = statement.resources.covers(|r| match bucket {
        Some(b) => {
            covers(&r.text, &format!("{S3_ARN}{b}/*"), false)
                || covers(&r.text, &format!("{S3_ARN}{b}"), false)
        }
        None => r.text == "*" || r.text.starts_with(S3_ARN),
    });
    if !on_bucket || narrowed(statement) {
        return None;
    }
    Some(Finding::error(
        Rule::PublicWrite,
        Some(&anyone),
        format!(
            "This lets anyone on the internet {}: name the principals instead of *, or narrow \
             it with a condition on aws:PrincipalArn, aws:PrincipalAccount or aws:SourceVpce.",
            writes.join(", ")
        ),
    ))
}

/// Whether a condition with fixed values on a narrowing key limits who the statement is
/// for, as S3 judges a policy not public.
fn narrowed(statement: &Statement) -> bool {
    statement.conditions.iter().any(|c| {
        let key = c.key.to_ascii_lowercase();
        let operator = c
            .operator
            .split_once(':')
            .map_or(c.operator.as_str(), |(_, op)| op);
        let fixed_operator = matches!(
            operator,
            "StringEquals"
                | "StringEqualsIgnoreCase"
                | "StringLike"
                | "ArnEquals"
                | "ArnLike"
                | "IpAddress"
        );
        let fixed_values = !c.values.is_empty()
            && c.values.iter().all(|v| {
                let broad_range = key == "aws:sourceip"
                    && v.split_once('/')
                        .is_some_and(|(_, bits)| bits.parse::<u8>().is_ok_and(|b| b < 8));
                !v.contains(['*', '?']) && !broad_range
            });
        NARROWING_KEYS.contains(&key.as_str()) && fixed_operator && fixed_values
    })
}
