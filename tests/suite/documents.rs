//! Rendered documents, per pod, against the documented text: the IAM policy, the Lambda
//! ARN builder and the SDK settings.

use crate::common::{PODS, spawn_app};
use axum::http::StatusCode;
use serde_json::{Value, json};

const FACTS: &str = include_str!("../fixtures/mparticle-facts.md");

/// The documented IAM policy (written for us-east-1) with another region.
fn documented_iam_policy(region: &str) -> Value {
    let block = FACTS
        .split("```json\n")
        .nth(1)
        .and_then(|r| r.split("```").next())
        .expect("the facts file documents the IAM policy");
    serde_json::from_str(&block.replace("us-east-1", region)).unwrap()
}

#[tokio::test]
async fn the_iam_policy_of_each_pod_is_the_documented_one_in_its_region() {
    let app = spawn_app();
    for pod in PODS {
        let region = app.get(&format!("/pods/{pod}")).await.json()["aws_region"].clone();
        let response = app.get(&format!("/pods/{pod}/rules/iam-policy")).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.content_type(), "application/json");
        insta::assert_snapshot!(format!("iam-policy-{pod}"), response.text());
        assert_eq!(
            response.json(),
            documented_iam_policy(region.as_str().unwrap()),
            "{pod}"
        );
        let sids: Vec<&str> = ["mpRulesLogs", "mpRulesMetrics", "mpRulesLambda"].to_vec();
        let served = response.json();
        let served_sids: Vec<&str> = served["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(served_sids, sids);
    }
}

#[tokio::test]
async fn the_lambda_arn_has_the_documented_shape_in_the_pods_region() {
    let app = spawn_app();
    for (pod, region) in [
        ("us1", "us-east-1"),
        ("us2", "us-east-1"),
        ("eu1", "eu-central-1"),
        ("au1", "ap-southeast-2"),
    ] {
        let response = app
            .get(&format!(
                "/pods/{pod}/rules/lambda-arn?account_id=123456789012&function=mpr_my-fn1&alias=%24LATEST"
            ))
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.json(),
            json!({ "arn": format!("arn:aws:lambda:{region}:123456789012:function:mpr_my-fn1:$LATEST") })
        );
    }
}

#[tokio::test]
async fn the_lambda_arn_of_the_page_placeholders_is_the_pages_example() {
    let app = spawn_app();
    for pod in PODS {
        let examples = app.get(&format!("/pods/{pod}/rules")).await.json()["example_arns"].clone();
        for (i, alias) in ["PROD", "%24LATEST"].iter().enumerate() {
            let built = app
                .get(&format!(
                    "/pods/{pod}/rules/lambda-arn?account_id=999999999999&function=mprmylambdafunction&alias={alias}"
                ))
                .await
                .json();
            assert_eq!(built["arn"], examples[i], "{pod} {alias}");
        }
    }
}

#[tokio::test]
async fn every_rule_of_the_lambda_arn_builder_is_a_422_naming_it() {
    let app = spawn_app();
    let good = [
        ("account_id", "123456789012"),
        ("function", "mprfn"),
        ("alias", "PROD"),
    ];
    let long = format!("mpr{}", "a".repeat(62));
    let cases: Vec<(&str, &str, &str)> = vec![
        ("account_id", "12345678901", "twelve-digits"),
        ("account_id", "1234567890123", "twelve-digits"),
        ("account_id", "12345678901x", "twelve-digits"),
        ("function", "myfn", "prefix"),
        ("function", "mpr.fn", "characters"),
        ("function", "mpr%20fn", "characters"),
        ("function", &long, "length"),
        ("alias", "prod", "alias"),
        ("alias", "DEV", "alias"),
    ];
    for (name, value, rule) in cases {
        let query: Vec<String> = good
            .iter()
            .map(|&(n, v)| format!("{n}={}", if n == name { value } else { v }))
            .collect();
        let problem = app
            .get(&format!("/pods/eu1/rules/lambda-arn?{}", query.join("&")))
            .await
            .problem(422);
        assert_eq!(
            problem["errors"],
            json!([{ "parameter": name, "rule": rule, "detail": problem["errors"][0]["detail"] }]),
            "{name}={value}"
        );
    }
}

#[tokio::test]
async fn the_lambda_arn_builder_requires_all_three_and_names_each_missing_one() {
    let problem = spawn_app()
        .get("/pods/eu1/rules/lambda-arn?function=mprfn")
        .await
        .problem(422);
    let missing: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["parameter"].as_str().unwrap(),
                e["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(missing, [("account_id", "required"), ("alias", "required")]);
}

#[tokio::test]
async fn the_lambda_arn_builder_refuses_unknown_or_repeated_parameters_with_a_400() {
    let app = spawn_app();
    app.get("/pods/eu1/rules/lambda-arn?account_id=123456789012&function=mprfn&alias=PROD&x=1")
        .await
        .problem(400);
    app.get(
        "/pods/eu1/rules/lambda-arn?account_id=123456789012&function=mprfn&alias=PROD&alias=PROD",
    )
    .await
    .problem(400);
    app.get("/pods/zz9/rules/lambda-arn?account_id=123456789012&function=mprfn&alias=PROD")
        .await
        .problem(404);
}

/// The facts file's table of server SDKs: `(sdk, setting, value for EU1)`.
fn documented_sdk_settings() -> Vec<(String, String, String)> {
    FACTS
        .lines()
        .skip_while(|l| !l.starts_with("## How each server SDK"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| SDK") && !l.starts_with("| ---"))
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let value = cells[3].split('`').nth(1).unwrap().to_owned();
            (cells[1].to_owned(), cells[2].replace('`', ""), value)
        })
        .collect()
}

#[tokio::test]
async fn each_server_sdk_gets_the_documented_setting_and_value_for_each_pod() {
    let documented = documented_sdk_settings();
    assert_eq!(documented.len(), 5, "{documented:?}");
    let app = spawn_app();
    for pod in PODS {
        let body = app.get(&format!("/pods/{pod}/sdks")).await.json();
        assert_eq!(body["pod"], pod);
        let sdks = body["server_sdks"].as_array().unwrap();
        assert_eq!(sdks.len(), 5);
        for (sdk, setting, eu1_value) in &documented {
            let served = sdks.iter().find(|s| s["sdk"] == **sdk).unwrap();
            // The facts file may explain a setting after naming it; the name comes first.
            assert!(
                setting.starts_with(served["setting"].as_str().unwrap()),
                "{sdk}: {setting} vs {}",
                served["setting"]
            );
            let expected = eu1_value.replace("eu1", pod);
            let values: Vec<&str> = served["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            if pod == "us1" {
                // The SDKs' default (`https://s2s.mparticle.com/v2`, that is US1) comes first.
                assert_eq!(values, [eu1_value.replace("eu1.", ""), expected], "{sdk}");
                assert_eq!(served["is_sdk_default"], true);
            } else {
                assert_eq!(values, [expected], "{sdk} {pod}");
                assert_eq!(served["is_sdk_default"], false);
            }
            let snippet = served["snippet"].as_str().unwrap();
            assert!(snippet.contains(values[0]), "{sdk} {pod}: {snippet}");
        }
    }
}

#[tokio::test]
async fn the_sdk_documents_match_their_snapshots() {
    let app = spawn_app();
    for pod in PODS {
        let response = app.get(&format!("/pods/{pod}/sdks")).await;
        insta::assert_snapshot!(format!("sdks-{pod}"), response.text());
    }
}

#[tokio::test]
async fn client_sdk_hosts_insert_the_pod_after_the_first_label() {
    let app = spawn_app();
    let eu1 = app.get("/pods/eu1/sdks").await.json();
    assert_eq!(
        eu1["client_sdk_hosts"],
        json!([
            {"default_host": "jssdks.mparticle.com", "hosts": ["jssdks.eu1.mparticle.com"]},
            {"default_host": "identity.mparticle.com", "hosts": ["identity.eu1.mparticle.com"]},
            {"default_host": "nativesdks.mparticle.com", "hosts": ["nativesdks.eu1.mparticle.com"]},
        ])
    );
    let us1 = app.get("/pods/us1/sdks").await.json();
    assert_eq!(
        us1["client_sdk_hosts"][0]["hosts"],
        json!(["jssdks.mparticle.com", "jssdks.us1.mparticle.com"])
    );
}
