//! The documents on the command line, with no server: `podmeta pods`, `podmeta get`,
//! `podmeta bucket-policy`, … (the rest of the command line is in `cli`).
//!
//! Each [`Command`] names a route and its inputs; [`Command::answer`] asks the catalog the
//! same question the route's handler does. So a command prints exactly the body of its
//! route, and fails with exactly its problem.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Subcommand};

use crate::catalog::{Catalog, Checked, Part, render_json};
use crate::iac::Format;
use crate::json::Style;
use crate::lookup::{LookupKind, LookupQuery};
use crate::problem::ApiError;

/// One question, as its route would be asked it. Pods are given as typed, in any letter
/// case, and checked by the catalog, as a path's `{pod}` is.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every pod: the body of GET /pods.
    #[command(after_help = "Example:\n  podmeta pods --compact")]
    Pods {
        #[command(flatten)]
        output: Output,
    },
    /// Print everything about a pod, or one part of it: the body of GET /pods/{pod}[/PART].
    #[command(after_help = "Examples:\n  podmeta get eu1\n  podmeta get EU1 sftp")]
    Get {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// One part of the pod.
        #[arg(value_enum)]
        part: Option<Part>,
        #[command(flatten)]
        output: Output,
    },
    /// Print the S3 bucket policy for a forwarding bucket: the body of
    /// POST /pods/{pod}/bucket-policy.
    #[command(
        after_help = "Examples:\n  podmeta bucket-policy eu1 --bucket mp-forwarding-acme > policy.json\n  aws s3api put-bucket-policy --bucket mp-forwarding-acme --policy file://policy.json\n  podmeta bucket-policy eu1 --bucket mp-forwarding-acme --format terraform > mparticle-eu1-bucket-policy.tf"
    )]
    BucketPolicy {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// The bucket's name: it begins with mp-forwarding- and keeps S3's naming rules.
        #[arg(long)]
        bucket: String,
        /// The form to print: the policy's JSON, or Terraform or CloudFormation that
        /// applies it.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[command(flatten)]
        output: Output,
    },
    /// Print the IAM policy that Rules need in the pod's region: the body of
    /// GET /pods/{pod}/rules/iam-policy.
    #[command(
        after_help = "Examples:\n  podmeta iam-policy eu1 > iam-policy.json\n  podmeta iam-policy eu1 --format cloudformation > mparticle-eu1-rules-iam.yaml"
    )]
    IamPolicy {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// The form to print: the policy's JSON, or Terraform or CloudFormation that
        /// applies it.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[command(flatten)]
        output: Output,
    },
    /// Print the ARN of a Rules Lambda function: the body of
    /// GET /pods/{pod}/rules/lambda-arn.
    #[command(
        after_help = "Examples:\n  podmeta lambda-arn eu1 --account-id 123456789012 --function mprmyrule --alias PROD\n  podmeta lambda-arn eu1 --account-id 123456789012 --function mprmyrule --alias '$LATEST' --raw"
    )]
    LambdaArn {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// The 12-digit AWS account that holds the function.
        #[arg(long)]
        account_id: String,
        /// The function's name: it begins with mpr.
        #[arg(long)]
        function: String,
        /// PROD or '$LATEST' (quoted, so that the shell leaves it alone).
        #[arg(long)]
        alias: String,
        /// Print the bare ARN, not JSON.
        #[arg(long, conflicts_with_all = ["compact", "json"])]
        raw: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Print how to point each server SDK at the pod: the body of GET /pods/{pod}/sdks;
    /// with --sdk, that SDK's entry of it; with --snippet too, its snippet as plain text.
    #[command(
        after_help = "Examples:\n  podmeta sdks eu1\n  podmeta sdks eu1 --sdk python\n  podmeta sdks eu1 --sdk python --snippet > configure_mparticle.py"
    )]
    Sdks {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// One server SDK, in any letter case (go, java, node, python or ruby): its entry.
        #[arg(long)]
        sdk: Option<String>,
        /// Print the SDK's snippet alone, as plain text (needs --sdk).
        #[arg(long, requires = "sdk", conflicts_with = "compact")]
        snippet: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Check a bucket policy you already have against the pod: the body of
    /// POST /pods/{pod}/bucket-policy/check. Exit 0 when no finding is an error, 3 when one
    /// is (the answer is on stdout either way); 1 when the file is missing, is not JSON or
    /// is not a policy, or the pod is unknown, with nothing on stdout.
    #[command(
        after_help = "Examples:\n  aws s3api get-bucket-policy --bucket mp-forwarding-acme --query Policy --output text > policy.json\n  podmeta check-bucket-policy eu1 policy.json\n  aws s3api get-bucket-policy --bucket mp-forwarding-acme --query Policy --output text | podmeta check-bucket-policy eu1 - --bucket mp-forwarding-acme\n\nThe policy is read from FILE, or from stdin if FILE is - or not given, up to 64 KiB."
    )]
    CheckBucketPolicy {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// The policy's JSON file, or - for stdin.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// The bucket the policy is for; without it, the first bucket its grants name.
        #[arg(long)]
        bucket: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Check the IAM policy that your Rules use against the pod: the body of
    /// POST /pods/{pod}/rules/iam-policy/check. Exit codes as for check-bucket-policy.
    #[command(
        after_help = "Examples:\n  aws iam get-user-policy --user-name rules --policy-name mparticle-rules --query PolicyDocument > iam.json\n  podmeta check-iam-policy eu1 iam.json\n\nThe policy is read from FILE, or from stdin if FILE is - or not given, up to 64 KiB."
    )]
    CheckIamPolicy {
        /// The pod, in any letter case (us1, us2, eu1, au1 in the built-in table).
        #[arg(value_parser = PodArg, hide_possible_values = true)]
        pod: String,
        /// The policy's JSON file, or - for stdin.
        #[arg(default_value = "-")]
        file: PathBuf,
        #[command(flatten)]
        output: Output,
    },
    /// Say which pod a host, URL, IP, API key, AWS region or ARN is in: the body of
    /// GET /lookup?q=VALUE. Give - to read the value from stdin, so that an API key stays
    /// out of the shell's history and of ps.
    #[command(
        after_help = "Examples:\n  podmeta lookup sftp.eu1.mparticle.com\n  podmeta lookup --as ip 52.45.156.86\n  printf '%s' \"$API_KEY\" | podmeta lookup -"
    )]
    Lookup {
        /// The value, or - to read it from stdin.
        value: String,
        /// Read the value as this kind rather than work it out.
        #[arg(long = "as", value_name = "KIND", value_parser = ["host", "url", "ip", "api_key", "aws_region", "arn"])]
        kind: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

/// Where a document command reads the table from, and how it prints.
#[derive(Debug, Args)]
pub struct Output {
    /// The pod table to answer from instead of the one compiled in.
    #[arg(long, env = "PODMETA_CONFIG")]
    pub config: Option<PathBuf>,
    /// One-line JSON, for scripts.
    #[arg(long)]
    pub compact: bool,
    /// On failure, write the problem as problem+json (RFC 9457) to stderr.
    #[arg(long)]
    pub json: bool,
}

/// A pod argument: any text (the table may be another than the compiled-in one, and the
/// catalog judges it), completed by shells with the compiled-in table's pod ids.
#[derive(Debug, Clone, Copy)]
struct PodArg;

impl TypedValueParser for PodArg {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        static IDS: LazyLock<Vec<String>> = LazyLock::new(|| {
            crate::Table::builtin()
                .map(|table| table.pods().iter().map(|p| p.id().to_string()).collect())
                .unwrap_or_default()
        });
        Some(Box::new(
            IDS.iter().map(|id| PossibleValue::new(id.as_str())),
        ))
    }
}

impl Command {
    /// Why the command's flags do not go together, if they do not: `--compact` lays out
    /// JSON only.
    pub fn conflict(&self) -> Option<String> {
        match self {
            Self::BucketPolicy { format, output, .. } | Self::IamPolicy { format, output, .. }
                if output.compact && *format != Format::Json =>
            {
                Some(format!(
                    "--compact applies to JSON only, not to --format {}",
                    format.name()
                ))
            }
            _ => None,
        }
    }

    pub fn output(&self) -> &Output {
        match self {
            Self::Pods { output }
            | Self::Get { output, .. }
            | Self::BucketPolicy { output, .. }
            | Self::IamPolicy { output, .. }
            | Self::LambdaArn { output, .. }
            | Self::Sdks { output, .. }
            | Self::CheckBucketPolicy { output, .. }
            | Self::CheckIamPolicy { output, .. }
            | Self::Lookup { output, .. } => output,
        }
    }

    /// What the command prints: the route's body in `style`, with whether a check found
    /// no error (always so for a command that checks nothing); or the route's problem.
    pub fn answer(&self, catalog: &Catalog, style: Style) -> Result<Checked, ApiError> {
        let body = match self {
            Self::CheckBucketPolicy {
                pod, file, bucket, ..
            } => {
                let position = catalog.position(pod)?;
                let document = read_policy(file)?;
                return catalog.check_bucket_policy(position, bucket.as_deref(), &document, style);
            }
            Self::CheckIamPolicy { pod, file, .. } => {
                let position = catalog.position(pod)?;
                let document = read_policy(file)?;
                return catalog.check_iam_policy(position, &document, style);
            }
            Self::Pods { .. } => Ok(catalog.pods_json(style)),
            Self::Get { pod, part, .. } => {
                let part = part.unwrap_or(Part::Whole);
                Ok(catalog.part_body(catalog.position(pod)?, part, style))
            }
            Self::IamPolicy { pod, format, .. } => {
                let part = Part::IamPolicy.in_format(*format);
                Ok(catalog.part_body(catalog.position(pod)?, part, style))
            }
            Self::BucketPolicy {
                pod,
                bucket,
                format,
                ..
            } => catalog.bucket_policy(catalog.position(pod)?, bucket, *format, style),
            Self::LambdaArn {
                pod,
                account_id,
                function,
                alias,
                raw,
                ..
            } => {
                let position = catalog.position(pod)?;
                let pairs = [
                    ("account_id", account_id),
                    ("function", function),
                    ("alias", alias),
                ]
                .map(|(name, value)| (name.to_owned(), value.clone()));
                if *raw {
                    let arn = catalog.lambda_arn_value(position, &pairs)?;
                    Ok(format!("{arn}\n").into())
                } else {
                    catalog.lambda_arn(position, &pairs, style)
                }
            }
            Self::Sdks {
                pod,
                sdk: Some(sdk),
                snippet,
                ..
            } => {
                let entry = catalog.server_sdk(catalog.position(pod)?, sdk)?;
                Ok(match snippet {
                    true => entry.snippet.into(),
                    false => render_json(&entry, style),
                })
            }
            Self::Sdks { pod, sdk: None, .. } => {
                Ok(catalog.part_body(catalog.position(pod)?, Part::Sdks, style))
            }
            Self::Lookup { value, kind, .. } => {
                let query = match kind.as_deref().and_then(LookupKind::from_name) {
                    Some(kind) => LookupQuery::parse_as(kind, value)?,
                    None => LookupQuery::read(value)?,
                };
                catalog.lookup_json(&query, style)
            }
        };
        body.map(|body| Checked { body, ok: true })
    }
}

/// The policy in `file` (stdin for `-`), read as a body is: at most the body limit, JSON
/// with each key once, an object. Each failure is the route's problem for the same bytes,
/// but for a file that cannot be read, which is named.
fn read_policy(file: &Path) -> Result<serde_json::Value, ApiError> {
    let limit = crate::problem::BODY_LIMIT;
    let bytes = if file == Path::new("-") {
        crate::input::read_bounded(std::io::stdin().lock(), limit)
    } else {
        crate::input::read_file(file, limit)
    };
    let bytes = bytes.map_err(|e| match e {
        crate::input::InputError::TooLarge(_) => ApiError::PayloadTooLarge,
        other => ApiError::BadRequest {
            detail: format!("cannot read the policy from {}: {other}", file.display()),
        },
    })?;
    crate::body::object(&bytes)
}
