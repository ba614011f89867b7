//! The setup page (`/ui/`, `/ui/{pod}`): the pod table for people, rendered on the
//! server from the catalog with maud (compile-time checked, every value escaped).
//!
//! Pure functions from a catalog to HTML. The facts are in the HTML, readable without
//! script; `assets/podmeta.js` adds the copy buttons' behaviour, the SDK tabs and the
//! builders, which ask the API itself (so no rule is written twice). The stylesheet, the
//! script and the icon are served from the binary under content-hashed names
//! ([`ASSETS`]).

use std::sync::LazyLock;

use maud::{DOCTYPE, Markup, html};

use crate::catalog::{Catalog, Part, RulesView, SdksView};
use crate::iac::Format;
use crate::json::Style;
use crate::table::Pod;

/// The page's policy: nothing but this origin, and no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A file the page loads, served from the binary at `/ui/assets/{name}`.
#[derive(Debug)]
pub struct Asset {
    /// `podmeta.<first 12 hex digits of its SHA-256>.<ext>`: a new name for new bytes, so
    /// that the file can be cached for a year and marked immutable.
    pub name: String,
    pub body: &'static str,
    pub content_type: &'static str,
    pub etag: String,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static str) -> Self {
        let digest = crate::digest::sha256_hex(body.as_bytes());
        Self {
            name: format!("{stem}.{}.{extension}", &digest[..12]),
            body,
            content_type,
            etag: crate::digest::etag(body.as_bytes()),
        }
    }
}

/// The stylesheet, the script and the icon.
pub static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new(
            "podmeta",
            "css",
            "text/css; charset=utf-8",
            include_str!("../assets/podmeta.css"),
        ),
        Asset::new(
            "podmeta",
            "js",
            "text/javascript; charset=utf-8",
            include_str!("../assets/podmeta.js"),
        ),
        Asset::new(
            "podmeta",
            "svg",
            "image/svg+xml",
            include_str!("../assets/podmeta.svg"),
        ),
    ]
});

/// The asset named `name`, if there is one.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// `/ui/`: the pods to choose from, and "which pod is this?".
pub fn index(catalog: &Catalog) -> String {
    let table = catalog.table();
    let body = html! {
        section aria-labelledby="choose" {
            h2 #choose { "Choose your pod" }
            p { "Each mParticle organisation lives in one pod. Its login URL says which: "
                code { "app.eu1.mparticle.com" } " is EU1. Not sure? Paste a value below." }
            ul.podlist {
                @for pod in table.pods() {
                    li { a href=(format!("/ui/{}", pod.id())) { (pod.id().display_name()) }
                        ", " (pod.location.as_str()) " (AWS " (pod.aws_region.as_str()) ")" }
                }
            }
        }
        (lookup_section())
    };
    document(
        catalog,
        None,
        "mParticle pods: setup facts",
        "podmeta: mParticle's pods",
        html! { "Every fact an engineer needs to set up an organisation in its pod, from the same table as the "
        a href="/pods" { "JSON API" } "." },
        body,
    )
}

/// The answer of a page's route when the request accepts none of its codings (406):
/// short, with no asset, since its stylesheet would be refused too.
pub const NOT_ACCEPTABLE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Not Acceptable · podmeta</title></head><body><h1>406 Not Acceptable</h1>\
<p>No representation of this page matches the request's Accept-Encoding: accept identity, \
gzip or br.</p></body></html>\n";

/// `/ui/{pod}` for an id the table does not have: the pods there are.
pub fn unknown_pod(catalog: &Catalog, given: &str) -> String {
    let table = catalog.table();
    let body = html! {
        section aria-labelledby="pods" {
            h2 #pods { "The pods" }
            ul.podlist {
                @for pod in table.pods() {
                    li { a href=(format!("/ui/{}", pod.id())) { (pod.id().display_name()) }
                        ", " (pod.location.as_str()) }
                }
            }
        }
    };
    document(
        catalog,
        None,
        "Unknown pod",
        &format!("There is no pod {}", crate::domain::quote(given)),
        html! { "Choose one of the pods below." },
        body,
    )
}

/// `/ui/{pod}`: every fact of the pod, each with a copy button, and the builders.
pub fn pod(catalog: &Catalog, position: usize) -> String {
    let table = catalog.table();
    let pod = table.pod_at(position);
    let name = pod.id().display_name();
    let rules = table.rules();
    // The same IAM resources and example ARNs as `GET /pods/{pod}/rules`.
    let view = RulesView::of(table, pod);
    // The convention the builder below fills in.
    let arn_pattern = format!(
        "arn:aws:lambda:{}:<account id>:function:{}<name>:<alias>",
        pod.aws_region.as_str(),
        rules.function_prefix.as_str()
    );
    let iam_text = |format| {
        let part = Part::IamPolicy.in_format(format);
        String::from_utf8_lossy(&catalog.part_body(position, part, Style::Pretty)).into_owned()
    };
    let iam_file =
        |format: Format| format!("mparticle-{}-rules-iam.{}", pod.id(), format.extension());
    let iam_command = format!(
        "aws iam put-user-policy --user-name \"$RULES_USER\" --policy-name mparticle-rules-{} --policy-document file://{}",
        pod.id(),
        iam_file(Format::Json)
    );
    let sdks = SdksView::of(table, pod);
    let sftp = &pod.sftp;
    let api = &pod.events_api;

    let body = html! {
        section aria-labelledby="login" {
            h2 #login { "Sign in" }
            dl.facts {
                (fact(pod, "login", "Login URL", pod.login_urls.iter().map(|u| u.as_str())))
            }
        }
        section aria-labelledby="events" {
            h2 #events { "Events API" }
            p.hint { "HTTP basic auth: the API key as the user name, the secret as the password." }
            dl.facts {
                (fact(pod, "events", "Events (one batch)", api.events.iter().map(|u| u.as_str())))
                (fact(pod, "bulkevents", "Bulk events (up to 100 batches)", api.bulkevents.iter().map(|u| u.as_str())))
                (fact(pod, "historical", "Historical bulk events", api.bulkevents_historical.iter().map(|u| u.as_str())))
            }
        }
        section aria-labelledby="sftp" {
            h2 #sftp { "SFTP" }
            dl.facts {
                (fact(pod, "sftp-host", "Host", sftp.hosts.iter().map(|h| h.as_str())))
                (fact(pod, "sftp-port", "Port", [sftp.port.to_string()].iter().map(String::as_str)))
                (fact(pod, "sftp-hostport", "Host and port", sftp.hosts.iter().map(|h| format!("{h}:{}", sftp.port)).collect::<Vec<_>>().iter().map(String::as_str)))
                (fact(pod, "sftp-ip", "IP address", [sftp.ip.to_string()].iter().map(String::as_str)))
            }
        }
        section aria-labelledby="aws" {
            h2 #aws { "AWS" }
            dl.facts {
                (fact(pod, "region", "AWS region", [pod.aws_region.as_str()].into_iter()))
                (fact(pod, "principal", "S3 principals (trust both)", pod.s3.principals.iter().map(|p| p.as_str())))
                (fact(pod, "bucket-prefix", "S3 bucket names begin with", [table.s3().bucket_prefix.as_str()].into_iter()))
                (fact(pod, "ip-ranges", "IP ranges to allow", [table.ip_ranges_url().as_str()].into_iter()))
            }
            h3 #bucket-builder { "S3 bucket policy" }
            form.builder #bucket-form aria-labelledby="bucket-builder" {
                div {
                    label for="bucket" { "Bucket name" }
                    p.hint #bucket-hint { "Begins with " code { (table.s3().bucket_prefix.as_str()) } "; S3's naming rules apply. Checked as you type." }
                    input #bucket type="text" name="bucket" autocomplete="off" spellcheck="false"
                        placeholder=(format!("{}acme", table.s3().bucket_prefix.as_str()))
                        aria-describedby="bucket-hint bucket-errors";
                    ul.errors #bucket-errors aria-live="polite" {}
                }
            }
            div.result #bucket-result hidden {
                (policy_tabs("bucket", "Bucket policy", &Format::ALL.map(|format| Form {
                    format,
                    text: String::new(),
                    file: format!("mparticle-{}-bucket-policy.{}", pod.id(), format.extension()),
                }), "", "Save the JSON policy, then apply it:"))
            }
            noscript { p.hint { "The builder needs JavaScript; "
                code { "POST /pods/" (pod.id()) "/bucket-policy" } " with " code { "{\"bucket\": \"…\"}" } " gives the same policy." } }
            (check_box("bucket", "a bucket policy", &format!("/pods/{}/bucket-policy/check", pod.id()),
                "The bucket's policy, as aws s3api get-bucket-policy --bucket B --query Policy --output text prints it"))
        }
        section aria-labelledby="rules" {
            h2 #rules { "Rules (AWS Lambda)" }
            dl.facts {
                (fact(pod, "rules-region", "Lambda region", [pod.aws_region.as_str()].into_iter()))
                (fact(pod, "function-prefix", "Function names begin with", [rules.function_prefix.as_str()].into_iter()))
                (fact(pod, "arn-pattern", "A Rule's ARN", [arn_pattern.as_str()].into_iter()))
                (fact(pod, "alias", "Aliases", rules.aliases.iter().map(|a| a.as_str())))
                (fact(pod, "iam-resource", "IAM resources", view.iam_resources.iter().map(String::as_str)))
                (fact(pod, "example-arn", "Example ARNs", view.example_arns.iter().map(String::as_str)))
            }
            h3 #arn-builder { "Lambda ARN" }
            form.builder #arn-form aria-labelledby="arn-builder" {
                div {
                    label for="arn-account_id" { "AWS account id" }
                    input #arn-account_id type="text" inputmode="numeric" autocomplete="off"
                        placeholder="123456789012" aria-describedby="arn-account_id-errors";
                    ul.errors #arn-account_id-errors aria-live="polite" {}
                }
                div {
                    label for="arn-function" { "Function name" }
                    input #arn-function type="text" autocomplete="off" spellcheck="false"
                        value=(rules.function_prefix.as_str())
                        placeholder=(format!("{}myrule", rules.function_prefix.as_str()))
                        aria-describedby="arn-function-errors";
                    ul.errors #arn-function-errors aria-live="polite" {}
                }
                div {
                    label for="arn-alias" { "Alias" }
                    select #arn-alias aria-describedby="arn-alias-errors" {
                        @for alias in rules.aliases.iter() { option value=(alias.as_str()) { (alias.as_str()) } }
                    }
                    ul.errors #arn-alias-errors aria-live="polite" {}
                }
            }
            div.result #arn-result hidden {
                pre tabindex="0" { code #arn-value {} }
                div.value {
                    button type="button" data-copy="arn-value" { "Copy the ARN" }
                    span.status aria-live="polite" {}
                }
            }
            h3 #iam { "The IAM policy Rules need" }
            (policy_tabs("iam", "IAM policy", &Format::ALL.map(|format| Form {
                format,
                text: iam_text(format),
                file: iam_file(format),
            }), &iam_command, "Save the JSON policy, set RULES_USER to the IAM user whose access key Rules use, then attach it:"))
            (check_box("iam", "an IAM policy", &format!("/pods/{}/rules/iam-policy/check", pod.id()),
                "The policy of the IAM user whose access key Rules use"))
        }
        section aria-labelledby="sdks" {
            h2 #sdks { "SDKs" }
            dl.facts {
                (words_fact("Server SDKs that need the pod set", table.sdks_requiring_pod().iter().map(|s| s.name())))
            }
            div #sdk-tabs role="tablist" aria-label="Server SDK" hidden {
                @for (i, sdk) in sdks.server_sdks.iter().enumerate() {
                    button type="button" role="tab" id=(format!("sdk-tab-{i}")) aria-controls=(format!("sdk-panel-{i}"))
                        aria-selected="false" { (sdk.sdk.name()) }
                }
            }
            @for (i, sdk) in sdks.server_sdks.iter().enumerate() {
                div.tabpanel role="tabpanel" id=(format!("sdk-panel-{i}")) aria-labelledby=(format!("sdk-tab-{i}")) tabindex="0" {
                    h3 { (sdk.sdk.name()) }
                    p { "Set " code { (sdk.setting) } " to "
                        @for (j, value) in sdk.values.iter().enumerate() { @if j > 0 { " or " } code { (value) } }
                        "." @if sdk.is_sdk_default { " That is the SDK's default, so nothing need change." } }
                    pre tabindex="0" { code id=(format!("sdk-snippet-{i}")) { (sdk.snippet) } }
                    div.value {
                        button type="button" data-copy=(format!("sdk-snippet-{i}")) { "Copy the " (sdk.sdk.name()) " snippet" }
                        span.status aria-live="polite" {}
                    }
                }
            }
            h3 { "Client SDKs: direct URL routing" }
            dl.facts {
                @for (i, client) in sdks.client_sdk_hosts.iter().enumerate() {
                    (fact(pod, &format!("client-{i}"), &format!("Instead of {}", client.default_host), client.hosts.iter().map(String::as_str)))
                }
            }
        }
        (lookup_section())
    };
    document(
        catalog,
        Some(position),
        &format!("{name} ({}): mParticle pod setup", pod.location.as_str()),
        &format!("{name} · {}", pod.location.as_str()),
        html! { "Every fact an engineer needs to set up an organisation in pod " (name) ", filled in, from the same table as the "
        a href=(format!("/pods/{}", pod.id())) { "JSON API" } "." },
        body,
    )
}

/// One form of a policy on the page: its text (empty where the builder fills it in), and
/// the file it downloads as.
struct Form {
    format: Format,
    text: String,
    file: String,
}

/// A policy's forms as tabs (the WAI-ARIA tabs pattern, which `podmeta.js` makes work; without
/// script every panel shows), each with copy and download, and a last tab with the AWS
/// CLI `command` that applies the JSON, after `apply`. Ids are `{id}-{format}` for each
/// form's text and `{id}-command` for the command.
fn policy_tabs(id: &str, label: &str, forms: &[Form], command: &str, apply: &str) -> Markup {
    let tab = |key: &str| format!("{id}-tab-{key}");
    let panel = |key: &str| format!("{id}-panel-{key}");
    let tab_name = |format: Format| match format {
        Format::Json => "JSON",
        Format::Terraform => "Terraform",
        Format::CloudFormation => "CloudFormation",
    };
    html! {
        div #(format!("{id}-tabs")) role="tablist" aria-label=(format!("{label} format")) hidden {
            @for form in forms {
                button type="button" role="tab" id=(tab(form.format.name())) aria-controls=(panel(form.format.name()))
                    aria-selected="false" { (tab_name(form.format)) }
            }
            button type="button" role="tab" id=(tab("command")) aria-controls=(panel("command"))
                aria-selected="false" { "AWS CLI" }
        }
        @for form in forms {
            @let key = form.format.name();
            @let text = format!("{id}-{key}");
            div.tabpanel role="tabpanel" id=(panel(key)) aria-labelledby=(tab(key)) tabindex="0" {
                h4 { (tab_name(form.format)) }
                pre tabindex="0" { code id=(text) { (form.text) } }
                div.actions {
                    button type="button" data-copy=(text) { "Copy the " (tab_name(form.format)) }
                    button type="button" data-download=(text) data-filename=(form.file)
                        data-type=(form.format.media_type()) { "Download " (form.file) }
                    span.status aria-live="polite" {}
                }
            }
        }
        div.tabpanel role="tabpanel" id=(panel("command")) aria-labelledby=(tab("command")) tabindex="0" {
            h4 { "AWS CLI" }
            p { (apply) }
            pre tabindex="0" { code id=(format!("{id}-command")) { (command) } }
            div.actions {
                button type="button" data-copy=(format!("{id}-command")) { "Copy the command" }
                span.status aria-live="polite" {}
            }
        }
    }
}

/// One fact: its label, then each value with a copy button, and where the source page
/// prints the value wrongly, what it prints and why the value shown is served instead.
fn fact<'a>(pod: &Pod, key: &str, label: &str, values: impl Iterator<Item = &'a str>) -> Markup {
    html! {
        div.fact {
            dt { (label) }
            dd {
                @for (i, value) in values.enumerate() {
                    @let id = format!("{key}-{i}");
                    div.value {
                        code #(id) { (breakable(value)) }
                        button type="button" data-copy=(id) aria-label=(format!("Copy {value}")) { "Copy" }
                        span.status aria-live="polite" {}
                    }
                    @if let Some(correction) = pod.correction(value) {
                        p.note { "The source page prints " code { (correction.source_page.as_str()) } ". "
                            (correction.why.as_str()) }
                    }
                }
            }
        }
    }
}

/// `value`, escaped, with a line-break opportunity after each `/`, `.` and `:`: a long
/// URL or ARN on a narrow screen breaks there rather than mid-word. `<wbr>` adds no
/// text, so what is copied is the value.
fn breakable(value: &str) -> Markup {
    html! {
        @for piece in value.split_inclusive(['/', '.', ':']) {
            (piece) @if piece.ends_with(['/', '.', ':']) { wbr; }
        }
    }
}

/// A fact whose values are words to read, not to paste: no copy buttons.
fn words_fact<'a>(label: &str, values: impl Iterator<Item = &'a str>) -> Markup {
    let values: Vec<&str> = values.collect();
    html! {
        div.fact {
            dt { (label) }
            dd { (values.join(", ")) }
        }
    }
}

/// "Check a policy you already have": a pasted policy, posted to `url` (never put in a
/// URL); `podmeta.js` shows each finding beside the line its pointer names, with the fix.
fn check_box(id: &str, kind: &str, url: &str, what: &str) -> Markup {
    let field = format!("check-{id}-policy");
    html! {
        h3 #(format!("check-{id}")) { "Check " (kind) " you already have" }
        form.builder.check #(format!("check-{id}-form")) data-url=(url) aria-labelledby=(format!("check-{id}")) {
            div {
                label for=(field) { (what) }
                textarea #(field) rows="8" autocomplete="off" spellcheck="false"
                    aria-describedby=(format!("check-{id}-hint check-{id}-errors")) {}
                p.hint #(format!("check-{id}-hint")) { "Sent in the body of a POST to " code { (url) } ", never in a URL." }
                ul.errors #(format!("check-{id}-errors")) aria-live="polite" {}
            }
            div { button.primary type="submit" { "Check the policy" } }
        }
        div.result.checked #(format!("check-{id}-result")) hidden {
            p #(format!("check-{id}-summary")) aria-live="polite" {}
            ol.policy-lines #(format!("check-{id}-lines")) aria-label="The policy, line by line, with each finding under its line" {}
        }
    }
}

/// "Which pod is this?": the answer comes from `POST /lookup`.
fn lookup_section() -> Markup {
    html! {
        section aria-labelledby="lookup" {
            h2 #lookup { "Which pod is this?" }
            form.builder #lookup-form {
                div {
                    label for="lookup-q" { "A host, URL, IP address, API key, AWS region or ARN" }
                    div.row {
                        input #lookup-q type="text" autocomplete="off" spellcheck="false"
                            placeholder="https://app.eu1.mparticle.com or sftp.mparticle.com"
                            aria-describedby="lookup-hint lookup-errors";
                        button.primary type="submit" { "Find the pod" }
                    }
                    p.hint #lookup-hint { "Sent in the body of a POST, never in a URL: an API key stays out of logs." }
                    ul.errors #lookup-errors aria-live="polite" {}
                    p #lookup-answer aria-live="polite" {}
                }
            }
        }
    }
}

/// The page around `body`: head, the pod picker, and the footer.
fn document(
    catalog: &Catalog,
    current: Option<usize>,
    title: &str,
    heading: &str,
    lede: Markup,
    body: Markup,
) -> String {
    let table = catalog.table();
    let [css, js, icon] = &*ASSETS;
    let pod_id = current.map(|i| table.pod_at(i).id().to_string());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · podmeta" }
                link rel="icon" type="image/svg+xml" href=(format!("/ui/assets/{}", icon.name));
                link rel="stylesheet" href=(format!("/ui/assets/{}", css.name));
                script src=(format!("/ui/assets/{}", js.name)) defer {}
            }
            body data-pod=[pod_id.as_deref()] {
                a.skip href="#main" { "Skip to the facts" }
                header {
                    p.brand { a href="/ui/" { "podmeta" } " · mParticle pod setup" }
                    h1 { (heading) }
                    p { (lede) }
                    nav.pods aria-label="Pods" {
                        ul {
                            @for (i, pod) in table.pods().iter().enumerate() {
                                li { a href=(format!("/ui/{}", pod.id()))
                                    aria-current=[(current == Some(i)).then_some("page")] {
                                    (pod.id().display_name()) " " small { (pod.location.as_str()) } } }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer {
                    p { "podmeta " (env!("CARGO_PKG_VERSION")) " · table " code { (table.version()) }
                        " · " a href="/openapi.yaml" { "the API's contract" } " · " a href="/pods" { "the pods as JSON" } }
                }
            }
        }
    }
    .into_string()
}
