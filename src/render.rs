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

/// The S3 bucket policy of the source page's template, filled in: one statement per
/// principal, in the template's order and key order, letting it put objects (and their
/// ACLs) into `bucket`.
///
/// Indented with four spaces like the template, so that the output is the template's
/// text with its placeholders replaced, byte for byte, plus a final newline.
pub fn bucket_policy(principals: &[IamRoleArn; 2], bucket: &BucketName, style: Style) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Policy<'a> {
        version: &'static str,
        statement: [Statement<'a>; 2],
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Statement<'a> {
        action: [&'static str; 2],
        effect: &'static str,
        resource: &'a str,
        principal: Principal<'a>,
    }
    #[derive(Serialize)]
    struct Principal<'a> {
        #[serde(rename = "AWS")]
        aws: [&'a str; 1],
    }

    fn statement<'a>(resource: &'a str, principal: &'a IamRoleArn) -> Statement<'a> {
        Statement {
            action: ["s3:PutObject", "s3:PutObjectAcl"],
            effect: "Allow",
            resource,
            principal: Principal {
                aws: [principal.as_str()],
            },
        }
    }

    let resource = format!("arn:aws:s3:::{}/*", bucket.as_str());
    let [arn1, arn2] = principals;
    to_json(
        &Policy {
            version: POLICY_VERSION,
            statement: [statement(&resource, arn1), statement(&resource, arn2)],
        },
        style,
        b"    ",
    )
}

/// The IAM policy that mParticle's Rules need in a region, exactly as documented: three
/// statements (logs, metrics, Lambda) with the documented actions in the documented
/// order. Ready for `aws iam put-user-policy --policy-document file://…`.
pub fn iam_policy(region: &AwsRegion, prefix: &LambdaFunctionName, style: Style) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Policy {
        version: &'static str,
        statement: [Statement; 3],
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Statement {
        sid: &'static str,
        effect: &'static str,
        action: &'static [&'static str],
        resource: [String; 1],
    }

    let [logs, lambda] = iam_resources(region, prefix);
    let statement = |sid, action, resource| Statement {
        sid,
        effect: "Allow",
        action,
        resource: [resource],
    };
    to_json(
        &Policy {
            version: POLICY_VERSION,
            statement: [
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
            ],
        },
        style,
        b"  ",
    )
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
