//! The rules of the IAM policy that mParticle's Rules use: each action of
//! `GET /pods/{pod}/rules/iam-policy` on its resource, in the pod's region, on the
//! functions (and their log groups) whose names begin with the Rules prefix.
//!
//! A grant counts where its resource covers the rendered one, or names some of its
//! functions (`function:mprmyrule`), in any account: the functions are the customer's.

use super::grammar::{Document, Effect, Listed, Located, Statement, covers};
use super::{Finding, Request, Rule, broad_actions, deny, ordered, version};
use crate::domain::LambdaFunctionName;
use crate::render;
use crate::table::Pod;

/// One action Rules need, on its resource.
struct Need {
    action: &'static str,
    resource: String,
}

/// An ARN's parts: `arn:PARTITION:SERVICE:REGION:ACCOUNT:REST`.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    rest: &'a str,
}

fn arn(text: &str) -> Option<Arn<'_>> {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(_), Some(service), Some(region), Some(_), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(Arn {
        service,
        region,
        rest,
    })
}

/// Whether the resource pattern `pattern` grants on `needed`: it covers it, or names, in
/// the same service and region, some of what it covers (`function:mprmyrule` within
/// `function:mpr*`), in any account.
fn grants(pattern: &str, needed: &str) -> bool {
    if covers(pattern, needed, false) {
        return true;
    }
    let (Some(p), Some(n)) = (arn(pattern), arn(needed)) else {
        return false;
    };
    let stem = n.rest.trim_end_matches('*');
    covers(p.service, n.service, false)
        && covers(p.region, n.region, false)
        && (covers(p.rest, n.rest, false) || (stem != n.rest && p.rest.starts_with(stem)))
}

/// Checks `document`, the Rules IAM policy, for `pod` of the table's `pods`.
pub fn check(
    pod: &Pod,
    pods: &[Pod],
    prefix: &LambdaFunctionName,
    document: &Document,
) -> Vec<Finding> {
    let region = &pod.aws_region;
    let needs: Vec<Need> = render::iam_policy_statements(region, prefix)
        .into_iter()
        .flat_map(|s| {
            s.actions.iter().map(move |&action| Need {
                action,
                resource: s.resource.clone(),
            })
        })
        .collect();
    let actions: Vec<&str> = needs.iter().map(|n| n.action).collect();
    let mut findings: Vec<Finding> = version(document).into_iter().collect();
    let allows = || {
        document
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
    };
    let covers_action =
        |s: &Statement, action: &str| s.actions.covers(|a| covers(&a.text, action, true));

    for statement in allows() {
        let wanted: Vec<&Need> = needs
            .iter()
            .filter(|n| covers_action(statement, n.action))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        broad_actions(statement, &actions, &mut findings);
        let Listed::Only(items) = &statement.resources else {
            continue;
        };
        let mut any = false;
        for item in items {
            if wanted.iter().any(|n| grants(&item.text, &n.resource)) {
                any = true;
            } else if let Some(finding) = misplaced_resource(item, &wanted, pod, pods, prefix) {
                findings.push(finding);
            }
        }
        // Resources that each grant something, but not what one of the actions needs.
        let unmet: Vec<&Need> = wanted
            .iter()
            .copied()
            .filter(|n| !items.iter().any(|r| grants(&r.text, &n.resource)))
            .collect();
        if any && !unmet.is_empty() {
            let (names, resources) = describe(&unmet);
            findings.push(Finding::error(
                Rule::WrongResource,
                Some(&format!("{}/Resource", statement.pointer)),
                format!(
                    "This statement allows {names}, but on none of the resources it needs: add \
                     {resources} to its Resource, or move the actions to the statement that has it."
                ),
            ));
        }
    }

    for need in &needs {
        if !allows().any(|s| covers_action(s, need.action)) {
            findings.push(Finding::error(
                Rule::MissingAction,
                None,
                format!(
                    "{} is not allowed: add it to the Action of a statement whose Resource is {}.",
                    need.action, need.resource
                ),
            ));
        }
    }

    let request = Request::new("the Rules user".into(), None);
    for statement in &document.statements {
        let stopped: Vec<&str> = needs
            .iter()
            .filter(|n| {
                covers_action(statement, n.action)
                    && statement
                        .resources
                        .covers(|r| grants(&r.text, &n.resource) || grants(&n.resource, &r.text))
            })
            .map(|n| n.action)
            .collect();
        if stopped.is_empty() {
            continue;
        }
        let what = format!("calling {}", stopped.join(", "));
        findings.extend(deny(statement, &[&request], &what));
    }
    ordered(findings)
}

/// The actions of `needs`, and their resources, in words.
fn describe(needs: &[&Need]) -> (String, String) {
    let names: Vec<&str> = needs.iter().map(|n| n.action).collect();
    let mut resources: Vec<&str> = needs.iter().map(|n| n.resource.as_str()).collect();
    resources.dedup();
    (names.join(", "), resources.join(" and "))
}

/// `wrong-region` or `wrong-resource`, for a resource of a grant that grants none of what
/// its actions need.
fn misplaced_resource(
    item: &Located,
    wanted: &[&Need],
    pod: &Pod,
    pods: &[Pod],
    prefix: &LambdaFunctionName,
) -> Option<Finding> {
    let region = &pod.aws_region;
    let here = format!("{} ({region})", pod.id().display_name());
    let (names, resources) = describe(wanted);
    if wanted.iter().all(|n| n.resource == "*") {
        return Some(Finding::error(
            Rule::WrongResource,
            Some(&item.pointer),
            format!(
                "{} takes no resource of its own, so AWS allows it on \"*\" only: use \"*\" in place of {}.",
                names,
                crate::domain::quote(&item.text)
            ),
        ));
    }
    let Some(parts) = arn(&item.text) else {
        return Some(Finding::error(
            Rule::WrongResource,
            Some(&item.pointer),
            format!(
                "{} is not an ARN: use {resources}.",
                crate::domain::quote(&item.text)
            ),
        ));
    };
    let same_service: Vec<&Need> = wanted
        .iter()
        .copied()
        .filter(|n| arn(&n.resource).is_some_and(|a| a.service == parts.service))
        .collect();
    if let Some(need) = same_service.first() {
        let literal = !parts.region.contains(['*', '?']);
        if literal && parts.region != region.as_str() {
            let fixed = need.resource.clone();
            let users: Vec<String> = pods
                .iter()
                .filter(|p| p.aws_region.as_str() == parts.region)
                .map(|p| p.id().display_name())
                .collect();
            let whose = match users.as_slice() {
                [] => format!("{} is no pod's region", parts.region),
                users => format!("{} is {}'s region", parts.region, users.join("'s and ")),
            };
            return Some(Finding::error(
                Rule::WrongRegion,
                Some(&item.pointer),
                format!("{whose}; this organisation is in {here}: use {fixed}"),
            ));
        }
        let (_, resources) = describe(&same_service);
        return Some(Finding::error(
            Rule::WrongResource,
            Some(&item.pointer),
            format!(
                "{} is not the Rules functions (or their log groups), whose names begin with \
                 {prefix}: use {resources}.",
                item.text
            ),
        ));
    }
    Some(Finding::error(
        Rule::WrongResource,
        Some(&item.pointer),
        format!(
            "{} is another service's: these actions need {resources}.",
            item.text
        ),
    ))
}
