//! The HTTP API, driven in-process: every resource, and every error status.

use crate::common::{PODS, spawn_app};
use axum::http::{Method, StatusCode, header};
use serde_json::json;

#[tokio::test]
async fn get_pods_lists_a_summary_of_every_pod_in_table_order() {
    let app = spawn_app();
    let response = app.get("/pods").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.content_type(), "application/json");
    assert_eq!(
        response.json()["pods"][2],
        json!({
            "id": "eu1",
            "name": "EU1",
            "location": "Europe",
            "aws_region": "eu-central-1",
            "href": "/pods/eu1"
        })
    );
    let ids: Vec<_> = response.json()["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, PODS);
}

#[tokio::test]
async fn every_summary_links_to_its_pod() {
    let app = spawn_app();
    for summary in app.get("/pods").await.json()["pods"].as_array().unwrap() {
        let pod = app.get(summary["href"].as_str().unwrap()).await;
        assert_eq!(pod.status, StatusCode::OK);
        assert_eq!(pod.json()["id"], summary["id"]);
    }
}

#[tokio::test]
async fn get_pod_returns_the_whole_pod() {
    let body = spawn_app().get("/pods/eu1").await.json();
    assert_eq!(
        body,
        json!({
            "id": "eu1",
            "name": "EU1",
            "location": "Europe",
            "login_urls": ["https://app.eu1.mparticle.com"],
            "events_api": {
                "events": ["https://s2s.eu1.mparticle.com/v2/events"],
                "bulkevents": ["https://s2s.eu1.mparticle.com/v2/bulkevents"],
                "bulkevents_historical": ["https://s2s.eu1.mparticle.com/v2/bulkevents/historical"]
            },
            "sftp": {"hosts": ["sftp.eu1.mparticle.com"], "port": 4422, "ip": "18.157.92.224"},
            "aws_region": "eu-central-1",
            "rules": {
                "aws_region": "eu-central-1",
                "function_name_prefix": "mpr",
                "aliases": ["PROD", "$LATEST"],
                "iam_resources": [
                    "arn:aws:logs:eu-central-1:*:log-group:/aws/lambda/mpr*",
                    "arn:aws:lambda:eu-central-1:*:function:mpr*"
                ],
                "example_arns": [
                    "arn:aws:lambda:eu-central-1:999999999999:function:mprmylambdafunction:PROD",
                    "arn:aws:lambda:eu-central-1:999999999999:function:mprmylambdafunction:$LATEST"
                ]
            },
            "s3": {
                "bucket_prefix": "mp-forwarding-",
                "principals": [
                    "arn:aws:iam::583371261087:role/Prod-Role-DG12-Default",
                    "arn:aws:iam::583371261087:role/verifyrequest_lambda"
                ]
            },
            "ip_ranges_url": "https://api.mparticle.com/ip-ranges",
            "sdks_requiring_pod": ["Go", "Java", "Node", "Python", "Ruby"]
        })
    );
}

#[tokio::test]
async fn us1_lists_its_canonical_names_first() {
    let body = spawn_app().get("/pods/us1").await.json();
    assert_eq!(body["login_urls"][0], "https://app.mparticle.com");
    assert_eq!(body["login_urls"][1], "https://app.us1.mparticle.com");
    assert_eq!(
        body["events_api"]["events"][0],
        "https://s2s.mparticle.com/v2/events"
    );
    assert_eq!(
        body["sftp"]["hosts"],
        json!(["sftp.mparticle.com", "sftp.us1.mparticle.com"])
    );
}

#[tokio::test]
async fn us2_serves_the_corrected_bulk_endpoint() {
    let body = spawn_app().get("/pods/us2/events-api").await.json();
    assert_eq!(
        body["bulkevents"],
        json!(["https://s2s.us2.mparticle.com/v2/bulkevents"])
    );
}

#[tokio::test]
async fn each_part_of_a_pod_is_a_resource_of_its_own_that_matches_the_whole() {
    let app = spawn_app();
    for pod in PODS {
        let whole = app.get(&format!("/pods/{pod}")).await.json();
        let part = |path: &'static str| {
            let app = &app;
            async move {
                let response = app.get(&format!("/pods/{pod}/{path}")).await;
                assert_eq!(response.status, StatusCode::OK, "{path}");
                assert_eq!(response.content_type(), "application/json");
                let body = response.json();
                assert_eq!(body["pod"], pod, "{path} carries the pod id");
                body
            }
        };
        let login = part("login").await;
        assert_eq!(
            login,
            json!({"pod": pod, "login_urls": whole["login_urls"]})
        );
        let mut events = whole["events_api"].clone();
        events["pod"] = json!(pod);
        assert_eq!(part("events-api").await, events);
        let mut sftp = whole["sftp"].clone();
        sftp["pod"] = json!(pod);
        assert_eq!(part("sftp").await, sftp);
        let mut rules = whole["rules"].clone();
        rules["pod"] = json!(pod);
        assert_eq!(part("rules").await, rules);
        assert_eq!(
            part("aws").await,
            json!({
                "pod": pod,
                "aws_region": whole["aws_region"],
                "bucket_prefix": whole["s3"]["bucket_prefix"],
                "principals": whole["s3"]["principals"],
            })
        );
    }
}

#[tokio::test]
async fn pod_ids_match_in_any_case_and_bodies_carry_the_canonical_id() {
    let app = spawn_app();
    for path in ["/pods/EU1", "/pods/Eu1", "/pods/EU1/sftp"] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let body = response.json();
        assert_eq!(body.get("id").or(body.get("pod")).unwrap(), "eu1", "{path}");
    }
}

#[tokio::test]
async fn head_is_answered_on_every_get_route_without_a_body() {
    let app = spawn_app();
    for path in ["/pods", "/pods/eu1", "/pods/eu1/aws"] {
        let response = app.send(Method::HEAD, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert!(response.body.is_empty());
    }
}

#[tokio::test]
async fn a_bucket_policy_is_the_source_template_filled_in_for_each_pod() {
    let app = spawn_app();
    for pod in PODS {
        let response = app
            .post_bucket_policy(pod, r#"{"bucket": "mp-forwarding-acme"}"#)
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.content_type(), "application/json");
        insta::assert_snapshot!(format!("bucket-policy-{pod}"), response.text());
    }
}

#[tokio::test]
async fn the_policies_are_the_page_template_with_its_placeholders_replaced_byte_for_byte() {
    let template = crate::common::SOURCE_PAGE
        .split("~~~json\n")
        .nth(1)
        .and_then(|rest| rest.split("~~~").next())
        .expect("the page has its template");
    for pod in PODS {
        let whole = spawn_app().get(&format!("/pods/{pod}")).await.json();
        let principals = &whole["s3"]["principals"];
        let expected = template
            .replace("{bucket}", "mp-forwarding-acme")
            .replace("{arn1}", principals[0].as_str().unwrap())
            .replace("{arn2}", principals[1].as_str().unwrap());
        let served = spawn_app()
            .post_bucket_policy(pod, r#"{"bucket": "mp-forwarding-acme"}"#)
            .await;
        assert_eq!(served.text(), expected, "{pod}");
    }
}

#[tokio::test]
async fn an_invalid_bucket_name_is_a_422_naming_each_broken_rule() {
    let app = spawn_app();
    let response = app
        .post_bucket_policy("eu1", r#"{"bucket": "Acme..x-"}"#)
        .await;
    let problem = response.problem(422);
    let rules = crate::common::TestResponse::rules(&problem);
    assert_eq!(
        rules,
        [
            "characters",
            "ends",
            "adjacent-periods",
            "forwarding-prefix"
        ]
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("must begin with 'mp-forwarding-'")
    );
    assert_eq!(problem["errors"][0]["pointer"], "#/bucket");
}

#[tokio::test]
async fn each_s3_naming_rule_is_enforced_over_http() {
    let app = spawn_app();
    for (bucket, rule) in [
        ("mp-forwarding-", "ends"),
        (&*format!("mp-forwarding-{}", "a".repeat(50)), "length"),
        ("mp-forwarding-a_b", "characters"),
        ("mp-forwarding-acme-s3alias", "reserved-suffix"),
        ("mp-forwarding-acme--x-s3", "reserved-suffix"),
        ("mp-forwarding-acme--ol-s3", "reserved-suffix"),
        ("mp-forwarding-acme--table-s3", "reserved-suffix"),
        ("mp-forwarding-acme.mrap", "reserved-suffix"),
        ("acme", "forwarding-prefix"),
        ("xn--acme", "reserved-prefix"),
        ("sthree-acme", "reserved-prefix"),
        ("amzn-s3-demo-acme", "reserved-prefix"),
        ("192.168.5.4", "ip-address-shape"),
    ] {
        let response = app
            .post_bucket_policy("eu1", &json!({ "bucket": bucket }).to_string())
            .await;
        let problem = response.problem(422);
        let rules = problem["errors"].to_string();
        assert!(rules.contains(&format!("\"{rule}\"")), "{bucket}: {rules}");
    }
}

#[tokio::test]
async fn an_unknown_pod_is_a_404_listing_the_known_ones() {
    let app = spawn_app();
    for path in ["/pods/xx1", "/pods/eu2/sftp", "/pods/not-a-pod"] {
        let problem = app.get(path).await.problem(404);
        assert_eq!(problem["type"], "urn:podmeta:problem:unknown-pod");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("us1, us2, eu1, au1"), "{detail}");
    }
    let problem = app
        .post_bucket_policy("zz9", r#"{"bucket": "mp-forwarding-acme"}"#)
        .await
        .problem(404);
    assert_eq!(problem["type"], "urn:podmeta:problem:unknown-pod");
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let app = spawn_app();
    for path in [
        "/pod",
        "/pods/",
        "/pods/eu1/nope",
        "/pods/eu1/sftp/x",
        "/index.html",
    ] {
        let problem = app.get(path).await.problem(404);
        assert_eq!(problem["type"], "about:blank", "{path}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_an_allow_header() {
    let app = spawn_app();
    for (method, path, allow) in [
        (Method::DELETE, "/pods", "GET,HEAD"),
        (Method::POST, "/pods/eu1", "GET,HEAD"),
        (Method::PUT, "/pods/eu1/sftp", "GET,HEAD"),
        (Method::GET, "/pods/eu1/bucket-policy", "POST"),
    ] {
        let response = app.send(method, path).await;
        response.problem(405);
        assert_eq!(response.headers[header::ALLOW], allow, "{path}");
    }
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let problem = spawn_app()
        .post_bucket_policy("eu1", r#"{"bucket": "#)
        .await
        .problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("JSON"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        app.post("/pods/eu1/bucket-policy", content_type, "bucket=x")
            .await
            .problem(415);
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413() {
    let big = format!(r#"{{"bucket": "{}"}}"#, "a".repeat(64 * 1024));
    spawn_app()
        .post_bucket_policy("eu1", &big)
        .await
        .problem(413);
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_422() {
    let app = spawn_app();
    for body in [
        r#"{}"#,
        r#"{"bucket": 5}"#,
        r#"{"bucket": "mp-forwarding-a", "x": 1}"#,
        "[]",
        "null",
    ] {
        app.post_bucket_policy("eu1", body).await.problem(422);
    }
}

#[tokio::test]
async fn a_path_that_does_not_decode_is_a_400_not_a_5xx() {
    spawn_app().get("/pods/%FF").await.problem(400);
}
