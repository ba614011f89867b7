//! The policies as infrastructure code (`?format=terraform`, `?format=cloudformation`):
//! the same statements as the JSON, HTTP as for the JSON, and a 422 for a format there is
//! not. (`scripts/iac-check.sh` reads every pod's output with python-hcl2 and cfn-lint.)

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;

use crate::common::{PODS, TestApp, TestResponse, spawn_app, yaml_text};
use podmeta::internals::{Reloaded, reload};
use podmeta::{AppState, BUILTIN_TOML, Catalog, Table};

const BUCKET: &str = r#"{"bucket": "mp-forwarding-acme"}"#;

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

async fn post_bucket_policy(app: &TestApp, pod: &str, query: &str) -> TestResponse {
    app.post(
        &format!("/pods/{pod}/bucket-policy{query}"),
        Some("application/json"),
        BUCKET,
    )
    .await
}

/// A value that may be a string or a list of strings, as a list.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("not a string or a list: {other}"),
    }
}

/// The statements of a JSON policy as (sid, effect, actions, resources, principals).
type Flat = (
    Option<String>,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
);

fn flat_json(policy: &Value) -> Vec<Flat> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Sid"].as_str().map(str::to_owned),
                s["Effect"].as_str().unwrap().to_owned(),
                strings(&s["Action"]),
                strings(&s["Resource"]),
                s.get("Principal").map_or(vec![], |p| strings(&p["AWS"])),
            )
        })
        .collect()
}

/// The `statement` blocks of the Terraform, read line by line: enough to compare with the
/// JSON here, where the whole file is podmeta's layout (python-hcl2 reads it in CI).
fn flat_terraform(hcl: &str) -> Vec<Flat> {
    let attribute = regex::Regex::new(r#"^\s*(\w+)\s+= (.*)$"#).unwrap();
    let list = |value: &str| -> Vec<String> {
        serde_json::from_str::<Vec<String>>(value).unwrap_or_else(|e| panic!("{e}: {value}"))
    };
    let mut statements = Vec::new();
    for block in hcl.split("  statement {\n").skip(1) {
        let block = block.split("\n  }\n").next().unwrap();
        let mut flat: Flat = Default::default();
        for line in block.lines() {
            let Some(found) = attribute.captures(line) else {
                continue;
            };
            let value = &found[2];
            match &found[1] {
                "sid" => flat.0 = Some(serde_json::from_str(value).unwrap()),
                "effect" => flat.1 = serde_json::from_str(value).unwrap(),
                "actions" => flat.2 = list(value),
                "resources" => flat.3 = list(value),
                "identifiers" => flat.4 = list(value),
                "type" => assert_eq!(value, "\"AWS\""),
                other => panic!("unexpected attribute {other}"),
            }
        }
        statements.push(flat);
    }
    statements
}

#[tokio::test]
async fn each_pods_iam_policy_in_each_form_holds_the_json_policys_statements() {
    let app = spawn_app();
    for pod in PODS {
        let path = format!("/pods/{pod}/rules/iam-policy");
        let json = app.get(&path).await.json();

        let terraform = app.get(&format!("{path}?format=terraform")).await;
        assert_eq!(terraform.status, StatusCode::OK);
        assert_eq!(terraform.content_type(), "text/plain; charset=utf-8");
        assert_eq!(flat_terraform(terraform.text()), flat_json(&json), "{pod}");
        assert!(terraform.text().contains(&format!(
            "resource \"aws_iam_user_policy\" \"mparticle_rules_{pod}\" {{"
        )));

        let template = app.get(&format!("{path}?format=cloudformation")).await;
        assert_eq!(template.status, StatusCode::OK);
        assert_eq!(template.content_type(), "application/yaml");
        let template = yaml_text(template.text());
        assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
        let id = format!("MparticleRules{}", pod.to_uppercase());
        let resource = &template["Resources"][&id];
        assert_eq!(resource["Type"], "AWS::IAM::Policy", "{pod}");
        assert_eq!(resource["Properties"]["PolicyDocument"], json, "{pod}");
        assert_eq!(
            resource["Properties"]["Users"],
            serde_json::json!([{"Ref": "RulesUser"}])
        );
        assert_eq!(template["Parameters"]["RulesUser"]["Type"], "String");
    }
}

#[tokio::test]
async fn each_pods_bucket_policy_in_each_form_holds_the_json_policys_statements() {
    let app = spawn_app();
    for pod in PODS {
        let json = post_bucket_policy(&app, pod, "").await.json();

        let terraform = post_bucket_policy(&app, pod, "?format=terraform").await;
        assert_eq!(terraform.status, StatusCode::OK);
        assert_eq!(terraform.content_type(), "text/plain; charset=utf-8");
        assert_eq!(flat_terraform(terraform.text()), flat_json(&json), "{pod}");
        let text = terraform.text();
        assert!(text.contains(&format!(
            "resource \"aws_s3_bucket_policy\" \"mparticle_forwarding_{pod}\" {{\n  bucket = \"mp-forwarding-acme\"\n"
        )));
        assert!(text.contains("replaces the bucket's whole policy"));
        assert!(text.contains("  # source_policy_documents = ["));

        let template = post_bucket_policy(&app, pod, "?format=cloudformation").await;
        assert_eq!(template.status, StatusCode::OK);
        assert_eq!(template.content_type(), "application/yaml");
        assert!(
            template
                .text()
                .contains("replaces the bucket's whole policy")
        );
        let template = yaml_text(template.text());
        let id = format!("MparticleForwarding{}", pod.to_uppercase());
        let properties = &template["Resources"][&id]["Properties"];
        assert_eq!(template["Resources"][&id]["Type"], "AWS::S3::BucketPolicy");
        assert_eq!(properties["Bucket"], "mp-forwarding-acme");
        assert_eq!(properties["PolicyDocument"], json, "{pod}");
    }
}

#[tokio::test]
async fn the_eu1_forms_match_their_snapshots() {
    let app = spawn_app();
    let version = Table::builtin().unwrap().version().to_owned();
    let stable = |response: TestResponse| response.text().replace(&version, "[table version]");
    let iam = "/pods/eu1/rules/iam-policy";
    insta::assert_snapshot!(
        "iam-policy-eu1-terraform",
        stable(app.get(&format!("{iam}?format=terraform")).await)
    );
    insta::assert_snapshot!(
        "iam-policy-eu1-cloudformation",
        stable(app.get(&format!("{iam}?format=cloudformation")).await)
    );
    insta::assert_snapshot!(
        "bucket-policy-eu1-terraform",
        stable(post_bucket_policy(&app, "eu1", "?format=terraform").await)
    );
    insta::assert_snapshot!(
        "bucket-policy-eu1-cloudformation",
        stable(post_bucket_policy(&app, "eu1", "?format=cloudformation").await)
    );
}

#[tokio::test]
async fn each_form_of_the_get_is_a_resource_of_its_own_with_etag_304_head_and_compression() {
    let app = spawn_app();
    let path = "/pods/eu1/rules/iam-policy";
    let json_etag = app.get(path).await.headers[header::ETAG].clone();
    for format in ["terraform", "cloudformation"] {
        let target = format!("{path}?format={format}");
        let full = app.get(&target).await;
        let etag = full.headers[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(full.headers[header::ETAG], json_etag, "{format}");
        assert_eq!(full.headers[header::VARY], "accept-encoding");

        let again = get_with(&app, &target, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{format}");
        assert!(again.body.is_empty());

        let head = app.send(Method::HEAD, &target).await;
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());
        assert_eq!(head.headers[header::ETAG], full.headers[header::ETAG]);
        assert_eq!(
            head.headers[header::CONTENT_TYPE],
            full.headers[header::CONTENT_TYPE]
        );

        let gzip = get_with(&app, &target, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gzip.headers[header::CONTENT_ENCODING], "gzip", "{format}");
        assert_eq!(
            gzip.headers[header::ETAG].to_str().unwrap(),
            format!("{}-gzip\"", etag.trim_end_matches('"'))
        );
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(gzip.body.as_slice()),
            &mut plain,
        )
        .unwrap();
        assert_eq!(plain, full.body, "{format}");

        // With an Origin the router answers: the same bytes, and the CORS headers.
        let cors = get_with(&app, &target, &[("origin", "https://portal.example")]).await;
        assert_eq!(cors.body, full.body, "{format}");
        assert_eq!(cors.headers[header::ETAG], full.headers[header::ETAG]);
        assert!(cors.headers.contains_key("access-control-allow-origin"));
    }
    // `format=json` is the JSON itself, and other parameters are not the format's.
    let explicit = app.get(&format!("{path}?format=json&utm_source=x")).await;
    assert_eq!(explicit.headers[header::ETAG], json_etag);
}

#[tokio::test]
async fn an_unknown_or_repeated_format_is_a_422_that_lists_the_formats() {
    let app = spawn_app();
    let targets = [
        "/pods/eu1/rules/iam-policy?format=hcl",
        "/pods/eu1/rules/iam-policy?format=Terraform",
        "/pods/eu1/rules/iam-policy?format=",
        "/pods/eu1/rules/iam-policy?format=json&format=terraform",
    ];
    for target in targets {
        for origin in [None, Some("https://portal.example")] {
            let headers: Vec<(&str, &str)> = origin.iter().map(|o| ("origin", *o)).collect();
            let problem = get_with(&app, target, &headers).await.problem(422);
            let error = &problem["errors"][0];
            assert_eq!(error["parameter"], "format", "{target}");
            assert!(
                error["detail"]
                    .as_str()
                    .unwrap()
                    .contains("json, terraform, cloudformation"),
                "{target}: {problem}"
            );
        }
        let query = target.split_once('?').unwrap().1;
        let posted = post_bucket_policy(&app, "eu1", &format!("?{query}")).await;
        assert_eq!(posted.problem(422)["errors"][0]["parameter"], "format");
    }
    // A HEAD says the same without the body.
    let head = app.send(Method::HEAD, targets[0]).await;
    assert_eq!(head.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn the_posted_forms_are_not_stored_and_a_bad_bucket_is_still_named() {
    let app = spawn_app();
    for format in ["terraform", "cloudformation"] {
        let posted = post_bucket_policy(&app, "eu1", &format!("?format={format}")).await;
        assert_eq!(posted.headers[header::CACHE_CONTROL], "no-store");
        assert!(!posted.headers.contains_key(header::ETAG));
        let bad = app
            .post(
                &format!("/pods/eu1/bucket-policy?format={format}"),
                Some("application/json"),
                r#"{"bucket": "Acme"}"#,
            )
            .await
            .problem(422);
        assert_eq!(bad["errors"][0]["pointer"], "#/bucket");
    }
}

#[tokio::test]
async fn both_forms_change_when_the_table_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.toml");
    std::fs::write(&path, BUILTIN_TOML).unwrap();
    let app = TestApp {
        state: AppState::new(Catalog::new(Table::from_path(&path).unwrap())),
    };
    let iam = "/pods/eu1/rules/iam-policy";
    let mut before = Vec::new();
    for format in ["terraform", "cloudformation"] {
        before.push(app.get(&format!("{iam}?format={format}")).await);
        before.push(post_bucket_policy(&app, "eu1", &format!("?format={format}")).await);
    }
    let edited = BUILTIN_TOML
        .replace("eu-central-1", "eu-west-1")
        .replace("583371261087", "583371261088");
    std::fs::write(&path, edited).unwrap();
    assert!(matches!(
        reload(&app.state, &path, false),
        Reloaded::Swapped { .. }
    ));
    let mut after = Vec::new();
    for format in ["terraform", "cloudformation"] {
        after.push(app.get(&format!("{iam}?format={format}")).await);
        after.push(post_bucket_policy(&app, "eu1", &format!("?format={format}")).await);
    }
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(new.status, StatusCode::OK, "{}", new.text());
        assert!(!old.text().contains("583371261088") && !old.text().contains("eu-west-1"));
        assert!(
            new.text().contains("583371261088") || new.text().contains("eu-west-1"),
            "{}",
            new.text()
        );
        assert!(!new.text().contains("eu-central-1"), "{}", new.text());
    }
    for i in [0, 2] {
        assert_ne!(
            before[i].headers[header::ETAG],
            after[i].headers[header::ETAG]
        );
    }
}
