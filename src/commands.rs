//! The documents on the command line, with no server: `podmeta pods`, `podmeta get`,
//! `podmeta bucket-policy`, … (the parsing is in `cli`).
//!
//! Each [`Command`] names a route and its inputs; [`Command::answer`] asks the catalog the
//! same question the route's handler does. So a command prints exactly the body of its
//! route, and fails with exactly its problem.

use bytes::Bytes;

use crate::catalog::{Catalog, Part};
use crate::json::Style;
use crate::lookup::{LookupKind, LookupQuery};
use crate::problem::ApiError;

/// One question, as its route would be asked it. Pods are given as typed, in any letter
/// case, and checked by the catalog, as a path's `{pod}` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `GET /pods`.
    Pods,
    /// `GET /pods/{pod}` or one of its parts (the IAM policy too).
    Get { pod: String, part: Part },
    /// `POST /pods/{pod}/bucket-policy` with `{"bucket": …}`.
    BucketPolicy { pod: String, bucket: String },
    /// `GET /pods/{pod}/rules/lambda-arn?account_id=…&function=…&alias=…`; with `raw`,
    /// the bare ARN.
    LambdaArn {
        pod: String,
        account_id: String,
        function: String,
        alias: String,
        raw: bool,
    },
    /// The `snippet` of one server SDK in `GET /pods/{pod}/sdks`, as plain text.
    SdkSnippet { pod: String, sdk: String },
    /// `GET /lookup?q=…`, or with `kind`, `GET /lookup?{kind}=…`.
    Lookup {
        value: String,
        kind: Option<LookupKind>,
    },
}

impl Command {
    /// What the command prints: the route's body in `style`, or the route's problem.
    pub fn answer(&self, catalog: &Catalog, style: Style) -> Result<Bytes, ApiError> {
        match self {
            Self::Pods => Ok(catalog.pods_json(style)),
            Self::Get { pod, part } => Ok(catalog.part_json(catalog.position(pod)?, *part, style)),
            Self::BucketPolicy { pod, bucket } => {
                catalog.bucket_policy(catalog.position(pod)?, bucket, style)
            }
            Self::LambdaArn {
                pod,
                account_id,
                function,
                alias,
                raw,
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
            Self::SdkSnippet { pod, sdk } => catalog
                .sdk_snippet(catalog.position(pod)?, sdk)
                .map(Bytes::from),
            Self::Lookup { value, kind } => {
                let query = match kind {
                    Some(kind) => LookupQuery::parse_as(*kind, value)?,
                    None => LookupQuery::read(value)?,
                };
                catalog.lookup_json(&query, style)
            }
        }
    }
}
