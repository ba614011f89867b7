//! Hostile input over a real socket: every answer is a 4xx (a problem+json from podmeta,
//! or hyper's own bare 4xx for a request it cannot parse), never a 5xx, and the server
//! keeps answering afterwards.

use std::time::Duration;

use crate::common::{RunningServer, raw_exchange};
use podmeta::{AppState, Catalog, ServerSettings, Table};

async fn server() -> RunningServer {
    RunningServer::start(
        AppState::new(Catalog::new(Table::builtin().unwrap())),
        ServerSettings::default(),
    )
    .await
}

/// The status of a raw exchange, after checking its shape: a 4xx; from podmeta (it has a
/// request id) always problem+json.
fn assert_client_error(what: &str, response: &str) -> u16 {
    let status: u16 = response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no status line in {response:?}"));
    assert!((400..500).contains(&status), "{what}: {status}\n{response}");
    let head = response
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    if head.contains("x-request-id:") {
        assert!(
            head.contains("content-type: application/problem+json"),
            "{what}: {head}"
        );
    }
    status
}

async fn exchange(server: &RunningServer, request: &[u8]) -> String {
    raw_exchange(server.addr, request, Duration::from_secs(5)).await
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[tokio::test]
async fn broken_oversized_and_mistyped_bodies_are_4xx_problems() {
    let server = server().await;
    let big = format!("{{\"bucket\": \"{}\"}}", "a".repeat(70_000));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "broken JSON",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                b"{\"bucket\": ",
            ),
        ),
        (
            "JSON with NUL",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                b"{\"bucket\": \"mp-forwarding-\0\"}",
            ),
        ),
        (
            "invalid UTF-8",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                b"{\"bucket\": \"\xff\xfe\"}",
            ),
        ),
        (
            "deeply nested",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                deep.as_bytes(),
            ),
        ),
        (
            "oversized",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                big.as_bytes(),
            ),
        ),
        (
            "wrong media type",
            post("/pods/eu1/bucket-policy", "text/xml", b"<bucket/>"),
        ),
        (
            "form body",
            post(
                "/pods/eu1/bucket-policy",
                "application/x-www-form-urlencoded",
                b"bucket=x",
            ),
        ),
        (
            "a number",
            post("/pods/eu1/bucket-policy", "application/json", b"12"),
        ),
        (
            "huge string number",
            post(
                "/pods/eu1/bucket-policy",
                "application/json",
                b"{\"bucket\": 1e999999}",
            ),
        ),
    ];
    for (what, request) in cases {
        assert_client_error(what, &exchange(&server, &request).await);
    }
}

#[tokio::test]
async fn huge_headers_and_uris_are_refused_with_a_4xx() {
    let server = server().await;
    let long_uri = format!("/pods/{}", "a".repeat(100_000));
    let huge_header = format!(
        "GET /pods HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(200_000)
    );
    let many_headers = format!(
        "GET /pods HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
        (0..500)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    for (what, request) in [
        ("a 100 kB URI", get(&long_uri)),
        ("a 200 kB header", huge_header.into_bytes()),
        ("500 headers", many_headers.into_bytes()),
    ] {
        assert_client_error(what, &exchange(&server, &request).await);
    }
}

#[tokio::test]
async fn odd_paths_and_queries_are_4xx_problems() {
    let server = server().await;
    let many_params = format!(
        "/lookup?{}",
        (0..5_000)
            .map(|i| format!("p{i}=1"))
            .collect::<Vec<_>>()
            .join("&")
    );
    for path in [
        "/pods/%00",
        "/pods/%FF",
        "/pods/%2e%2e/%2e%2e/etc/passwd",
        "/pods/../../etc/passwd",
        "/pods/eu1%2Fsftp",
        "//pods",
        "/pods/eu1/%",
        "/pods/%E2%80%AE1ue",
        "/lookup?host=%FF%FE",
        "/lookup?host=a%00b.com",
        "/lookup?ip=%00",
        "/lookup?api_key=%0D%0AX-Injected:%201",
        "/lookup?url=javascript:alert(1)",
        "/lookup?=",
        "/lookup?&&&",
        many_params.as_str(),
        "/pods/eu1/rules/lambda-arn?account_id=%FF&function=%00&alias=%24",
    ] {
        assert_client_error(path, &exchange(&server, &get(path)).await);
    }
}

#[tokio::test]
async fn nul_bytes_bad_request_lines_and_unknown_methods_are_4xx() {
    let server = server().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("NUL in the path", b"GET /pods/\0eu1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("NUL in a header", b"GET /pods HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nConnection: close\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec()),
        ("no version", b"GET /pods\r\n\r\n".to_vec()),
        ("bad version", b"GET /pods HTTP/9.9\r\nHost: x\r\n\r\n".to_vec()),
        ("invalid UTF-8 path", b"GET /pods/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("unknown method", b"BREW /pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("TRACE", b"TRACE /pods/eu1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("DELETE", b"DELETE /pods/eu1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".to_vec()),
        ("bad content-length", b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec()),
        ("two content-lengths", b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec()),
        ("bad chunking", b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n".to_vec()),
    ];
    for (what, request) in cases {
        let response = exchange(&server, &request).await;
        if response.is_empty() {
            // hyper may close a connection whose bytes are not HTTP at all: no answer is
            // acceptable; a 5xx or a crash is not, and the health check below says which.
            continue;
        }
        assert_client_error(what, &response);
    }
    let health = exchange(&server, &get("/healthz")).await;
    assert!(
        health.starts_with("HTTP/1.1 200 OK"),
        "the server stopped answering: {health}"
    );
}

#[tokio::test]
async fn a_name_with_non_ascii_letters_breaks_the_character_rule_and_not_the_length_one() {
    let app = crate::common::spawn_app();
    // 39 characters, 53 bytes.
    let name = format!("mp-forwarding-{}abcdefghijk", "é".repeat(14));
    let body = serde_json::json!({ "bucket": name }).to_string();
    let problem = app.post_bucket_policy("eu1", &body).await.problem(422);
    let rules = crate::common::TestResponse::rules(&problem);
    assert_eq!(rules, ["characters"], "{problem}");
}

/// The value of `name` in a raw response's head.
fn header_of(response: &str, name: &str) -> String {
    let head = response.split("\r\n\r\n").next().unwrap();
    head.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} in {head}"))
}

/// The status code of a raw response: `HTTP/1.1 304 …` → `304`.
fn status_of(response: &str) -> &str {
    response.get(9..12).unwrap_or("")
}

#[tokio::test]
async fn conditional_headers_are_read_over_all_their_lines_and_if_match_can_fail() {
    let server = server().await;
    // A pre-rendered resource and one the router answers.
    for path in ["/pods/eu1", "/openapi.yaml"] {
        let etag = header_of(&exchange(&server, &get(path)).await, "etag");
        let with = |lines: &[String]| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
                lines.concat()
            )
            .into_bytes()
        };
        let cases = [
            // RFC 9110 §5.3: two lines of a list header are one list.
            (
                vec![
                    "If-None-Match: \"x\"\r\n".to_owned(),
                    format!("If-None-Match: {etag}\r\n"),
                ],
                "304",
            ),
            (vec!["If-Match: \"nope\"\r\n".to_owned()], "412"),
            (vec![format!("If-Match: W/{etag}\r\n")], "412"),
            (
                vec![
                    "If-Match: \"nope\"\r\n".to_owned(),
                    format!("If-Match: {etag}\r\n"),
                ],
                "200",
            ),
            (vec!["If-Match: *\r\n".to_owned()], "200"),
            // If-Match is evaluated first (RFC 9110 §13.2.2).
            (
                vec![
                    "If-Match: \"nope\"\r\n".to_owned(),
                    format!("If-None-Match: {etag}\r\n"),
                ],
                "412",
            ),
        ];
        for (lines, expected) in cases {
            let response = exchange(&server, &with(&lines)).await;
            assert_eq!(
                status_of(&response),
                expected,
                "{path} {lines:?}\n{response}"
            );
            if expected == "412" {
                assert_client_error(path, &response);
                assert_eq!(header_of(&response, "cache-control"), "no-store");
                assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_missing_empty_or_repeated_host_and_a_target_that_is_no_path_are_400() {
    let server = server().await;
    let cases: [(&str, &[u8]); 6] = [
        (
            "no Host",
            b"GET /pods/eu1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        ),
        (
            "an empty Host",
            b"GET /pods/eu1 HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
        ),
        (
            "two Hosts",
            b"GET /pods/eu1 HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        ),
        (
            "an asterisk",
            b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "no slash",
            b"GET pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        (
            "no Host, on the router",
            b"GET /openapi.yaml HTTP/1.1\r\nConnection: close\r\n\r\n",
        ),
    ];
    for (what, request) in cases {
        let response = exchange(&server, request).await;
        assert_eq!(
            assert_client_error(what, &response),
            400,
            "{what}\n{response}"
        );
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
    }
    // HTTP/1.0 may leave Host out, and a full URL is a target a server must accept.
    let fine: [(&str, &[u8]); 2] = [
        ("HTTP/1.0 without Host", b"GET /pods/eu1 HTTP/1.0\r\n\r\n"),
        (
            "the absolute form",
            b"GET http://x/pods/eu1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
    ];
    for (what, request) in fine {
        let response = exchange(&server, request).await;
        assert_eq!(status_of(&response), "200", "{what}\n{response}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_transfer_coding_other_than_chunked_is_501_and_the_connection_closes() {
    let server = server().await;
    // Without `Connection: close`: the server must close of its own accord.
    let post = |coding: &str| {
        format!(
            "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
        )
        .into_bytes()
    };
    for coding in ["foo, chunked", "gzip, chunked", "GZIP ,chunked"] {
        let response = exchange(&server, &post(coding)).await;
        assert_eq!(status_of(&response), "501", "{coding}\n{response}");
        assert_eq!(
            header_of(&response, "content-type"),
            "application/problem+json"
        );
        assert_eq!(header_of(&response, "connection"), "close");
    }
    let response = exchange(&server, &post("chunked, chunked")).await;
    assert_eq!(
        assert_client_error("chunked twice", &response),
        400,
        "{response}"
    );
    // Plain chunked is read as usual: this body is valid JSON missing its field.
    let request = String::from_utf8(post("chunked")).unwrap();
    let request = request.replacen("Host: x\r\n", "Host: x\r\nConnection: close\r\n", 1);
    let response = exchange(&server, request.as_bytes()).await;
    assert_eq!(status_of(&response), "422", "{response}");
    server.stop().await;
}

#[tokio::test]
async fn hyper_answers_414_and_431_itself_past_its_limits() {
    let server = server().await;
    let with_lines = |n: usize| {
        // Host and Connection are two of the n lines.
        format!(
            "GET /pods/eu1 HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
            (2..n).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
        )
        .into_bytes()
    };
    assert_eq!(status_of(&exchange(&server, &with_lines(100)).await), "200");
    let response = exchange(&server, &with_lines(101)).await;
    assert_eq!(status_of(&response), "431", "{response}");
    // 60 kB of URI and 80 kB of headers: past 128 KiB together, beyond what hyper's
    // check between reads can let through.
    let big = format!(
        "GET /pods/{} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(60_000),
        "b".repeat(80_000)
    );
    let response = exchange(&server, big.as_bytes()).await;
    assert_eq!(status_of(&response), "431", "{response}");
    // A URI over 65,534 bytes.
    let response = exchange(&server, &get(&format!("/pods/{}", "a".repeat(66_000)))).await;
    assert_eq!(status_of(&response), "414", "{response}");
    // hyper's own answer: bare, as the operating guide says.
    assert!(
        !response.to_ascii_lowercase().contains("x-request-id"),
        "{response}"
    );
    server.stop().await;
}

#[tokio::test]
async fn body_errors_are_bounded_in_our_own_words_and_every_422_lists_its_errors() {
    let app = crate::common::spawn_app();
    let huge_key = format!("{{\"{}\": 1}}", "k".repeat(60_000));
    let huge_value = format!("{{\"bucket\": \"{}\"}}", "x".repeat(60_000));
    // What is sent, the status, and the first error's rule and pointer.
    type Case<'a> = (&'a str, &'a str, u16, Option<(&'a str, &'a str)>);
    let cases: [Case; 8] = [
        (
            "a 60,000-character key",
            &huge_key,
            422,
            Some(("unknown-field", "#/kkkk")),
        ),
        (
            "a 60,000-character value",
            &huge_value,
            422,
            Some(("length", "#/bucket")),
        ),
        ("null", "null", 422, Some(("type", "#"))),
        ("an array", "[1, 2]", 422, Some(("type", "#"))),
        (
            "a number for the name",
            r#"{"bucket": 1}"#,
            422,
            Some(("type", "#/bucket")),
        ),
        ("no name", "{}", 422, Some(("required", "#/bucket"))),
        (
            "an extra field",
            r#"{"bucket": "mp-forwarding-a", "x": 1}"#,
            422,
            Some(("unknown-field", "#/x")),
        ),
        ("not JSON", r#"{"bucket": "#, 400, None),
    ];
    for (what, body, status, first_error) in cases {
        let response = app.post_bucket_policy("eu1", body).await;
        let problem = response.problem(status);
        assert!(
            response.body.len() <= 1024,
            "{what}: {} bytes",
            response.body.len()
        );
        let text = response.text();
        for internal in [
            "struct",
            "BucketPolicyRequest",
            "invalid type",
            "expected",
            "serde",
        ] {
            assert!(!text.contains(internal), "{what}: {text}");
        }
        if let Some((rule, pointer)) = first_error {
            let error = &problem["errors"][0];
            assert_eq!(error["rule"], rule, "{what}: {problem}");
            assert!(
                error["pointer"].as_str().unwrap().starts_with(pointer),
                "{what}: {problem}"
            );
        }
    }
}

#[tokio::test]
async fn an_arn_names_a_pod_only_as_a_role_of_its_account_or_a_resource_in_its_region() {
    let app = crate::common::spawn_app();
    // EU1's principals are roles of account 583371261087.
    for (arn, why) in [
        ("arn:aws:iam::583371261087:user/bob", "only an IAM role"),
        (
            "arn:bogus:iam::583371261087:role/verifyrequest_lambda",
            "aws partition",
        ),
        (
            "arn:aws-cn:iam::583371261087:role/verifyrequest_lambda",
            "aws partition",
        ),
        (
            "arn:aws:iam:eu-central-1:583371261087:role/verifyrequest_lambda",
            "never carries a region",
        ),
        ("arn:aws:lambda::123456789012:function:mprx", "has none"),
        (
            "arn:aws:s3:::mp-forwarding-acme/*",
            "only IAM roles and Lambda or Logs",
        ),
        (
            "arn:aws:ec2:eu-central-1:123456789012:instance/i-1",
            "only IAM roles and Lambda or Logs",
        ),
    ] {
        let problem = crate::lookup::miss(&app, &format!("arn={arn}")).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(why), "{arn}: {detail}");
        // The answer never repeats the value.
        assert!(!detail.contains(arn), "{detail}");
    }
    // A role of the account still names the pod; a region a pod is in, too.
    assert_eq!(
        crate::lookup::lookup(
            &app,
            "arn=arn:aws:iam::583371261087:role/verifyrequest_lambda",
            "arn"
        )
        .await,
        ["eu1"]
    );
    assert_eq!(
        crate::lookup::lookup(
            &app,
            "arn=arn:aws:lambda:eu-central-1:123456789012:function:mprx",
            "arn"
        )
        .await,
        ["eu1"]
    );
}

/// The answer to `request` on a new connection, and whether `header` is in it.
fn has_header(response: &str, name: &str) -> bool {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    head.lines().any(|l| {
        l.split_once(':')
            .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    })
}

#[tokio::test]
async fn a_host_that_is_no_host_name_address_or_literal_with_a_valid_port_is_400() {
    let server = server().await;
    for bad in [
        "a b",
        "x/y",
        "exa mple:80",
        "x:65536",
        "x:99999",
        "[::1",
        "a@b",
        "x:8o",
    ] {
        let request = format!("GET /pods/eu1 HTTP/1.1\r\nHost: {bad}\r\nConnection: close\r\n\r\n");
        let response = exchange(&server, request.as_bytes()).await;
        assert_eq!(
            assert_client_error(bad, &response),
            400,
            "{bad}: {response}"
        );
        assert!(
            response.contains("The Host header must be"),
            "{bad}: {response}"
        );
    }
    for good in [
        "x",
        "127.0.0.1:8080",
        "[::1]:8080",
        "app.eu1.mparticle.com",
        "x:",
    ] {
        let request =
            format!("GET /pods/eu1 HTTP/1.1\r\nHost: {good}\r\nConnection: close\r\n\r\n");
        let response = exchange(&server, request.as_bytes()).await;
        assert_eq!(status_of(&response), "200", "{good}: {response}");
    }
}

#[tokio::test]
async fn a_body_that_repeats_a_key_is_400_naming_the_key() {
    let server = server().await;
    for (path, body, key) in [
        (
            "/pods/eu1/bucket-policy",
            r#"{"bucket":"Evil..Name","bucket":"mp-forwarding-good"}"#,
            "\\\"bucket\\\"",
        ),
        (
            "/lookup",
            r#"{"q":"sftp.mparticle.com","q":"x"}"#,
            "\\\"q\\\"",
        ),
        (
            "/pods/eu1/bucket-policy",
            r#"{"bucket":"mp-forwarding-good","x":{"a":1,"a":2}}"#,
            "\\\"a\\\"",
        ),
    ] {
        let response = exchange(&server, &post(path, "application/json", body.as_bytes())).await;
        assert_eq!(
            assert_client_error(body, &response),
            400,
            "{body}: {response}"
        );
        assert!(
            response.contains(&format!("repeats the key {key}")),
            "{body}: {response}"
        );
    }
    // Once each, the same keys are read as before.
    let once = post(
        "/pods/eu1/bucket-policy",
        "application/json",
        br#"{"bucket":"mp-forwarding-good"}"#,
    );
    assert_eq!(status_of(&exchange(&server, &once).await), "200");
}

#[tokio::test]
async fn a_content_coded_body_is_415_with_accept_encoding_identity() {
    let server = server().await;
    let body = br#"{"bucket":"mp-forwarding-good"}"#;
    let coded = |coding: &str| {
        let mut request = format!(
            "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        request
    };
    for coding in ["gzip", "br", "identity, gzip"] {
        let response = exchange(&server, &coded(coding)).await;
        assert_eq!(
            assert_client_error(coding, &response),
            415,
            "{coding}: {response}"
        );
        assert_eq!(
            header_of(&response, "accept-encoding"),
            "identity",
            "{coding}"
        );
        assert!(
            response.contains("has a Content-Encoding"),
            "{coding}: {response}"
        );
    }
    // The identity coding said out loud is no coding.
    assert_eq!(
        status_of(&exchange(&server, &coded("identity")).await),
        "200"
    );
    // A 415 for the content type says nothing of codings.
    let response = exchange(&server, &post("/lookup", "text/plain", b"{}")).await;
    assert_eq!(status_of(&response), "415");
    assert!(!has_header(&response, "accept-encoding"), "{response}");
}

#[tokio::test]
async fn a_body_announced_past_the_limit_is_413_without_a_100_continue() {
    let server = server().await;
    // Headers only: the client waits for 100 Continue before it sends the body.
    let request = b"POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n";
    let response = exchange(&server, request).await;
    assert!(response.starts_with("HTTP/1.1 413 "), "{response}");
    assert!(!response.contains("100 Continue"), "{response}");
    // Within the limit, the body is invited as before.
    let body = br#"{"bucket":"mp-forwarding-good"}"#;
    let head = format!(
        "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut first = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 100 Continue"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    stream.write_all(body).await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(String::from_utf8_lossy(&rest).contains("HTTP/1.1 200 OK"));
}

#[tokio::test]
async fn a_looked_up_host_with_a_port_past_65535_is_400() {
    let server = server().await;
    for bad in ["sftp.mparticle.com:999999", "sftp.mparticle.com:65536"] {
        let response = exchange(&server, &get(&format!("/lookup?host={bad}"))).await;
        assert_eq!(
            assert_client_error(bad, &response),
            400,
            "{bad}: {response}"
        );
        let url = format!("/lookup?url=https://{bad}/x");
        let response = exchange(&server, &get(&url)).await;
        assert_eq!(
            assert_client_error(&url, &response),
            400,
            "{url}: {response}"
        );
    }
    let response = exchange(&server, &get("/lookup?host=sftp.mparticle.com:65535")).await;
    assert_eq!(status_of(&response), "200", "{response}");
}

#[tokio::test]
async fn every_406_is_the_one_problem_or_a_short_page_and_has_no_etag() {
    let server = server().await;
    let refuse = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity;q=0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
    };
    for path in [
        "/pods/eu1",
        "/pods",
        "/healthz",
        "/pods/nope",
        "/lookup?host=sftp.mparticle.com",
    ] {
        let response = exchange(&server, &refuse(path)).await;
        assert_eq!(
            assert_client_error(path, &response),
            406,
            "{path}: {response}"
        );
        assert!(!has_header(&response, "etag"), "{path}: {response}");
        assert_eq!(
            header_of(&response, "content-type"),
            "application/problem+json",
            "{path}"
        );
        assert!(response.contains("\"status\": 406"), "{path}: {response}");
    }
    for path in ["/ui/eu1", "/ui/"] {
        let response = exchange(&server, &refuse(path)).await;
        assert_eq!(status_of(&response), "406", "{path}: {response}");
        assert!(!has_header(&response, "etag"), "{path}: {response}");
        assert!(header_of(&response, "content-type").starts_with("text/html"));
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(body.len() < 1024, "{path}: a {}-byte 406 page", body.len());
        assert!(body.contains("406 Not Acceptable"), "{path}: {body}");
    }
}

#[tokio::test]
async fn the_preflight_allows_every_header_the_api_reads() {
    let server = server().await;
    let request = b"OPTIONS /pods/eu1 HTTP/1.1\r\nHost: x\r\nOrigin: https://portal.example\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: if-match\r\nConnection: close\r\n\r\n";
    let response = exchange(&server, request).await;
    let allowed = header_of(&response, "access-control-allow-headers");
    let allowed: Vec<&str> = allowed.split(',').map(str::trim).collect();
    for header in ["content-type", "if-match", "if-none-match", "x-request-id"] {
        assert!(allowed.contains(&header), "{header} not in {allowed:?}");
    }
}
