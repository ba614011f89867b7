//! The documents on the command line (`podmeta pods`, `get`, `bucket-policy`,
//! `iam-policy`, `lambda-arn`, `sdks`, `lookup`, and the two checks): each prints, byte for byte, the body its
//! route answers with, for every pod; a problem goes to stderr in plain words (or as
//! problem+json) with exit 1 and nothing on stdout; a usage error or a bad table exits 2.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use podmeta::{AppState, Catalog, Table};
use tower::ServiceExt;

const BIN: &str = env!("CARGO_BIN_EXE_podmeta");
const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/pods.toml");
const PODS: [&str; 4] = ["us1", "us2", "eu1", "au1"];

/// `podmeta ARGS`, with stdin closed unless given, and no PODMETA_* from the caller.
fn podmeta(args: &[&str]) -> Output {
    podmeta_with_stdin(args, None)
}

fn podmeta_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("PODMETA_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Asserts success and returns stdout, with stderr empty.
fn ok(args: &[&str]) -> Vec<u8> {
    let out = podmeta(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?}: stderr {:?}", out.stderr);
    out.stdout
}

/// Asserts a failure with `code`, nothing on stdout, and returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    failed(&podmeta(args), args, code)
}

fn failed(out: &Output, args: &[&str], code: i32) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", out.stdout);
    stderr
}

/// The body the service answers `method path` (with a JSON `body`) with, in-process.
fn http(method: Method, path: &str, body: Option<String>) -> (u16, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "podmeta.test");
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or(Body::empty(), Body::from))
            .unwrap();
        let response = podmeta::app(state).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body.to_vec())
    })
}

fn get(path: &str) -> Vec<u8> {
    let (status, body) = http(Method::GET, path, None);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    body
}

/// `json` without the white space between its tokens: what a compact rendering of the
/// same structs, in the same key order, must be.
fn squeezed(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
    for &b in json {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !b.is_ascii_whitespace() {
            out.push(b);
        }
    }
    out.push(b'\n');
    out
}

/// Asserts that `args` prints `body`.
fn prints_exactly(args: &[&str], body: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(&ok(args)),
        String::from_utf8_lossy(body),
        "{args:?}"
    );
}

/// Asserts that `args` prints the JSON `body`, and with `--compact` the same on one line.
fn prints(args: &[&str], body: &[u8]) {
    prints_exactly(args, body);
    let compact = ok(&[args, &["--compact"]].concat());
    assert_eq!(
        String::from_utf8_lossy(&compact),
        String::from_utf8_lossy(&squeezed(body)),
        "{args:?} --compact"
    );
    assert_eq!(compact.iter().filter(|&&b| b == b'\n').count(), 1);
}

#[test]
fn pods_prints_the_body_of_get_pods() {
    prints(&["pods"], &get("/pods"));
}

#[test]
fn get_prints_the_body_of_each_pod_and_part_in_any_case() {
    for pod in PODS {
        prints(&["get", pod], &get(&format!("/pods/{pod}")));
        prints(&["get", &pod.to_uppercase()], &get(&format!("/pods/{pod}")));
        for part in ["login", "events-api", "sftp", "rules", "aws", "sdks"] {
            prints(&["get", pod, part], &get(&format!("/pods/{pod}/{part}")));
        }
    }
}

#[test]
fn iam_policy_prints_the_body_of_its_route_in_each_format() {
    for pod in PODS {
        let json = get(&format!("/pods/{pod}/rules/iam-policy"));
        prints(&["iam-policy", pod], &json);
        prints(&["iam-policy", pod, "--format", "json"], &json);
        for format in ["terraform", "cloudformation"] {
            prints_exactly(
                &["iam-policy", pod, "--format", format],
                &get(&format!("/pods/{pod}/rules/iam-policy?format={format}")),
            );
        }
    }
}

#[test]
fn bucket_policy_prints_the_body_of_the_post_in_each_format() {
    for pod in PODS {
        for bucket in ["mp-forwarding-acme", "mp-forwarding-a.b-c"] {
            for format in ["terraform", "cloudformation"] {
                let (status, body) = http(
                    Method::POST,
                    &format!("/pods/{pod}/bucket-policy?format={format}"),
                    Some(format!(r#"{{"bucket": "{bucket}"}}"#)),
                );
                assert_eq!(status, 200);
                prints_exactly(
                    &["bucket-policy", pod, "--bucket", bucket, "--format", format],
                    &body,
                );
            }
            let (_, json) = http(
                Method::POST,
                &format!("/pods/{pod}/bucket-policy"),
                Some(format!(r#"{{"bucket": "{bucket}"}}"#)),
            );
            prints(&["bucket-policy", pod, "--bucket", bucket], &json);
            let args = ["bucket-policy", pod, "--bucket", bucket, "--format", "json"];
            prints(&args, &json);
        }
    }
}

#[test]
fn compact_lays_out_json_only_and_with_another_format_is_a_usage_error() {
    for format in ["terraform", "cloudformation"] {
        let stderr = fails(&["iam-policy", "eu1", "--format", format, "--compact"], 2);
        assert!(
            stderr.contains("--compact applies to JSON only"),
            "{stderr}"
        );
        let args = ["bucket-policy", "eu1", "--bucket", "mp-forwarding-acme"];
        let stderr = fails(&[&args[..], &["--compact", "--format", format]].concat(), 2);
        assert!(stderr.contains(&format!("--format {format}")), "{stderr}");
    }
    let out = Command::new(BIN)
        .args(["iam-policy", "eu1", "--format", "json", "--compact"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
    fails(&["iam-policy", "eu1", "--format", "hcl"], 2);
}

#[test]
fn lambda_arn_prints_the_body_of_its_route_or_the_bare_arn() {
    for pod in PODS {
        for alias in ["PROD", "$LATEST"] {
            let query = format!(
                "account_id=123456789012&function=mprmyrule&alias={}",
                alias.replace('$', "%24")
            );
            let body = get(&format!("/pods/{pod}/rules/lambda-arn?{query}"));
            let args = [
                "lambda-arn",
                pod,
                "--account-id",
                "123456789012",
                "--function",
                "mprmyrule",
                "--alias",
                alias,
            ];
            prints(&args, &body);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let raw = ok(&[&args[..], &["--raw"]].concat());
            assert_eq!(
                String::from_utf8(raw).unwrap(),
                format!("{}\n", json["arn"].as_str().unwrap())
            );
        }
    }
}

#[test]
fn sdks_prints_the_body_of_its_route_or_one_snippet_as_text() {
    for pod in PODS {
        let body = get(&format!("/pods/{pod}/sdks"));
        prints(&["sdks", pod], &body);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let sdks = json["server_sdks"].as_array().unwrap();
        assert_eq!(sdks.len(), 5);
        for sdk in sdks {
            let name = sdk["sdk"].as_str().unwrap();
            for spelled in [name.to_owned(), name.to_lowercase()] {
                // --sdk alone: that SDK's entry of the route's body.
                let entry = ok(&["sdks", pod, "--sdk", &spelled]);
                let entry: serde_json::Value = serde_json::from_slice(&entry).unwrap();
                assert_eq!(&entry, sdk, "{pod} {spelled}");
                let snippet = ok(&["sdks", pod, "--sdk", &spelled, "--snippet"]);
                assert_eq!(
                    String::from_utf8(snippet).unwrap(),
                    sdk["snippet"].as_str().unwrap(),
                    "{pod} {spelled}"
                );
            }
        }
    }
    let stderr = fails(&["sdks", "eu1", "--sdk", "cobol", "--snippet"], 1);
    assert!(stderr.contains("Go, Java, Node, Python, Ruby"), "{stderr}");
    let stderr = fails(&["sdks", "eu1", "--sdk", "cobol"], 1);
    assert!(stderr.contains("Go, Java, Node, Python, Ruby"), "{stderr}");
    // A snippet is one SDK's.
    fails(&["sdks", "eu1", "--snippet"], 2);
}

#[test]
fn lookup_prints_the_body_of_get_lookup_with_q_or_the_kind_given() {
    for (value, encoded) in [
        ("sftp.mparticle.com", "sftp.mparticle.com"),
        (
            "https://app.eu1.mparticle.com/login",
            "https%3A%2F%2Fapp.eu1.mparticle.com%2Flogin",
        ),
        ("52.45.156.86", "52.45.156.86"),
        ("au1-0123456789abcdef", "au1-0123456789abcdef"),
        ("us-east-1", "us-east-1"),
        (
            "arn:aws:iam::583371261087:role/verifyrequest_lambda",
            "arn%3Aaws%3Aiam%3A%3A583371261087%3Arole%2Fverifyrequest_lambda",
        ),
    ] {
        let body = get(&format!("/lookup?q={encoded}"));
        prints(&["lookup", value], &body);
        // From stdin, with or without a final line break.
        for input in [value.to_owned(), format!("{value}\n")] {
            let out = podmeta_with_stdin(&["lookup", "-"], Some(input.as_bytes()));
            assert_eq!(out.status.code(), Some(0), "{input:?}");
            assert_eq!(out.stdout, body, "{input:?}");
        }
    }
    // --as forces the kind: a US1 key is read as a key, here as a host it is not.
    prints(
        &["lookup", "--as", "host", "sftp.eu1.mparticle.com"],
        &get("/lookup?host=sftp.eu1.mparticle.com"),
    );
    let stderr = fails(&["lookup", "--as", "host", "0123456789abcdef"], 1);
    assert!(stderr.starts_with("podmeta: host: expected"), "{stderr}");
    fails(&["lookup", "--as", "hostname", "a.com"], 2);
}

#[test]
fn a_value_from_stdin_that_is_not_text_is_a_problem_named_as_such() {
    let args = ["lookup", "-"];
    let out = podmeta_with_stdin(&args, Some(b"eu1-\xff\xfe"));
    let stderr = failed(&out, &args, 1);
    assert_eq!(
        stderr,
        "podmeta: cannot read the value from stdin: stream did not contain valid UTF-8\n"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `podmeta get eu1 | head -c 1`: the pipe closes before the answer is written.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("'{BIN}' get eu1 | head -c 1 >/dev/null"))
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(BIN)
        .args(["get", "eu1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn a_lookup_problem_never_repeats_a_key() {
    for args in [
        &["lookup", "eu1-Zq7 secret"][..],
        &["lookup", "--as", "api_key", "eu1-Zq7 secret"],
        &["lookup", "--json", "eu1-Zq7 secret"],
    ] {
        let stderr = fails(args, 1);
        assert!(!stderr.contains("Zq7"), "{args:?}: {stderr}");
    }
    let stderr = fails(&["lookup", "app.example.com"], 1);
    assert_eq!(stderr, "podmeta: No pod matches this host.\n");
}

/// A bucket policy with US1's first role where EU1's should be: two error findings.
const US1_MISTAKE: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
   "Resource": "arn:aws:s3:::mp-forwarding-acme/*",
   "Principal": {"AWS": ["arn:aws:iam::338661164609:role/Prod-Role-DG12-Default"]}},
  {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Effect": "Allow",
   "Resource": "arn:aws:s3:::mp-forwarding-acme/*",
   "Principal": {"AWS": ["arn:aws:iam::583371261087:role/verifyrequest_lambda"]}}]}"#;

/// `args` given `stdin`: its exit code and stdout, with stderr empty.
fn answered(args: &[&str], stdin: &[u8]) -> (Option<i32>, Vec<u8>) {
    let out = podmeta_with_stdin(args, Some(stdin));
    assert!(
        out.stderr.is_empty(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), out.stdout)
}

#[test]
fn the_checks_print_their_routes_body_and_exit_3_on_an_error_finding() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    for pod in PODS {
        // The rendered policy passes: exit 0, the route's answer byte for byte.
        let rendered = ok(&["bucket-policy", pod, "--bucket", "mp-forwarding-acme"]);
        std::fs::write(&file, &rendered).unwrap();
        let path = format!("/pods/{pod}/bucket-policy/check");
        let (status, body) = http(
            Method::POST,
            &path,
            Some(String::from_utf8(rendered.clone()).unwrap()),
        );
        assert_eq!(status, 200);
        prints(&["check-bucket-policy", pod, file.to_str().unwrap()], &body);
        assert_eq!(
            answered(&["check-bucket-policy", pod, "-"], &rendered),
            (Some(0), body.clone())
        );
        assert_eq!(
            answered(&["check-bucket-policy", pod], &rendered),
            (Some(0), body)
        );

        let iam = ok(&["iam-policy", pod]);
        let path = format!("/pods/{pod}/rules/iam-policy/check");
        let (_, body) = http(
            Method::POST,
            &path,
            Some(String::from_utf8(iam.clone()).unwrap()),
        );
        assert_eq!(answered(&["check-iam-policy", pod], &iam), (Some(0), body));
    }
    // An error finding: exit 3, and the answer on stdout all the same.
    let (status, body) = http(
        Method::POST,
        "/pods/eu1/bucket-policy/check?bucket=mp-forwarding-acme",
        Some(US1_MISTAKE.into()),
    );
    assert_eq!(status, 200);
    let args = [
        "check-bucket-policy",
        "eu1",
        "-",
        "--bucket",
        "mp-forwarding-acme",
    ];
    assert_eq!(answered(&args, US1_MISTAKE.as_bytes()), (Some(3), body));
    let us1_iam = ok(&["iam-policy", "us1"]);
    let (code, out) = answered(&["check-iam-policy", "eu1", "--compact"], &us1_iam);
    assert_eq!(code, Some(3));
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains(r#""rule":"wrong-region""#)
    );
}

#[test]
fn a_policy_the_checks_cannot_read_is_a_problem_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let stderr = fails(
        &["check-bucket-policy", "eu1", missing.to_str().unwrap()],
        1,
    );
    assert!(
        stderr.starts_with("podmeta: cannot read the policy from "),
        "{stderr}"
    );
    for (stdin, words) in [
        (&b"{\"Statement\": "[..], "is not JSON"),
        (b"{\"a\": 1, \"a\": 2}", "repeats the key"),
        (b"{}", "not an AWS policy document"),
        (b"[]", "must be a JSON object"),
    ] {
        for command in ["check-bucket-policy", "check-iam-policy"] {
            let out = podmeta_with_stdin(&[command, "eu1"], Some(stdin));
            let stderr = failed(&out, &[command], 1);
            assert!(stderr.contains(words), "{command}: {stderr}");
        }
    }
    // --json: the route's problem, byte for byte.
    let (status, problem) = http(
        Method::POST,
        "/pods/eu1/bucket-policy/check",
        Some("{}".into()),
    );
    assert_eq!(status, 422);
    let out = podmeta_with_stdin(&["check-bucket-policy", "eu1", "--json"], Some(b"{}"));
    assert_eq!(failed(&out, &["--json"], 1).into_bytes(), problem);
    // As every other read, at most 64 KiB.
    let big = vec![b' '; 64 * 1024 + 1];
    let out = podmeta_with_stdin(&["check-iam-policy", "eu1"], Some(&big));
    assert!(failed(&out, &["64 KiB"], 1).contains("64 KiB"));
    // An invalid --bucket is the route's 422 for ?bucket=.
    let out = podmeta_with_stdin(
        &["check-bucket-policy", "eu1", "--bucket", "Acme"],
        Some(US1_MISTAKE.as_bytes()),
    );
    assert!(failed(&out, &["--bucket"], 1).contains("The bucket name \"Acme\" breaks"));
}

#[test]
fn an_unknown_pod_exits_1_naming_the_pods_for_every_command() {
    for args in [
        &["get", "zz9"][..],
        &["get", "zz9", "sftp"],
        &["iam-policy", "zz9"],
        &["bucket-policy", "zz9", "--bucket", "mp-forwarding-acme"],
        &[
            "lambda-arn",
            "zz9",
            "--account-id",
            "123456789012",
            "--function",
            "mprx",
            "--alias",
            "PROD",
        ],
        &["sdks", "zz9"],
        &["sdks", "zz9", "--sdk", "go", "--snippet"],
        &["check-bucket-policy", "zz9", "-"],
        &["check-iam-policy", "zz9", "-"],
    ] {
        let stderr = fails(args, 1);
        assert_eq!(
            stderr, "podmeta: There is no pod \"zz9\". The pods are: us1, us2, eu1, au1.\n",
            "{args:?}"
        );
    }
}

#[test]
fn an_invalid_value_exits_1_with_every_broken_rule_or_the_problem_as_json() {
    let args = ["bucket-policy", "eu1", "--bucket", "Acme..bucket"];
    let stderr = fails(&args, 1);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("podmeta: The bucket name"), "{stderr}");
    assert_eq!(
        &lines[1..],
        [
            "  --bucket: may contain only lower-case letters, digits, '.' and '-'",
            "  --bucket: must begin and end with a lower-case letter or a digit",
            "  --bucket: must not contain two adjacent periods ('..')",
            "  --bucket: must begin with 'mp-forwarding-'",
        ]
    );
    // --json: the problem the POST answers with, byte for byte.
    let (status, problem) = http(
        Method::POST,
        "/pods/eu1/bucket-policy",
        Some(r#"{"bucket": "Acme..bucket"}"#.into()),
    );
    assert_eq!(status, 422);
    let stderr = fails(&[&args[..], &["--json"]].concat(), 1);
    assert_eq!(stderr, String::from_utf8(problem.clone()).unwrap());
    let stderr = fails(&[&args[..], &["--json", "--compact"]].concat(), 1);
    assert_eq!(stderr.into_bytes(), squeezed(&problem), "--json --compact");

    let stderr = fails(
        &[
            "lambda-arn",
            "eu1",
            "--account-id",
            "12",
            "--function",
            "x",
            "--alias",
            "prod",
        ],
        1,
    );
    for flag in ["--account-id", "--function", "--alias"] {
        assert!(stderr.contains(&format!("\n  {flag}: ")), "{stderr}");
    }
}

#[test]
fn serving_flags_given_to_a_command_are_a_usage_error_but_the_environment_is_not() {
    for args in [
        &["--bind", "127.0.0.1:1", "pods"][..],
        &["--max-connections", "5", "get", "eu1"],
        &["--log-format", "json", "lookup", "a.com"],
        &["pods", "--bind", "127.0.0.1:1"],
    ] {
        let stderr = fails(args, 2);
        assert!(stderr.contains("--"), "{args:?}: {stderr}");
    }
    let out = Command::new(BIN)
        .arg("pods")
        .env("PODMETA_BIND", "127.0.0.1:1")
        .env("PODMETA_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, get("/pods"));
}

#[test]
fn config_goes_before_or_after_the_command_and_a_bad_table_exits_2() {
    // A table that differs from the built-in one: EU1's SFTP port.
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("pods.toml");
    let text = std::fs::read_to_string(TABLE).unwrap();
    let text = text.replacen("port = 4422", "port = 4423", 1);
    std::fs::write(&changed, &text).unwrap();
    let changed = changed.to_str().unwrap();
    let before = ok(&["--config", changed, "get", "us1", "sftp"]);
    let after = ok(&["get", "us1", "sftp", "--config", changed]);
    assert_eq!(before, after);
    assert!(String::from_utf8(before).unwrap().contains("4423"));
    let out = Command::new(BIN)
        .args(["get", "us1", "sftp"])
        .env("PODMETA_CONFIG", changed)
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("4423"));

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, text.replacen("port = 4423", "port = 0", 1)).unwrap();
    let stderr = fails(&["pods", "--config", broken.to_str().unwrap()], 2);
    assert!(stderr.contains("broken.toml"), "{stderr}");
    fails(&["pods", "--config", "/nonexistent/pods.toml"], 2);
}

#[test]
fn usage_errors_exit_2() {
    fails(&["get"], 2);
    fails(&["get", "eu1", "iam"], 2);
    fails(&["bucket-policy", "eu1"], 2);
    fails(&["lambda-arn", "eu1", "--account-id", "123456789012"], 2);
    fails(&["pods", "--pretty"], 2);
    fails(
        &[
            "lambda-arn",
            "eu1",
            "--account-id",
            "1",
            "--function",
            "f",
            "--alias",
            "PROD",
            "--raw",
            "--compact",
        ],
        2,
    );
}

#[test]
fn completions_are_scripts_the_shells_accept() {
    let bash = ok(&["completions", "bash"]);
    let text = String::from_utf8(bash.clone()).unwrap();
    for word in ["bucket-policy", "lambda-arn", "--account-id", "completions"] {
        assert!(text.contains(word), "{word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("podmeta.bash");
    std::fs::write(&script, bash).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for shell in ["zsh", "fish"] {
        let script = String::from_utf8(ok(&["completions", shell])).unwrap();
        assert!(script.contains("bucket-policy"), "{shell}");
    }
    // Where a pod goes, the compiled-in table's pods are offered (clap_complete's fish
    // script completes no positional argument).
    let zsh = String::from_utf8(ok(&["completions", "zsh"])).unwrap();
    assert!(zsh.contains(":pod -- The pod"), "{zsh}");
    assert!(
        zsh.contains(&format!("({})'", PODS.join(" "))),
        "zsh offers no pod ids"
    );
    assert!(text.contains(&PODS.join(" ")), "bash offers no pod ids");
    fails(&["completions", "tcsh"], 2);
}

#[test]
fn the_pod_argument_has_help_and_config_is_offered_only_where_it_applies() {
    for command in ["get", "bucket-policy", "iam-policy", "lambda-arn", "sdks"] {
        let help = String::from_utf8(ok(&[command, "--help"])).unwrap();
        let pod = help
            .lines()
            .find(|l| l.trim_start().starts_with("<POD>"))
            .unwrap();
        assert!(pod.contains("any letter case"), "{command}: {help}");
        // Another table may have other pods: the built-in ones are not a rule.
        assert!(!pod.contains("possible values"), "{command}: {help}");
        assert!(help.contains("--config <CONFIG>"), "{command}: {help}");
        assert!(!help.contains("SIGHUP"), "{command}: {help}");
    }
    for command in ["check", "healthcheck", "completions"] {
        let help = String::from_utf8(ok(&[command, "--help"])).unwrap();
        assert!(!help.contains("--config"), "{command}: {help}");
    }
    let help = String::from_utf8(ok(&["--help"])).unwrap();
    assert!(help.contains("SIGHUP"), "{help}");
}

#[test]
fn the_help_of_podmeta_and_of_each_command_carries_an_example() {
    let help = String::from_utf8(ok(&["--help"])).unwrap();
    assert!(help.contains("Examples:\n  podmeta"), "{help}");
    for command in [
        "check",
        "healthcheck",
        "pods",
        "get",
        "bucket-policy",
        "iam-policy",
        "lambda-arn",
        "sdks",
        "lookup",
        "check-bucket-policy",
        "check-iam-policy",
        "completions",
    ] {
        let help = String::from_utf8(ok(&[command, "--help"])).unwrap();
        let examples = help.split("\nExample").nth(1).unwrap_or_default();
        assert!(
            examples
                .lines()
                .any(|l| l.trim_start().starts_with("podmeta ") && l.contains(command)),
            "{command}: {help}"
        );
    }
    let help = String::from_utf8(ok(&["lambda-arn", "--help"])).unwrap();
    assert!(help.contains("--alias '$LATEST'"), "{help}");
}

/// `podmeta --help`'s examples that need no server, run as written (a comment after two
/// spaces), in order, in a directory holding the built-in table as `config/pods.toml`;
/// one that says it exits 3 on an error does so on a policy with one.
#[test]
fn every_help_example_without_a_server_works_as_it_says() {
    let help = String::from_utf8(ok(&["--help"])).unwrap();
    let examples = help
        .split("Examples:\n")
        .nth(1)
        .expect("--help has examples");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::copy(TABLE, dir.path().join("config/pods.toml")).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let sh = |line: &str| {
        Command::new("sh")
            .args(["-c", line])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let mut ran = Vec::new();
    for line in examples.lines().map(str::trim) {
        let (command, comment) = line.split_once("  ").unwrap_or((line, ""));
        let serves = command == "podmeta" || command.starts_with("podmeta --");
        if serves || !command.starts_with("podmeta ") {
            continue;
        }
        let out = sh(command);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if comment.contains("exit 3 on an error") {
            std::fs::write(dir.path().join("policy.json"), US1_MISTAKE).unwrap();
            assert_eq!(sh(command).status.code(), Some(3), "{command}");
        }
        ran.push(command.split(' ').nth(1).unwrap().to_owned());
    }
    assert_eq!(
        ran,
        [
            "get",
            "bucket-policy",
            "lookup",
            "check-bucket-policy",
            "check"
        ]
    );
}

/// The README's `podmeta …` examples, run verbatim with the built binary first on the
/// PATH, in an empty directory.
#[test]
fn every_readme_command_line_example_works() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## On the command line")
        .nth(1)
        .expect("the README has an On the command line section");
    let mut in_sh = false;
    let mut examples = Vec::new();
    for line in section.lines() {
        match line.strip_prefix("```") {
            Some(info) => in_sh = !in_sh && info.trim() == "sh",
            None if in_sh && line.starts_with("podmeta ") => examples.push(line.to_owned()),
            None => {}
        }
    }
    let policy_line = "podmeta bucket-policy eu1 --bucket mp-forwarding-acme > policy.json";
    assert!(examples.iter().any(|e| e == policy_line), "{examples:?}");
    assert!(examples.len() >= 4, "{examples:?}");

    let dir = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    for example in &examples {
        let out = Command::new("sh")
            .arg("-c")
            .arg(example)
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_, posted) = http(
        Method::POST,
        "/pods/eu1/bucket-policy",
        Some(r#"{"bucket": "mp-forwarding-acme"}"#.into()),
    );
    assert_eq!(
        std::fs::read(dir.path().join("policy.json")).unwrap(),
        posted
    );
}

/// docs/api.md's sample of `podmeta check`: the built-in table with EU1's SFTP IP cut
/// short, checked as the sample shows, prints the sample's errors exactly.
#[test]
fn the_docs_sample_of_podmeta_check_is_what_it_prints() {
    let api = include_str!("../../docs/api.md");
    let sample = api
        .split("```text\n$ podmeta check pods.toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("docs/api.md has a podmeta check sample");
    let dir = tempfile::tempdir().unwrap();
    let table = std::fs::read_to_string(TABLE).unwrap();
    let broken = table.replacen(r#"ip = "18.157.92.224""#, r#"ip = "18.157.92""#, 1);
    assert_ne!(broken, table);
    std::fs::write(dir.path().join("pods.toml"), broken).unwrap();
    let out = Command::new(BIN)
        .args(["check", "pods.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), sample);
}
