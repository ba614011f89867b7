//! Rendering: the documents and identifiers that follow from a pod's facts by convention.
//!
//! Plain functions over domain types, free of HTTP, so that each can be tested against
//! the documented text on its own. Handlers only call them.

use serde::Serialize;

use crate::bucket::BucketName;
use crate::domain::{AccountId, AwsRegion, IamRoleArn, LambdaAlias, LambdaFunctionName};
use crate::json::{Style, to_json};

/// The IAM policy language version every policy here uses.
const POLICY_VERSION: &str = "2012-10-17";

/// The two IAM resources Rules need in a region: the log groups and the functions of every
/// Lambda whose name begins with `prefix`, in the order the source page lists them.
pub fn iam_resources(region: &AwsRegion, prefix: &LambdaFunctionName) -> [String; 2] {
    [
        format!("arn:aws:logs:{region}:*:log-group:/aws/lambda/{prefix}*"),
        format!("arn:aws:lambda:{region}:*:function:{prefix}*"),
    ]
}

/// The ARN of a Rules Lambda function qualified by an alias.
pub fn lambda_arn(
    region: &AwsRegion,
    account: &AccountId,
    function: &LambdaFunctionName,
    alias: &LambdaAlias,
) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{function}:{alias}")
}

/// One statement of a policy podmeta renders, as every form of the policy holds it: the
/// JSON, the Terraform and the CloudFormation are each written from these. The effect is
/// always `Allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub sid: Option<&'static str>,
    pub actions: &'static [&'static str],
    pub resource: String,
    /// The AWS principal a bucket policy's statement grants; none in an identity policy.
    pub principal: Option<&'a IamRoleArn>,
}

/// Every statement's effect.
pub const EFFECT: &str = "Allow";

/// The bucket policy's statements: one per principal, in the template's order, letting it
/// put objects (and their ACLs) into `bucket`.
pub fn bucket_policy_statements<'a>(
    principals: &'a [IamRoleArn; 2],
    bucket: &BucketName,
) -> [Statement<'a>; 2] {
    let resource = format!("arn:aws:s3:::{}/*", bucket.as_str());
    principals.each_ref().map(|principal| Statement {
        sid: None,
        actions: &["s3:PutObject", "s3:PutObjectAcl"],
        resource: resource.clone(),
        principal: Some(principal),
    })
}

/// A policy document as podmeta writes it: `Version`, then the statements, each in the
/// key order of the document it renders.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy<S> {
    version: &'static str,
    statement: Vec<S>,
}

/// A statement of the bucket policy, in the template's key order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketStatement<'a> {
    action: &'static [&'static str],
    effect: &'static str,
    resource: String,
    principal: AwsPrincipal<'a>,
}

#[derive(Debug, Serialize)]
pub struct AwsPrincipal<'a> {
    #[serde(rename = "AWS")]
    aws: [&'a str; 1],
}

/// The S3 bucket policy of the source page's template, filled in
/// ([`bucket_policy_statements`]), as a value: what [`bucket_policy`] writes.
pub fn bucket_policy_document<'a>(
    principals: &'a [IamRoleArn; 2],
    bucket: &BucketName,
) -> Policy<BucketStatement<'a>> {
    let statement = bucket_policy_statements(principals, bucket)
        .into_iter()
        .map(|s| BucketStatement {
            action: s.actions,
            effect: EFFECT,
            resource: s.resource,
            principal: AwsPrincipal {
                aws: [s.principal.map_or("", IamRoleArn::as_str)],
            },
        })
        .collect();
    Policy {
        version: POLICY_VERSION,
        statement,
    }
}

/// The S3 bucket policy of the source page's template, filled in, in the template's key
/// order.
///
/// Indented with four spaces like the template, so that the output is the template's
/// text with its placeholders replaced, byte for byte, plus a final newline.
pub fn bucket_policy(principals: &[IamRoleArn; 2], bucket: &BucketName, style: Style) -> String {
    to_json(&bucket_policy_document(principals, bucket), style, b"    ")
}

/// The statements of the IAM policy that mParticle's Rules need in a region, exactly as
/// documented: logs, metrics and Lambda, with the documented actions in the documented
/// order.
pub fn iam_policy_statements(
    region: &AwsRegion,
    prefix: &LambdaFunctionName,
) -> [Statement<'static>; 3] {
    let [logs, lambda] = iam_resources(region, prefix);
    let statement = |sid, actions, resource| Statement {
        sid: Some(sid),
        actions,
        resource,
        principal: None,
    };
    [
        statement(
            "mpRulesLogs",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:FilterLogEvents",
                "logs:PutLogEvents",
            ],
            logs,
        ),
        statement(
            "mpRulesMetrics",
            &["cloudwatch:GetMetricStatistics"],
            "*".into(),
        ),
        statement(
            "mpRulesLambda",
            &["lambda:InvokeFunction", "lambda:GetAlias"],
            lambda,
        ),
    ]
}

/// A statement of the Rules IAM policy, in the documented key order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamStatement {
    sid: &'static str,
    effect: &'static str,
    action: &'static [&'static str],
    resource: [String; 1],
}

/// The IAM policy that mParticle's Rules need in a region ([`iam_policy_statements`]),
/// as a value: what [`iam_policy`] writes.
pub fn iam_policy_document(
    region: &AwsRegion,
    prefix: &LambdaFunctionName,
) -> Policy<IamStatement> {
    let statement = iam_policy_statements(region, prefix)
        .into_iter()
        .map(|s| IamStatement {
            sid: s.sid.unwrap_or_default(),
            effect: EFFECT,
            action: s.actions,
            resource: [s.resource],
        })
        .collect();
    Policy {
        version: POLICY_VERSION,
        statement,
    }
}

/// The IAM policy that Rules need, in the documented key order. Ready for
/// `aws iam put-user-policy --policy-document file://…`.
pub fn iam_policy(region: &AwsRegion, prefix: &LambdaFunctionName, style: Style) -> String {
    to_json(&iam_policy_document(region, prefix), style, b"  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region() -> AwsRegion {
        "eu-central-1".parse().unwrap()
    }

    #[test]
    fn iam_resources_follow_the_page_for_the_region() {
        let [logs, lambda] = iam_resources(&region(), &"mpr".parse().unwrap());
        assert_eq!(
            logs,
            "arn:aws:logs:eu-central-1:*:log-group:/aws/lambda/mpr*"
        );
        assert_eq!(lambda, "arn:aws:lambda:eu-central-1:*:function:mpr*");
    }

    #[test]
    fn lambda_arns_have_the_documented_shape() {
        let arn = lambda_arn(
            &region(),
            &"999999999999".parse().unwrap(),
            &"mprmylambdafunction".parse().unwrap(),
            &"$LATEST".parse().unwrap(),
        );
        assert_eq!(
            arn,
            "arn:aws:lambda:eu-central-1:999999999999:function:mprmylambdafunction:$LATEST"
        );
    }

    #[test]
    fn a_bucket_policy_is_valid_json_naming_the_bucket_and_both_principals() {
        let principals = [
            "arn:aws:iam::111111111111:role/a".parse().unwrap(),
            "arn:aws:iam::111111111111:role/b".parse().unwrap(),
        ];
        let bucket =
            BucketName::parse(&"mp-forwarding-".parse().unwrap(), "mp-forwarding-x").unwrap();
        let policy: serde_json::Value =
            serde_json::from_str(&bucket_policy(&principals, &bucket, Style::Pretty)).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        for (statement, role) in statements.iter().zip(["a", "b"]) {
            assert_eq!(statement["Resource"], "arn:aws:s3:::mp-forwarding-x/*");
            assert_eq!(
                statement["Principal"]["AWS"][0],
                format!("arn:aws:iam::111111111111:role/{role}")
            );
        }
    }
}
