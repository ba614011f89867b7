//! The catalog: a loaded table together with every GET response body, serialised once,
//! and every other answer podmeta gives from it.
//!
//! The table never changes once loaded, so each resource's JSON is rendered here, at load
//! time, and a GET request only picks the right bytes. A reload builds a whole new
//! catalog and swaps it in; nothing here is ever mutated.
//!
//! The answers are free of HTTP (bytes, ETag strings and codings): the handlers and the command line (`podmeta get`,
//! `podmeta bucket-policy`, …) call the same methods, so a command prints exactly the
//! body of its route, or the same problem.

use std::io::Write;
use std::sync::OnceLock;
use std::time::SystemTime;

use bytes::Bytes;
use serde::Serialize;

use crate::domain::{
    AwsRegion, BucketPrefix, HttpsUrl, IamRoleArn, Label, LambdaAlias, LambdaFunctionName,
    NonEmpty, PodId,
};
use crate::iac::{self, Format};
use crate::json::Style;
use crate::lookup::{LookupIndex, LookupKind, LookupQuery};
use crate::policy;
use crate::problem::ApiError;
use crate::render;
use crate::rules::LambdaArnParams;
use crate::sdk::{ServerSdk, direct_routing_host};
use crate::table::{EventsApi, Pod, Sftp, Table};

/// The parts of a pod that have a resource of their own (and, as named on the command
/// line, those that `podmeta get` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The whole pod: `/pods/{pod}`.
    #[value(skip)]
    Whole,
    Login,
    EventsApi,
    Sftp,
    Rules,
    Aws,
    /// `/pods/{pod}/rules/iam-policy`: a document, not a JSON view.
    #[value(skip)]
    IamPolicy,
    /// The same document as Terraform (`?format=terraform`).
    #[value(skip)]
    IamPolicyTerraform,
    /// The same document as a CloudFormation template (`?format=cloudformation`).
    #[value(skip)]
    IamPolicyCloudFormation,
    Sdks,
}

impl Part {
    pub const ALL: [Part; 10] = [
        Part::Whole,
        Part::Login,
        Part::EventsApi,
        Part::Sftp,
        Part::Rules,
        Part::Aws,
        Part::IamPolicy,
        Part::IamPolicyTerraform,
        Part::IamPolicyCloudFormation,
        Part::Sdks,
    ];

    /// This part in `format`: a document's other forms are parts of their own; a JSON
    /// view has only its JSON.
    pub fn in_format(self, format: Format) -> Part {
        match (self, format) {
            (Part::IamPolicy, Format::Terraform) => Part::IamPolicyTerraform,
            (Part::IamPolicy, Format::CloudFormation) => Part::IamPolicyCloudFormation,
            (part, _) => part,
        }
    }

    /// The media type of its body.
    pub fn media_type(self) -> &'static str {
        match self {
            Part::IamPolicyTerraform => Format::Terraform.media_type(),
            Part::IamPolicyCloudFormation => Format::CloudFormation.media_type(),
            _ => Format::Json.media_type(),
        }
    }
}

/// A content coding a resource is kept in, ordered from least to most preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Encoding {
    Identity,
    Gzip,
    Br,
}

impl Encoding {
    /// The codings with a variant of their own, besides the identity.
    pub const COMPRESSED: [Encoding; 2] = [Encoding::Gzip, Encoding::Br];

    /// Every coding, as [`Encoding`] orders them.
    pub const ALL: [Encoding; 3] = [Encoding::Identity, Encoding::Gzip, Encoding::Br];

    /// The token, as in `Content-Encoding` and in the ETag's suffix.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Br => "br",
        }
    }
}

/// A GET resource rendered at load: its body, with a strong ETag, and its compressed
/// variants, each made on first request and then kept. (Compressing every resource of a
/// 1,000-pod table at start-up would cost more than the start-up target allows, and most
/// are never asked for compressed.)
#[derive(Debug)]
pub struct Resource {
    /// `Content-Type`.
    pub media_type: &'static str,
    identity: Variant,
    /// gzip and br, in the order of [`Encoding::COMPRESSED`].
    compressed: [OnceLock<Variant>; 2],
}

/// One representation of a [`Resource`]: its bytes and their strong ETag.
#[derive(Debug)]
pub struct Variant {
    pub body: Bytes,
    /// For a compressed variant, the identity's ETag with the coding appended (`"abc"` →
    /// `"abc-gzip"`), as Apache does: a strong ETag names exact bytes.
    pub etag: String,
    /// The coding of `body`: the one asked for, or the identity if compressing failed.
    pub encoding: Encoding,
}

impl Resource {
    fn new(body: Bytes, media_type: &'static str) -> Self {
        let etag = crate::digest::etag(&body);
        Self {
            media_type,
            identity: Variant {
                body,
                etag,
                encoding: Encoding::Identity,
            },
            compressed: Default::default(),
        }
    }

    /// The representation in `encoding`, compressed now if it is the first time.
    pub fn variant(&self, encoding: Encoding) -> &Variant {
        let Some(slot) = Encoding::COMPRESSED
            .iter()
            .position(|&e| e == encoding)
            .and_then(|i| self.compressed.get(i))
        else {
            return &self.identity;
        };
        slot.get_or_init(|| {
            let identity = &self.identity;
            match compress(encoding, &identity.body) {
                Some(body) => Variant {
                    etag: crate::digest::etag_for_encoding(&identity.etag, encoding.token()),
                    body,
                    encoding,
                },
                None => Variant {
                    body: identity.body.clone(),
                    etag: identity.etag.clone(),
                    encoding: Encoding::Identity,
                },
            }
        })
    }

    /// The body, as served without compression.
    pub fn body(&self) -> &Bytes {
        &self.identity.body
    }
}

/// `body` in `encoding`, at the codings' high settings: it is done once per resource.
fn compress(encoding: Encoding, body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 2);
    match encoding {
        Encoding::Identity => return None,
        Encoding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
            encoder.write_all(body).ok()?;
            encoder.finish().ok()?;
        }
        Encoding::Br => {
            // Quality 9 of 11: nearly as small on JSON, and much faster, which matters for
            // the first request for a large table's `/pods`.
            let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
            encoder.write_all(body).ok()?;
            encoder.flush().ok()?;
            drop(encoder);
        }
    }
    Some(out.into())
}

/// A table and its pre-rendered responses.
#[derive(Debug)]
pub struct Catalog {
    table: Table,
    /// When this table was loaded.
    loaded_at: SystemTime,
    /// `GET /pods`.
    pods_body: Resource,
    /// Per pod, in table order: one resource per [`Part`], indexed by `Part as usize`.
    pod_bodies: Vec<[Resource; Part::ALL.len()]>,
    /// What reverse lookups match against.
    lookup: LookupIndex,
}

impl Catalog {
    pub fn new(table: Table) -> Self {
        let pods_body = Resource::new(render_pods(&table, Style::Pretty), "application/json");
        let pod_bodies = table
            .pods()
            .iter()
            .map(|pod| {
                Part::ALL.map(|part| {
                    let body = render_part(&table, pod, part, Style::Pretty);
                    Resource::new(body, part.media_type())
                })
            })
            .collect();
        Self {
            lookup: LookupIndex::new(&table),
            loaded_at: SystemTime::now(),
            table,
            pods_body,
            pod_bodies,
        }
    }

    /// The position of the pod `given` names, in any letter case, or the 404 that
    /// names the pods there are.
    pub fn position(&self, given: &str) -> Result<usize, ApiError> {
        self.table
            .position_ignoring_case(given)
            .ok_or_else(|| ApiError::UnknownPod {
                given: given.to_owned(),
                known: self
                    .table
                    .pods()
                    .iter()
                    .map(|p| p.id().to_string())
                    .collect(),
            })
    }

    /// `GET /pods`, in `style`.
    pub fn pods_json(&self, style: Style) -> Bytes {
        match style {
            Style::Pretty => self.pods_body.body().clone(),
            Style::Compact => render_pods(&self.table, style),
        }
    }

    /// `GET /pods/{pod}` or one of its parts, in `style` (if it is JSON), for a position
    /// this catalog gave ([`Catalog::position`]).
    pub fn part_body(&self, position: usize, part: Part, style: Style) -> Bytes {
        match style {
            Style::Pretty => self.pod_body(position, part).body().clone(),
            Style::Compact => render_part(&self.table, self.table.pod_at(position), part, style),
        }
    }

    /// `POST /pods/{pod}/bucket-policy` with `{"bucket": bucket}`: the policy in
    /// `format` (in `style`, if JSON), or a 422 with every rule the name breaks.
    pub fn bucket_policy(
        &self,
        position: usize,
        bucket: &str,
        format: Format,
        style: Style,
    ) -> Result<Bytes, ApiError> {
        let bucket = crate::bucket::BucketName::parse(&self.table.s3().bucket_prefix, bucket)?;
        let pod = self.table.pod_at(position);
        let principals = &pod.s3.principals;
        let origin = self.origin(pod);
        Ok(match format {
            Format::Json => render::bucket_policy(principals, &bucket, style),
            Format::Terraform => iac::terraform_bucket_policy(
                origin,
                &bucket,
                &render::bucket_policy_statements(principals, &bucket),
            ),
            Format::CloudFormation => iac::cloudformation_bucket_policy(
                origin,
                &bucket,
                &render::bucket_policy(principals, &bucket, Style::Pretty),
            ),
        }
        .into())
    }

    /// `POST /pods/{pod}/bucket-policy/check[?bucket=…]`: what is wrong with `document`, a
    /// bucket policy, for the pod's roles and the bucket `bucket` (or the one its grants
    /// name); a 422 where `bucket` breaks a naming rule or `document` is not a policy.
    pub fn check_bucket_policy(
        &self,
        position: usize,
        bucket: Option<&str>,
        document: &serde_json::Value,
        style: Style,
    ) -> Result<Checked, ApiError> {
        let prefix = &self.table.s3().bucket_prefix;
        let given = match bucket {
            None => None,
            Some(name) => Some(crate::bucket::BucketName::parse(prefix, name).map_err(|e| {
                ApiError::invalid_bucket(&e, |rule, sentence| {
                    crate::domain::Violation::parameter("bucket", rule, sentence)
                })
            })?),
        };
        let document = read_policy(document)?;
        let pod = self.table.pod_at(position);
        let pods = policy::bucket::Pods {
            pod,
            all: self.table.pods(),
            prefix,
        };
        let report = policy::bucket::check(&pods, given.as_ref(), &document);
        let expected = report
            .valid
            .as_ref()
            .map(|b| render::bucket_policy_document(&pod.s3.principals, b));
        Ok(Checked::of(
            pod,
            Some(report.bucket),
            report.findings,
            expected,
            style,
        ))
    }

    /// `POST /pods/{pod}/rules/iam-policy/check`: what is wrong with `document`, the policy
    /// of the IAM user that Rules use, for the pod's region; a 422 where it is not a policy.
    pub fn check_iam_policy(
        &self,
        position: usize,
        document: &serde_json::Value,
        style: Style,
    ) -> Result<Checked, ApiError> {
        let document = read_policy(document)?;
        let pod = self.table.pod_at(position);
        let prefix = &self.table.rules().function_prefix;
        let findings = policy::iam::check(pod, self.table.pods(), prefix, &document);
        let expected = render::iam_policy_document(&pod.aws_region, prefix);
        Ok(Checked::of(pod, None, findings, expected, style))
    }

    fn origin<'a>(&'a self, pod: &'a Pod) -> iac::Origin<'a> {
        iac::Origin {
            pod: pod.id(),
            table_version: self.table.version(),
        }
    }

    /// `GET /pods/{pod}/rules/lambda-arn` with the query's decoded `pairs`.
    pub fn lambda_arn(
        &self,
        position: usize,
        pairs: &[(String, String)],
        style: Style,
    ) -> Result<Bytes, ApiError> {
        #[derive(Serialize)]
        struct Answer {
            arn: String,
        }
        let arn = self.lambda_arn_value(position, pairs)?;
        Ok(render_json(&Answer { arn }, style))
    }

    /// The ARN alone that [`Catalog::lambda_arn`] answers with.
    pub fn lambda_arn_value(
        &self,
        position: usize,
        pairs: &[(String, String)],
    ) -> Result<String, ApiError> {
        let params = LambdaArnParams::parse(pairs, self.table.rules())?;
        let region = &self.table.pod_at(position).aws_region;
        Ok(render::lambda_arn(
            region,
            &params.account_id,
            &params.function,
            &params.alias,
        ))
    }

    /// The entry of the server SDK named `sdk` (any letter case) in
    /// `GET /pods/{pod}/sdks`, or a 422 that names the SDKs there are.
    pub(crate) fn server_sdk(&self, position: usize, sdk: &str) -> Result<ServerSdkView, ApiError> {
        let view = SdksView::of(&self.table, self.table.pod_at(position));
        let known: Vec<&str> = view.server_sdks.iter().map(|s| s.sdk.name()).collect();
        let known = known.join(", ");
        view.server_sdks
            .into_iter()
            .find(|s| s.sdk.name().eq_ignore_ascii_case(sdk))
            .ok_or_else(|| ApiError::Invalid {
                detail: format!(
                    "There is no server SDK {} that needs its pod set. They are: {known}.",
                    crate::domain::quote(sdk),
                ),
                errors: vec![crate::domain::Violation::parameter(
                    "sdk",
                    "known-sdk",
                    format!("expected one of {known}, got {}", crate::domain::quote(sdk)),
                )],
            })
    }

    /// Answers a reverse lookup: the pods that match, or the 404 that says none does
    /// and, where it can, why.
    pub fn lookup_json(&self, query: &LookupQuery, style: Style) -> Result<Bytes, ApiError> {
        let positions = self.lookup.find(&self.table, query);
        if positions.is_empty() {
            let kind = query.kind().name();
            return Err(ApiError::NoMatch {
                detail: match query.unmatchable() {
                    Some(why) => format!("No pod matches this {kind}: {why}."),
                    None => format!("No pod matches this {kind}."),
                },
            });
        }
        Ok(render_json(
            &LookupAnswer {
                pods: positions
                    .iter()
                    .map(|&i| PodSummary::of(self.table.pod_at(i)))
                    .collect(),
                matched_by: query.kind(),
            },
            style,
        ))
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// `GET /pods`.
    pub fn pods_body(&self) -> &Resource {
        &self.pods_body
    }

    /// The body of one part of the pod at `position`, a position that this catalog's own
    /// table gave (see [`Table::position_ignoring_case`]).
    pub fn pod_body(&self, position: usize, part: Part) -> &Resource {
        &self.pod_bodies[position][part as usize]
    }
}

/// The answer of a policy check: its body, and whether it found no error (the command's
/// exit status).
#[derive(Debug)]
pub struct Checked {
    pub ok: bool,
    pub body: Bytes,
}

impl Checked {
    /// The answer of a check of a document for `pod`: `bucket` is `Some` for a bucket
    /// policy only (its inner `None` is the key's `null`), so that an IAM answer has no such
    /// key; `expected` is the document the pod needs.
    fn of(
        pod: &Pod,
        bucket: Option<Option<String>>,
        findings: Vec<policy::Finding>,
        expected: impl Serialize,
        style: Style,
    ) -> Self {
        #[derive(Serialize)]
        struct Answer<'a, E> {
            ok: bool,
            pod: &'a crate::domain::PodId,
            #[serde(skip_serializing_if = "Option::is_none")]
            bucket: Option<Option<String>>,
            findings: Vec<policy::Finding>,
            expected: E,
        }
        let ok = policy::ok(&findings);
        let answer = Answer {
            ok,
            pod: pod.id(),
            bucket,
            findings,
            expected,
        };
        Checked {
            ok,
            body: render_json(&answer, style),
        }
    }
}

/// `document` as a policy, or the 422 that lists each way it is not one.
fn read_policy(document: &serde_json::Value) -> Result<policy::grammar::Document, ApiError> {
    policy::grammar::Document::read(document).map_err(|errors| ApiError::Invalid {
        detail: "The body is JSON, but not an AWS policy document; each problem is in errors."
            .into(),
        errors,
    })
}

fn render_pods(table: &Table, style: Style) -> Bytes {
    let pods = table.pods().iter().map(PodSummary::of).collect();
    render_json(&PodList { pods }, style)
}

fn render_part(table: &Table, pod: &Pod, part: Part, style: Style) -> Bytes {
    let id = pod.id();
    match part {
        Part::Whole => render_json(&PodView::of(table, pod), style),
        Part::Login => render_json(
            &Sub {
                pod: id,
                part: LoginView {
                    login_urls: &pod.login_urls,
                },
            },
            style,
        ),
        Part::EventsApi => render_json(
            &Sub {
                pod: id,
                part: &pod.events_api,
            },
            style,
        ),
        Part::Sftp => render_json(
            &Sub {
                pod: id,
                part: &pod.sftp,
            },
            style,
        ),
        Part::Rules => render_json(
            &Sub {
                pod: id,
                part: RulesView::of(table, pod),
            },
            style,
        ),
        Part::Aws => render_json(
            &Sub {
                pod: id,
                part: AwsView::of(table, pod),
            },
            style,
        ),
        Part::IamPolicy => {
            render::iam_policy(&pod.aws_region, &table.rules().function_prefix, style).into()
        }
        Part::IamPolicyTerraform | Part::IamPolicyCloudFormation => {
            let (region, prefix) = (&pod.aws_region, &table.rules().function_prefix);
            let origin = iac::Origin {
                pod: id,
                table_version: table.version(),
            };
            match part {
                Part::IamPolicyTerraform => iac::terraform_iam_policy(
                    origin,
                    &render::iam_policy_statements(region, prefix),
                ),
                _ => iac::cloudformation_iam_policy(
                    origin,
                    &render::iam_policy(region, prefix, Style::Pretty),
                ),
            }
            .into()
        }
        Part::Sdks => render_json(
            &Sub {
                pod: id,
                part: SdksView::of(table, pod),
            },
            style,
        ),
    }
}

/// Resource bodies are pretty-printed with two spaces: people read them with curl, and
/// the few bytes more cost nothing once they are pre-rendered.
pub(crate) fn render_json<T: Serialize>(value: &T, style: Style) -> Bytes {
    crate::json::to_json(value, style, b"  ").into()
}

/// `GET /pods`.
#[derive(Serialize)]
struct PodList<'a> {
    pods: Vec<PodSummary<'a>>,
}

/// `GET /lookup`: the pods that match, and which parameter matched.
#[derive(Serialize)]
struct LookupAnswer<'a> {
    pods: Vec<PodSummary<'a>>,
    matched_by: LookupKind,
}

/// One pod in a list: enough to choose it, and where to find the rest.
#[derive(Serialize)]
pub struct PodSummary<'a> {
    id: &'a PodId,
    name: String,
    location: &'a Label,
    aws_region: &'a AwsRegion,
    href: String,
}

impl<'a> PodSummary<'a> {
    pub fn of(pod: &'a Pod) -> Self {
        Self {
            id: pod.id(),
            name: pod.id().display_name(),
            location: &pod.location,
            aws_region: &pod.aws_region,
            href: format!("/pods/{}", pod.id()),
        }
    }
}

/// A part of a pod on its own, carrying the pod's canonical id.
#[derive(Serialize)]
struct Sub<'a, T> {
    pod: &'a PodId,
    #[serde(flatten)]
    part: T,
}

/// `GET /pods/{pod}`: everything about a pod.
#[derive(Serialize)]
struct PodView<'a> {
    id: &'a PodId,
    name: String,
    location: &'a Label,
    login_urls: &'a NonEmpty<HttpsUrl>,
    events_api: &'a EventsApi,
    sftp: &'a Sftp,
    aws_region: &'a AwsRegion,
    rules: RulesView<'a>,
    s3: S3View<'a>,
    ip_ranges_url: &'a HttpsUrl,
    sdks_requiring_pod: &'a NonEmpty<ServerSdk>,
}

impl<'a> PodView<'a> {
    fn of(table: &'a Table, pod: &'a Pod) -> Self {
        Self {
            id: pod.id(),
            name: pod.id().display_name(),
            location: &pod.location,
            login_urls: &pod.login_urls,
            events_api: &pod.events_api,
            sftp: &pod.sftp,
            aws_region: &pod.aws_region,
            rules: RulesView::of(table, pod),
            s3: S3View::of(table, pod),
            ip_ranges_url: table.ip_ranges_url(),
            sdks_requiring_pod: table.sdks_requiring_pod(),
        }
    }
}

#[derive(Serialize)]
struct LoginView<'a> {
    login_urls: &'a NonEmpty<HttpsUrl>,
}

/// What a Rule (an AWS Lambda function) in this pod needs.
#[derive(Serialize)]
pub(crate) struct RulesView<'a> {
    pub(crate) aws_region: &'a AwsRegion,
    pub(crate) function_name_prefix: &'a LambdaFunctionName,
    pub(crate) aliases: &'a NonEmpty<LambdaAlias>,
    /// The resources the IAM policy must grant: log groups, then functions.
    pub(crate) iam_resources: [String; 2],
    /// The page's example ARNs, one per alias, with its placeholder account.
    pub(crate) example_arns: Vec<String>,
}

impl<'a> RulesView<'a> {
    pub(crate) fn of(table: &'a Table, pod: &'a Pod) -> Self {
        let rules = table.rules();
        Self {
            aws_region: &pod.aws_region,
            function_name_prefix: &rules.function_prefix,
            aliases: &rules.aliases,
            iam_resources: render::iam_resources(&pod.aws_region, &rules.function_prefix),
            example_arns: rules
                .aliases
                .iter()
                .map(|alias| {
                    render::lambda_arn(
                        &pod.aws_region,
                        &rules.example_account_id,
                        &rules.example_function,
                        alias,
                    )
                })
                .collect(),
        }
    }
}

/// What S3 forwarding from this pod needs.
#[derive(Serialize)]
struct S3View<'a> {
    bucket_prefix: &'a BucketPrefix,
    /// `{arn1}` and `{arn2}` of the bucket-policy template.
    principals: &'a [IamRoleArn; 2],
}

impl<'a> S3View<'a> {
    fn of(table: &'a Table, pod: &'a Pod) -> Self {
        Self {
            bucket_prefix: &table.s3().bucket_prefix,
            principals: &pod.s3.principals,
        }
    }
}

/// `GET /pods/{pod}/aws`: the AWS facts of the pod in one place.
#[derive(Serialize)]
struct AwsView<'a> {
    aws_region: &'a AwsRegion,
    bucket_prefix: &'a BucketPrefix,
    principals: &'a [IamRoleArn; 2],
}

impl<'a> AwsView<'a> {
    fn of(table: &'a Table, pod: &'a Pod) -> Self {
        let s3 = S3View::of(table, pod);
        Self {
            aws_region: &pod.aws_region,
            bucket_prefix: s3.bucket_prefix,
            principals: s3.principals,
        }
    }
}

/// `GET /pods/{pod}/sdks`: how to point each SDK at this pod.
#[derive(Serialize)]
pub(crate) struct SdksView<'a> {
    /// The Events API base URLs, canonical (for US1, the SDKs' default) first.
    pub(crate) events_api_base_urls: Vec<&'a str>,
    pub(crate) server_sdks: Vec<ServerSdkView>,
    /// Per client-SDK host: the hosts of this pod, for direct URL routing.
    pub(crate) client_sdk_hosts: Vec<ClientSdkHostView<'a>>,
}

#[derive(Serialize)]
pub(crate) struct ServerSdkView {
    pub(crate) sdk: ServerSdk,
    /// The setting to change, as the SDK names it.
    pub(crate) setting: &'static str,
    /// The setting's value for this pod, canonical first.
    pub(crate) values: Vec<String>,
    /// True when the SDK's default already points at this pod, so nothing need change.
    pub(crate) is_sdk_default: bool,
    /// Code that sets the canonical value.
    pub(crate) snippet: String,
}

#[derive(Serialize)]
pub(crate) struct ClientSdkHostView<'a> {
    /// The client SDK's default host (`jssdks.mparticle.com`).
    pub(crate) default_host: &'a str,
    /// This pod's hosts: for the default pod its default host first.
    pub(crate) hosts: Vec<String>,
}

impl<'a> SdksView<'a> {
    pub(crate) fn of(table: &'a Table, pod: &'a Pod) -> Self {
        let bases = pod.events_api_bases();
        let is_default = table.pod_at(table.default_pod_position()).id() == pod.id();
        let server_sdks = table
            .sdks_requiring_pod()
            .iter()
            .map(|&sdk| {
                let values: Vec<String> = bases.iter().map(|b| sdk.value(b)).collect();
                ServerSdkView {
                    sdk,
                    setting: sdk.setting(),
                    snippet: sdk.snippet(values.first().map_or("", String::as_str)),
                    values,
                    is_sdk_default: is_default,
                }
            })
            .collect();
        let client_sdk_hosts = table
            .client_sdks()
            .hosts
            .iter()
            .map(|host| {
                let direct = direct_routing_host(host, pod.id());
                ClientSdkHostView {
                    default_host: host.as_str(),
                    hosts: if is_default {
                        vec![host.to_string(), direct]
                    } else {
                        vec![direct]
                    },
                }
            })
            .collect();
        Self {
            events_api_base_urls: bases,
            server_sdks,
            client_sdk_hosts,
        }
    }
}
