//! Reverse lookup: each kind with its hits, misses and bad input; and API keys leave no
//! trace in logs or error bodies.

use crate::common::{PODS, TestApp, TestResponse, spawn_app};
use axum::http::StatusCode;
use serde_json::Value;

/// The ids of the pods a lookup answers with, after checking the answer's shape.
pub async fn lookup(app: &TestApp, query: &str, matched_by: &str) -> Vec<String> {
    let response = app.get(&format!("/lookup?{query}")).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{query}: {}",
        response.text()
    );
    let body = response.json();
    assert_eq!(body["matched_by"], matched_by, "{query}");
    let summaries = app.get("/pods").await.json();
    body["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            // The same summaries as GET /pods.
            let same = summaries["pods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == p["id"]);
            assert_eq!(Some(p), same, "{query}");
            p["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

pub async fn miss(app: &TestApp, query: &str) -> Value {
    let problem = app.get(&format!("/lookup?{query}")).await.problem(404);
    assert_eq!(problem["type"], "urn:podmeta:problem:no-match", "{query}");
    problem
}

async fn bad(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/lookup?{query}")).await.problem(400)
}

#[tokio::test]
async fn every_host_in_the_table_finds_its_pod_in_any_case() {
    let app = spawn_app();
    for pod in PODS {
        let body = app.get(&format!("/pods/{pod}")).await.json();
        let mut hosts: Vec<String> = body["sftp"]["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
        for url in body["login_urls"]
            .as_array()
            .unwrap()
            .iter()
            .chain(body["events_api"]["events"].as_array().unwrap())
        {
            hosts.push(url.as_str().unwrap().split('/').nth(2).unwrap().to_owned());
        }
        for host in hosts {
            assert_eq!(
                lookup(&app, &format!("host={host}"), "host").await,
                [pod],
                "{host}"
            );
            let upper = host.to_ascii_uppercase();
            assert_eq!(
                lookup(&app, &format!("host={upper}"), "host").await,
                [pod],
                "{upper}"
            );
        }
    }
}

#[tokio::test]
async fn bare_mparticle_hosts_belong_where_the_table_says() {
    let app = spawn_app();
    assert_eq!(
        lookup(&app, "host=sftp.mparticle.com", "host").await,
        ["us1"]
    );
    assert_eq!(
        lookup(&app, "host=app.mparticle.com", "host").await,
        ["us1"]
    );
    assert_eq!(
        lookup(&app, "host=s2s.mparticle.com", "host").await,
        ["us1"]
    );
    assert_eq!(
        lookup(&app, "host=sftp.mparticle.com:4422", "host").await,
        ["us1"]
    );
    // Client-SDK default hosts route by API key: they name no pod.
    miss(&app, "host=jssdks.mparticle.com").await;
}

#[tokio::test]
async fn direct_routing_hosts_find_the_pod_they_name() {
    let app = spawn_app();
    for pod in PODS {
        for label in ["jssdks", "identity", "nativesdks", "anything"] {
            let host = format!("{label}.{pod}.mparticle.com");
            assert_eq!(
                lookup(&app, &format!("host={host}"), "host").await,
                [pod],
                "{host}"
            );
        }
    }
    miss(&app, "host=jssdks.eu9.mparticle.com").await;
    miss(&app, "host=jssdks.eu1.example.com").await;
    miss(&app, "host=example.com").await;
}

#[tokio::test]
async fn host_lookups_refuse_what_is_not_a_host() {
    let app = spawn_app();
    for query in [
        "host=",
        "host=localhost",
        "host=a%20b.com",
        "host=34.199.76.170",
        "host=https://app.mparticle.com",
    ] {
        let problem = bad(&app, query).await;
        assert!(
            problem["detail"].as_str().unwrap().starts_with("host:"),
            "{query}"
        );
    }
}

#[tokio::test]
async fn url_lookups_go_by_the_urls_host() {
    let app = spawn_app();
    assert_eq!(
        lookup(&app, "url=https://app.eu1.mparticle.com", "url").await,
        ["eu1"]
    );
    assert_eq!(
        lookup(
            &app,
            "url=https%3A%2F%2Fs2s.us2.mparticle.com%2Fv2%2Fbulkevents%3Fx%3D1",
            "url"
        )
        .await,
        ["us2"]
    );
    assert_eq!(
        lookup(
            &app,
            "url=sftp://user@sftp.au1.mparticle.com:4422/in",
            "url"
        )
        .await,
        ["au1"]
    );
    assert_eq!(
        lookup(
            &app,
            "url=https://identity.au1.mparticle.com/v1/identify",
            "url"
        )
        .await,
        ["au1"]
    );
    miss(&app, "url=https://example.com/").await;
    for query in [
        "url=",
        "url=app.eu1.mparticle.com",
        "url=https://",
        "url=https://[::1]/",
    ] {
        bad(&app, query).await;
    }
}

#[tokio::test]
async fn ip_lookups_find_the_sftp_ips() {
    let app = spawn_app();
    for (ip, pod) in [
        ("34.199.76.170", "us1"),
        ("52.45.156.86", "us2"),
        ("18.157.92.224", "eu1"),
        ("13.55.216.94", "au1"),
    ] {
        assert_eq!(lookup(&app, &format!("ip={ip}"), "ip").await, [pod]);
        assert_eq!(lookup(&app, &format!("ip=::ffff:{ip}"), "ip").await, [pod]);
    }
    miss(&app, "ip=10.0.0.1").await;
    miss(&app, "ip=2001:db8::1").await;
    for query in [
        "ip=",
        "ip=34.199.76",
        "ip=34.199.76.300",
        "ip=sftp.mparticle.com",
        "ip=034.199.76.170",
    ] {
        bad(&app, query).await;
    }
}

#[tokio::test]
async fn api_key_lookups_go_by_the_keys_prefix() {
    let app = spawn_app();
    assert_eq!(
        lookup(&app, "api_key=us2-0123abcd", "api_key").await,
        ["us2"]
    );
    assert_eq!(
        lookup(&app, "api_key=EU1-0123abcd", "api_key").await,
        ["eu1"]
    );
    assert_eq!(
        lookup(&app, "api_key=au1-0123-abcd", "api_key").await,
        ["au1"]
    );
    assert_eq!(
        lookup(&app, "api_key=us1-0123abcd", "api_key").await,
        ["us1"]
    );
    assert_eq!(lookup(&app, "api_key=0123abcd", "api_key").await, ["us1"]);
    miss(&app, "api_key=eu9-0123abcd").await;
    for query in ["api_key=", "api_key=has%20space", "api_key=tab%09key"] {
        bad(&app, query).await;
    }
}

#[tokio::test]
async fn region_lookups_find_every_pod_in_the_region() {
    let app = spawn_app();
    assert_eq!(
        lookup(&app, "aws_region=us-east-1", "aws_region").await,
        ["us1", "us2"]
    );
    assert_eq!(
        lookup(&app, "aws_region=eu-central-1", "aws_region").await,
        ["eu1"]
    );
    assert_eq!(
        lookup(&app, "aws_region=ap-southeast-2", "aws_region").await,
        ["au1"]
    );
    miss(&app, "aws_region=us-west-2").await;
    bad(&app, "aws_region=Frankfurt").await;
}

#[tokio::test]
async fn arn_lookups_match_principals_and_regions() {
    let app = spawn_app();
    for pod in PODS {
        let body = app.get(&format!("/pods/{pod}")).await.json();
        for principal in body["s3"]["principals"].as_array().unwrap() {
            let principal = principal.as_str().unwrap();
            assert_eq!(
                lookup(&app, &format!("arn={principal}"), "arn").await,
                [pod],
                "{principal}"
            );
        }
        for arn in body["rules"]["example_arns"]
            .as_array()
            .unwrap()
            .iter()
            .chain(body["rules"]["iam_resources"].as_array().unwrap())
        {
            let region = body["aws_region"].as_str().unwrap();
            let expected = lookup(&app, &format!("aws_region={region}"), "aws_region").await;
            let arn = arn.as_str().unwrap().replace('$', "%24");
            assert_eq!(
                lookup(&app, &format!("arn={arn}"), "arn").await,
                expected,
                "{arn}"
            );
        }
    }
    miss(&app, "arn=arn:aws:iam::123456789012:role/other").await;
    miss(&app, "arn=arn:aws:s3:::mp-forwarding-acme/*").await;
    for query in [
        "arn=",
        "arn=arn:aws",
        "arn=arn:aws:iam::1234:role/x",
        "arn=not-an-arn",
    ] {
        bad(&app, query).await;
    }
}

#[tokio::test]
async fn a_lookup_needs_exactly_one_known_parameter() {
    let app = spawn_app();
    bad(&app, "").await;
    let problem = bad(&app, "host=app.mparticle.com&ip=34.199.76.170").await;
    assert!(problem["detail"].as_str().unwrap().contains("got 2"));
    bad(&app, "host=app.mparticle.com&host=app.mparticle.com").await;
    let problem = bad(&app, "hostname=app.mparticle.com").await;
    assert!(problem["detail"].as_str().unwrap().contains("\"hostname\""));
    assert_eq!(app.get("/lookup").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_lookup_by_api_key_is_never_stored_by_any_cache_and_others_are_public() {
    let app = spawn_app();
    let by_key = app.get("/lookup?api_key=eu1-0123456789abcdef").await;
    assert_eq!(by_key.status, axum::http::StatusCode::OK);
    assert_eq!(
        by_key.headers[axum::http::header::CACHE_CONTROL],
        "private, no-store"
    );
    let by_host = app.get("/lookup?host=sftp.mparticle.com").await;
    assert_eq!(
        by_host.headers[axum::http::header::CACHE_CONTROL],
        "public, max-age=300"
    );
}

/// `q=` with its value percent-encoded.
fn q(value: &str) -> String {
    let mut encoded = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("q={encoded}")
}

#[tokio::test]
async fn q_works_out_the_kind_and_answers_as_the_named_parameter_would() {
    let app = spawn_app();
    // (value, the kind q must read it as)
    let cases = [
        ("https://App.EU1.mparticle.com/login?x=1", "url"),
        ("sftp://user@sftp.mparticle.com:4422/in", "url"),
        ("arn:aws:iam::583371261087:role/verifyrequest_lambda", "arn"),
        (
            "arn:aws:lambda:eu-central-1:123456789012:function:mprx:PROD",
            "arn",
        ),
        ("34.199.76.170", "ip"),
        ("::ffff:34.199.76.170", "ip"),
        ("eu-central-1", "aws_region"),
        ("eu1-0123456789abcdef", "api_key"),
        ("AU1-0123456789abcdef", "api_key"),
        ("0123456789abcdef", "api_key"),
        ("sftp.mparticle.com", "host"),
        ("S2S.us2.mparticle.com", "host"),
        ("sftp.eu1.mparticle.com:4422", "host"),
        ("jssdks.au1.mparticle.com", "host"),
    ];
    for (value, kind) in cases {
        let by_q = app.get(&format!("/lookup?{}", q(value))).await;
        let by_name = app.get(&format!("/lookup?{kind}={}", &q(value)[2..])).await;
        assert_eq!(by_q.status, StatusCode::OK, "{value}: {}", by_q.text());
        assert_eq!(by_q.json()["matched_by"], kind, "{value}");
        assert_eq!(by_q.text(), by_name.text(), "{value}");
        // Pasted white space is ignored.
        let padded = app
            .get(&format!("/lookup?{}", q(&format!(" {value}\n"))))
            .await;
        assert_eq!(padded.text(), by_q.text(), "{value:?} padded");
    }
}

#[tokio::test]
async fn q_reads_a_malformed_value_as_its_kind_and_never_repeats_it() {
    let app = spawn_app();
    // (value, the kind the error must name)
    for (value, kind) in [
        ("34.199.76", "an IP address"),
        ("1::2::3", "an IP address"),
        ("arn:aws:iam::12:role/Zq7secret", "an ARN"),
        ("ftp:///Zq7secret", "a URL"),
        ("eu1-Zq7 secret", "an API key"),
        ("Zq7secret..example.com", "a host name"),
    ] {
        let problem = bad(&app, &q(value)).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("q was read as {kind}: expected")),
            "{value}: {detail}"
        );
        assert!(!problem.to_string().contains("Zq7"), "{value}: {problem}");
    }
    for blank in ["", "%20%0A"] {
        let problem = bad(&app, &format!("q={blank}")).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("q is empty")
        );
    }
    let problem = bad(&app, &q(&"k".repeat(2049))).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("at most 2048 bytes")
    );
    // A kind that matches no pod is a 404, as for the named parameter.
    let problem = miss(&app, &q("app.example.com")).await;
    assert_eq!(problem["detail"], "No pod matches this host.");
    // q is one of the parameters: it does not combine with another.
    bad(&app, "q=sftp.mparticle.com&host=sftp.mparticle.com").await;
}

#[tokio::test]
async fn a_q_answer_is_never_stored_since_it_may_hold_a_key() {
    let app = spawn_app();
    for value in ["sftp.mparticle.com", "eu1-0123456789abcdef"] {
        let response = app.get(&format!("/lookup?{}", q(value))).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.headers[axum::http::header::CACHE_CONTROL],
            "private, no-store",
            "{value}"
        );
    }
}

/// `POST /lookup` with `body` as JSON.
async fn post_lookup(app: &TestApp, body: &str) -> TestResponse {
    app.post("/lookup", Some("application/json"), body.to_owned())
        .await
}

#[tokio::test]
async fn post_lookup_answers_as_get_with_q_with_the_value_out_of_the_url() {
    let app = spawn_app();
    for value in [
        "sftp.mparticle.com",
        "eu1-0123456789abcdef",
        "https://app.au1.mparticle.com",
        "52.45.156.86",
        "us-east-1",
        "arn:aws:iam::583371261087:role/verifyrequest_lambda",
    ] {
        let by_get = app.get(&format!("/lookup?{}", q(value))).await;
        let body = serde_json::json!({ "q": value }).to_string();
        let by_post = post_lookup(&app, &body).await;
        assert_eq!(
            by_post.status,
            StatusCode::OK,
            "{value}: {}",
            by_post.text()
        );
        assert_eq!(by_post.text(), by_get.text(), "{value}");
        assert_eq!(by_post.content_type(), "application/json");
        assert!(by_post.headers.get(axum::http::header::ETAG).is_none());
        let cache = by_post.headers[axum::http::header::CACHE_CONTROL]
            .to_str()
            .unwrap();
        assert!(cache.contains("no-store"), "{cache}");
    }
}

#[tokio::test]
async fn post_lookup_refuses_what_is_not_one_q_and_never_repeats_it() {
    let app = spawn_app();
    let problem = post_lookup(&app, r#"{"q": "eu1 Zq7secret"}"#)
        .await
        .problem(400);
    assert!(!problem.to_string().contains("Zq7"), "{problem}");
    miss(&app, &q("app.example.com")).await;
    let problem = post_lookup(&app, r#"{"q": "app.example.com"}"#)
        .await
        .problem(404);
    assert_eq!(problem["type"], "urn:podmeta:problem:no-match");
    let problem = post_lookup(&app, "{}").await.problem(422);
    assert_eq!(TestResponse::rules(&problem), ["required"]);
    assert_eq!(problem["errors"][0]["pointer"], "#/q");
    let problem = post_lookup(&app, r#"{"q": "x.com", "host": "y.com"}"#)
        .await
        .problem(422);
    assert_eq!(TestResponse::rules(&problem), ["unknown-field"]);
    assert_eq!(problem["errors"][0]["pointer"], "#/host");
    let problem = post_lookup(&app, r#"{"q": 17}"#).await.problem(422);
    assert_eq!(TestResponse::rules(&problem), ["type"]);
    post_lookup(&app, r#"{"q": "eu1-Zq7"#).await.problem(400);
    let unlabelled = app
        .post("/lookup", None, r#"{"q": "sftp.mparticle.com"}"#.to_owned())
        .await;
    unlabelled.problem(415);
}

#[tokio::test]
async fn a_url_with_a_password_is_answered_uncached_and_never_repeated() {
    let app = spawn_app();
    // The Events API takes the key as the user name and the secret as the password.
    let url = "https://eu1-KEY:SECRET@s2s.eu1.mparticle.com/v2/events";
    assert_eq!(lookup(&app, &format!("url={url}"), "url").await, ["eu1"]);
    let response = app.get(&format!("/lookup?url={url}")).await;
    assert_eq!(response.headers["cache-control"], "private, no-store");
    // Without userinfo the answer is a public resource, as before.
    let response = app
        .get("/lookup?url=https://s2s.eu1.mparticle.com/v2/events")
        .await;
    assert_ne!(response.headers["cache-control"], "private, no-store");
    // An error quotes the URL without its userinfo.
    for query in [
        "url=https://eu1-KEY:SECRET@bad_host/v2/events",
        "q=https://eu1-KEY:SECRET@bad_host/v2/events",
    ] {
        let response = app.get(&format!("/lookup?{query}")).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{query}");
        let text = response.text();
        assert!(
            !text.contains("SECRET") && !text.contains("KEY"),
            "{query}: {text}"
        );
    }
    let detail = bad(&app, "url=https://eu1-KEY:SECRET@bad_host/v2/events").await;
    assert!(
        detail["detail"]
            .as_str()
            .unwrap()
            .contains("https://bad_host/v2/events"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_url_with_a_backslash_or_a_character_no_authority_may_hold_is_refused() {
    let app = spawn_app();
    // A browser goes to evil.example with this one, whatever follows the `@`.
    for query in [
        "url=https://evil.example%5C@app.eu1.mparticle.com/",
        "q=https://evil.example%5C@app.eu1.mparticle.com/",
        "url=https://app.eu1.mparticle.com/%5Cpath",
        "url=https://evil.example%5E@app.eu1.mparticle.com/",
        "url=https://evil%20example@app.eu1.mparticle.com/",
    ] {
        let response = app.get(&format!("/lookup?{query}")).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            response.text()
        );
    }
    // An API key may hold a backslash: q reads it as a key, not a URL.
    assert_eq!(lookup(&app, "q=eu1-ab%5Ccd", "api_key").await, ["eu1"]);
}
