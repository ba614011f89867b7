//! The two policies as infrastructure code: Terraform (HCL, laid out as `terraform fmt`
//! lays it out) and CloudFormation (YAML), for teams that apply a policy from a reviewed
//! pull request rather than paste it into the console.
//!
//! Pure functions, like `render`'s. The Terraform statements are written from the same
//! [`Statement`]s as the JSON, and a template's `PolicyDocument` is the JSON policy
//! itself, so neither form can say other than the JSON. The YAML is written here: its
//! shape is fixed and small, the policy goes in as flow-style YAML (JSON is YAML), and
//! every other value is a JSON string, which YAML reads as the same string.

use std::fmt::Write as _;

use crate::bucket::BucketName;
use crate::domain::{PodId, Violation, quote};
use crate::render::{EFFECT, Statement};

/// The forms a policy is served in: `?format=` on its route, `--format` on the command
/// line. (Plain comments on the variants: a doc comment would become clap's help of each
/// value, which moves every flag's help onto lines of its own.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    // The policy document itself.
    #[default]
    Json,
    // A Terraform data source and the resource that attaches it.
    Terraform,
    // A CloudFormation template with the resource that attaches it.
    #[value(name = "cloudformation")]
    CloudFormation,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Json, Format::Terraform, Format::CloudFormation];

    /// The name `?format=` and `--format` take.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Terraform => "terraform",
            Format::CloudFormation => "cloudformation",
        }
    }

    /// The media type it is served as.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Terraform => "text/plain; charset=utf-8",
            Format::CloudFormation => "application/yaml",
        }
    }

    /// The file name extension a download of it takes.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Terraform => "tf",
            Format::CloudFormation => "yaml",
        }
    }

    /// The format a query's decoded `pairs` ask for: JSON without a `format`; exactly one
    /// `format`, with an exact, lower-case name, otherwise. Other parameters are not its
    /// business.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Format, Violation> {
        let mut given = pairs.iter().filter(|(name, _)| name == "format");
        let Some((_, value)) = given.next() else {
            return Ok(Format::Json);
        };
        let names = Format::ALL.map(Format::name).join(", ");
        if given.next().is_some() {
            return Err(Violation::parameter(
                "format",
                "once",
                format!("format must be given once, as one of: {names}"),
            ));
        }
        Format::ALL
            .into_iter()
            .find(|f| f.name() == value)
            .ok_or_else(|| {
                Violation::parameter(
                    "format",
                    "format",
                    format!("format must be one of: {names}; got {}", quote(value)),
                )
            })
    }
}

/// Where a rendering came from, for the comment lines at its top.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub pod: &'a PodId,
    /// The version of the pod table it was rendered from.
    pub table_version: &'a str,
}

impl Origin<'_> {
    /// `mparticle_forwarding_eu1`: a name of `document`'s blocks, which differs per
    /// document and pod so that several can sit in one Terraform module.
    fn block(&self, document: &str) -> String {
        format!("mparticle_{document}_{}", self.pod)
    }

    /// `MparticleForwardingEU1`: a CloudFormation logical id (letters and digits only).
    fn logical_id(&self, document: &str) -> String {
        format!("Mparticle{document}{}", self.pod.display_name())
    }

    /// The comment lines a rendering starts with: `title`, where it came from, and then
    /// `notes`, after a blank comment line.
    fn header(&self, title: &str, notes: &[&str]) -> String {
        let mut out = String::new();
        let from = format!(
            "Rendered by podmeta from pod {}, pod table version",
            self.pod.display_name()
        );
        let version = format!("{}.", self.table_version);
        comment(&mut out, &[title, &from, &version, ""]);
        comment(&mut out, notes);
        out
    }
}

/// The bucket policy as Terraform: an `aws_iam_policy_document` with its statements, and
/// the `aws_s3_bucket_policy` that puts it on `bucket`.
pub fn terraform_bucket_policy(
    origin: Origin<'_>,
    bucket: &BucketName,
    statements: &[Statement<'_>],
) -> String {
    let name = origin.block("forwarding");
    let mut out = origin.header(
        &bucket_title(bucket),
        &[
            "aws_s3_bucket_policy replaces the bucket's whole policy. If the bucket already",
            "has statements of its own, merge them in: uncomment source_policy_documents",
            "below and name the policy document that holds them.",
        ],
    );
    out.push('\n');
    let _ = writeln!(out, "data \"aws_iam_policy_document\" \"{name}\" {{");
    out.push_str(
        "  # source_policy_documents = [data.aws_iam_policy_document.your_statements.json]\n",
    );
    for statement in statements {
        out.push('\n');
        terraform_statement(&mut out, statement);
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "resource \"aws_s3_bucket_policy\" \"{name}\" {{");
    attributes(
        &mut out,
        "  ",
        &[
            ("bucket", hcl_string(bucket.as_str())),
            (
                "policy",
                format!("data.aws_iam_policy_document.{name}.json"),
            ),
        ],
    );
    out.push_str("}\n");
    out
}

/// The Rules IAM policy as Terraform: the variable naming the IAM user that Rules use, an
/// `aws_iam_policy_document` with its statements, and the `aws_iam_user_policy` that
/// attaches it to that user.
pub fn terraform_iam_policy(origin: Origin<'_>, statements: &[Statement<'_>]) -> String {
    let name = origin.block("rules");
    let user = format!("{name}_user");
    let pod = origin.pod.display_name();
    let mut out = origin.header(
        IAM_TITLE,
        &[
            &format!("It is attached to the IAM user whose access key Rules use: set {user}"),
            "to that user's name.",
        ],
    );
    out.push('\n');
    let _ = writeln!(out, "variable \"{user}\" {{");
    attributes(
        &mut out,
        "  ",
        &[
            (
                "description",
                hcl_string(&format!(
                    "The IAM user whose access key mParticle's Rules in {pod} use"
                )),
            ),
            ("type", "string".into()),
        ],
    );
    out.push_str("}\n\n");
    let _ = writeln!(out, "data \"aws_iam_policy_document\" \"{name}\" {{");
    for (i, statement) in statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        terraform_statement(&mut out, statement);
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "resource \"aws_iam_user_policy\" \"{name}\" {{");
    attributes(
        &mut out,
        "  ",
        &[
            ("name", hcl_string(&name.replace('_', "-"))),
            ("user", format!("var.{user}")),
            (
                "policy",
                format!("data.aws_iam_policy_document.{name}.json"),
            ),
        ],
    );
    out.push_str("}\n");
    out
}

/// One `statement` block of an `aws_iam_policy_document`, indented by two spaces.
fn terraform_statement(out: &mut String, statement: &Statement<'_>) {
    out.push_str("  statement {\n");
    let mut lines = Vec::with_capacity(4);
    if let Some(sid) = statement.sid {
        lines.push(("sid", hcl_string(sid)));
    }
    lines.push(("effect", hcl_string(EFFECT)));
    lines.push(("actions", hcl_list(statement.actions.iter().copied())));
    lines.push(("resources", hcl_list([statement.resource.as_str()])));
    attributes(out, "    ", &lines);
    if let Some(principal) = statement.principal {
        out.push_str("\n    principals {\n");
        attributes(
            out,
            "      ",
            &[
                ("type", hcl_string("AWS")),
                ("identifiers", hcl_list([principal.as_str()])),
            ],
        );
        out.push_str("    }\n");
    }
    out.push_str("  }\n");
}

/// Consecutive one-line attributes, their `=` aligned as `terraform fmt` aligns them.
fn attributes(out: &mut String, indent: &str, lines: &[(&str, String)]) {
    let width = lines.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    for (key, value) in lines {
        let _ = writeln!(out, "{indent}{key:width$} = {value}");
    }
}

/// `["a", "b"]`.
fn hcl_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(hcl_string).collect();
    format!("[{}]", items.join(", "))
}

/// A quoted HCL string: `\` and `"` escaped, and `${` and `%{` doubled so that they are
/// not read as a template.
fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The bucket policy as a CloudFormation template: one `AWS::S3::BucketPolicy` whose
/// `PolicyDocument` is `policy_json`, the JSON policy.
pub fn cloudformation_bucket_policy(
    origin: Origin<'_>,
    bucket: &BucketName,
    policy_json: &str,
) -> String {
    let mut out = origin.header(
        &bucket_title(bucket),
        &[
            "AWS::S3::BucketPolicy replaces the bucket's whole policy. If the bucket already",
            "has statements of its own, add them to the Statement list below before you",
            "deploy this template.",
        ],
    );
    template_head(
        &mut out,
        &format!(
            "Lets mParticle's pod {} write forwarded data into the S3 bucket {}.",
            origin.pod.display_name(),
            bucket.as_str()
        ),
    );
    let _ = writeln!(out, "Resources:\n  {}:", origin.logical_id("Forwarding"));
    out.push_str("    Type: AWS::S3::BucketPolicy\n    Properties:\n");
    let _ = writeln!(out, "      Bucket: {}", yaml_string(bucket.as_str()));
    policy_document(&mut out, policy_json);
    out
}

/// The Rules IAM policy as a CloudFormation template: one `AWS::IAM::Policy` whose
/// `PolicyDocument` is `policy_json`, attached to the IAM user the `RulesUser` parameter
/// names.
pub fn cloudformation_iam_policy(origin: Origin<'_>, policy_json: &str) -> String {
    let pod = origin.pod.display_name();
    let mut out = origin.header(
        IAM_TITLE,
        &[
            "It is attached to the IAM user whose access key Rules use: give that user's",
            "name as the RulesUser parameter.",
        ],
    );
    template_head(
        &mut out,
        &format!("The IAM policy that mParticle's Rules in pod {pod} need."),
    );
    out.push_str("Parameters:\n  RulesUser:\n    Type: String\n");
    let _ = writeln!(
        out,
        "    Description: {}",
        yaml_string(&format!(
            "The IAM user whose access key mParticle's Rules in {pod} use"
        ))
    );
    let _ = writeln!(out, "Resources:\n  {}:", origin.logical_id("Rules"));
    out.push_str("    Type: AWS::IAM::Policy\n    Properties:\n");
    let _ = writeln!(
        out,
        "      PolicyName: {}",
        yaml_string(&format!("mparticle-rules-{}", origin.pod))
    );
    out.push_str("      Users: [{\"Ref\": \"RulesUser\"}]\n");
    policy_document(&mut out, policy_json);
    out
}

/// The template's version and description. The version is quoted: a YAML 1.1 reader
/// would take `2010-09-09` for a date.
fn template_head(out: &mut String, description: &str) {
    out.push_str("AWSTemplateFormatVersion: \"2010-09-09\"\n");
    let _ = writeln!(out, "Description: {}", yaml_string(description));
}

/// `PolicyDocument:` and the JSON policy as its flow-style value, each line after the
/// first indented deeper than the key, as YAML requires of a flow collection's lines.
fn policy_document(out: &mut String, policy_json: &str) {
    out.push_str("      PolicyDocument:");
    for (i, line) in policy_json.lines().enumerate() {
        out.push_str(if i == 0 { " " } else { "        " });
        out.push_str(line);
        out.push('\n');
    }
}

/// The first comment line of each form of the IAM policy.
const IAM_TITLE: &str = "The IAM policy that mParticle's Rules (AWS Lambda functions) need.";

/// The first comment line of each form of the bucket policy.
fn bucket_title(bucket: &BucketName) -> String {
    format!(
        "The S3 bucket policy for mParticle's forwarding to {}.",
        bucket.as_str()
    )
}

/// A double-quoted YAML scalar: a JSON string is one, with the same value.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// Comment lines: `#`, which both HCL and YAML read.
fn comment(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push('#');
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{bucket_policy_statements, iam_policy_statements};

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn without_a_format_the_policy_is_json() {
        assert_eq!(Format::from_query(&[]), Ok(Format::Json));
        assert_eq!(
            Format::from_query(&pairs(&[("other", "x")])),
            Ok(Format::Json)
        );
    }

    #[test]
    fn each_format_is_named_exactly_and_in_lower_case() {
        for format in Format::ALL {
            assert_eq!(
                Format::from_query(&pairs(&[("format", format.name())])),
                Ok(format)
            );
        }
        for wrong in ["Terraform", "TERRAFORM", "hcl", "yaml", " json", ""] {
            let error = Format::from_query(&pairs(&[("format", wrong)])).unwrap_err();
            assert_eq!(error.rule, "format", "{wrong:?}");
            assert!(
                error
                    .detail
                    .contains("json, terraform, cloudformation; got"),
                "{}",
                error.detail
            );
        }
    }

    #[test]
    fn a_repeated_format_is_refused_even_when_both_agree() {
        let error =
            Format::from_query(&pairs(&[("format", "json"), ("format", "json")])).unwrap_err();
        assert_eq!(error.rule, "once");
        assert!(error.detail.contains("json, terraform, cloudformation"));
    }

    #[test]
    fn hcl_strings_escape_quotes_backslashes_and_template_sequences() {
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("${x} %{y} $z"), r#""$${x} %%{y} $z""#);
        assert_eq!(hcl_string("a\nb"), r#""a\nb""#);
    }

    #[test]
    fn attributes_align_their_equals_signs() {
        let mut out = String::new();
        attributes(
            &mut out,
            "  ",
            &[("type", "\"AWS\"".into()), ("identifiers", "[]".into())],
        );
        assert_eq!(out, "  type        = \"AWS\"\n  identifiers = []\n");
    }

    fn origin(pod: &PodId) -> Origin<'_> {
        Origin {
            pod,
            table_version: "test",
        }
    }

    #[test]
    fn the_terraform_bucket_policy_names_its_blocks_after_the_pod() {
        let pod: PodId = "eu1".parse().unwrap();
        let principals = [
            "arn:aws:iam::111111111111:role/a".parse().unwrap(),
            "arn:aws:iam::111111111111:role/b".parse().unwrap(),
        ];
        let bucket =
            BucketName::parse(&"mp-forwarding-".parse().unwrap(), "mp-forwarding-x").unwrap();
        let hcl = terraform_bucket_policy(
            origin(&pod),
            &bucket,
            &bucket_policy_statements(&principals, &bucket),
        );
        assert!(hcl.contains("data \"aws_iam_policy_document\" \"mparticle_forwarding_eu1\" {"));
        assert!(hcl.contains("resource \"aws_s3_bucket_policy\" \"mparticle_forwarding_eu1\" {"));
        assert!(hcl.contains("  bucket = \"mp-forwarding-x\"\n"));
        assert_eq!(hcl.matches("  statement {").count(), 2);
        assert!(hcl.contains("identifiers = [\"arn:aws:iam::111111111111:role/b\"]"));
        assert!(hcl.contains("# Rendered by podmeta from pod EU1, pod table version\n# test.\n"));
    }

    #[test]
    fn the_terraform_iam_policy_attaches_to_a_declared_user_variable() {
        let pod: PodId = "au1".parse().unwrap();
        let statements =
            iam_policy_statements(&"ap-southeast-2".parse().unwrap(), &"mpr".parse().unwrap());
        let hcl = terraform_iam_policy(origin(&pod), &statements);
        assert!(hcl.contains("variable \"mparticle_rules_au1_user\" {"));
        assert!(hcl.contains("  user   = var.mparticle_rules_au1_user\n"));
        assert!(hcl.contains("  name   = \"mparticle-rules-au1\"\n"));
        assert!(hcl.contains("    sid       = \"mpRulesMetrics\"\n"));
        assert!(!hcl.contains("principals"));
    }

    #[test]
    fn a_template_quotes_its_version_and_embeds_the_policy_deeper_than_its_key() {
        let pod: PodId = "us2".parse().unwrap();
        let json = "{\n  \"Version\": \"2012-10-17\"\n}\n";
        let yaml = cloudformation_iam_policy(origin(&pod), json);
        assert!(yaml.contains("AWSTemplateFormatVersion: \"2010-09-09\"\n"));
        assert!(yaml.contains(
            "      PolicyDocument: {\n          \"Version\": \"2012-10-17\"\n        }\n"
        ));
        assert!(yaml.contains("  MparticleRulesUS2:\n    Type: AWS::IAM::Policy\n"));
    }
}
