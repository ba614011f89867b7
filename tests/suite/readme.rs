//! The README and the pages in `docs/` are true: every curl example in them works,
//! verbatim, against the service.
//!
//! Examples live in ```sh blocks; those in ```sh expect-error blocks must answer with a
//! 4xx problem, all others with a 2xx. Every route has at least one example. A ```json
//! block right after a block of one curl example is that example's whole answer, and is
//! compared with the service's as JSON; a ```hcl or ```yaml block is compared byte for
//! byte, with the table's version, which changes with every edit of the table, written
//! `sha256:…`.

use std::process::Command;

use podmeta::{AppState, Catalog, Table};
use tokio::net::TcpListener;

const README: &str = include_str!("../../README.md");
/// The documents whose examples are run: the README and the pages in `docs/`.
const DOCUMENTS: [&str; 3] = [
    README,
    include_str!("../../docs/api.md"),
    include_str!("../../docs/operating.md"),
];
const DOCUMENTED_ADDRESS: &str = "127.0.0.1:8080";

/// `(command, expects_error)` for every curl line of every sh block of `text`.
fn examples_in(text: &str) -> Vec<(String, bool)> {
    enum Fence {
        Outside,
        Sh { expect_error: bool },
        Other,
    }
    let mut out = Vec::new();
    let mut fence = Fence::Outside;
    // A block may be indented to sit in a list item.
    for line in text.lines().map(str::trim_start) {
        if let Some(info) = line.strip_prefix("```") {
            fence = match (fence, info.trim()) {
                (Fence::Outside, "sh") => Fence::Sh {
                    expect_error: false,
                },
                (Fence::Outside, "sh expect-error") => Fence::Sh { expect_error: true },
                (Fence::Outside, _) => Fence::Other,
                (_, _) => Fence::Outside,
            };
            continue;
        }
        if let (Fence::Sh { expect_error }, Some(args)) = (&fence, line.strip_prefix("curl ")) {
            out.push((format!("curl {args}"), *expect_error));
        }
    }
    out
}

/// Every curl example of every document.
fn examples() -> Vec<(String, bool)> {
    DOCUMENTS
        .iter()
        .flat_map(|text| examples_in(text))
        .collect()
}

/// How a sample is compared with the answer.
#[derive(Debug, PartialEq)]
enum Compare {
    AsJson,
    AsText,
}

/// `(command, compare, sample)` for every sample answer of `text`: a ```json, ```hcl or
/// ```yaml block that follows a ```sh block holding one curl example, with only prose
/// between them. A JSON answer shown in any other block (```text, say, which a sample cut
/// with `…` would need) is refused, so that every sample is compared.
fn samples_in(text: &str) -> Vec<(String, Compare, String)> {
    let mut out = Vec::new();
    // The block being read: its info string, its fence's indent, and its lines.
    let mut open: Option<(String, usize, Vec<String>)> = None;
    // The last block closed, if it was a one-curl sh block: that curl line.
    let mut after_curl: Option<String> = None;
    for raw in text.lines() {
        // A block may be indented to sit in a list item: its lines lose that indent only.
        let line = raw.trim_start();
        let indent = raw.len() - line.len();
        let Some(info) = line.strip_prefix("```") else {
            if let Some((_, fence, lines)) = open.as_mut() {
                lines.push(raw[indent.min(*fence)..].to_owned());
            }
            continue;
        };
        let Some((info, _, lines)) = open.take() else {
            open = Some((info.trim().to_owned(), indent, Vec::new()));
            continue;
        };
        let curls: Vec<&String> = lines
            .iter()
            .filter(|l| l.trim_start().starts_with("curl "))
            .collect();
        let sample = lines.join("\n");
        match (info.as_str(), after_curl.take()) {
            ("json", Some(command)) => out.push((command, Compare::AsJson, sample)),
            ("hcl" | "yaml", Some(command)) => out.push((command, Compare::AsText, sample)),
            (info, Some(command)) => assert!(
                !sample.trim_start().starts_with('{'),
                "the answer of {command:?} is shown in a ```{info} block: show it whole, in ```json"
            ),
            _ => {}
        }
        if info.starts_with("sh") && curls.len() == 1 && lines.len() == 1 {
            after_curl = Some(curls[0].trim_start().to_owned());
        }
    }
    out
}

/// Serves the built-in table on a loopback port, for as long as the test runs; its
/// address.
async fn serve_builtin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    tokio::spawn(podmeta::serve(
        listener,
        state,
        podmeta::ServerSettings::default(),
        // No signal ever comes: its sender is gone.
        tokio::sync::mpsc::unbounded_channel().1,
    ));
    addr
}

/// Runs a documented command with `sh`, in `dir`, against `addr` instead of the
/// documented address.
async fn run(command: &str, addr: &str, dir: &std::path::Path) -> std::process::Output {
    let command_here = command.replace(DOCUMENTED_ADDRESS, addr);
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new("sh")
            .arg("-c")
            .arg(command_here)
            .current_dir(dir)
            .output()
            .expect("sh and curl are installed (.ci/run installs curl)")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_readme_curl_example_works_against_the_service() {
    let examples = examples();
    assert!(examples.len() >= 9, "found only {examples:?}");
    let addr = serve_builtin().await;
    let tmp = tempfile::tempdir().unwrap();

    for (command, expects_error) in examples {
        let with_status = format!("{command} -w '\\n%{{http_code}} %{{content_type}}'");
        let out = run(&with_status, &addr, tmp.path()).await;
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let (_, status_line) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
        let (status, content_type) = status_line.split_once(' ').unwrap();
        let status: u16 = status.parse().unwrap();
        if expects_error {
            assert!((400..500).contains(&status), "{command}: {status}");
            assert_eq!(content_type, "application/problem+json", "{command}");
        } else {
            assert!(
                (200..300).contains(&status),
                "{command}: {status}\n{stdout}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_answer_in_the_docs_is_the_services_answer() {
    let samples: Vec<_> = DOCUMENTS.iter().flat_map(|text| samples_in(text)).collect();
    assert!(samples.len() >= 4, "found only {samples:?}");
    let addr = serve_builtin().await;
    let tmp = tempfile::tempdir().unwrap();
    let version = Table::builtin().unwrap().version().to_owned();
    for (command, compare, sample) in samples {
        if compare == Compare::AsText {
            let out = run(&command, &addr, tmp.path()).await;
            let answer = String::from_utf8(out.stdout).unwrap();
            // The block's last line ends before the fence: the answer's ends in a newline.
            let answer = answer.replace(&version, "sha256:…");
            assert_eq!(
                format!("{sample}\n"),
                answer,
                "the docs' sample of {command:?} is not what it answers"
            );
            continue;
        }
        let shown: serde_json::Value = serde_json::from_str(&sample).unwrap_or_else(|e| {
            panic!("the sample of {command:?} is not whole JSON ({e}):\n{sample}")
        });
        let out = run(&command, &addr, tmp.path()).await;
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{command}: the answer is not JSON ({e})"));
        assert_eq!(
            shown, answer,
            "the docs' sample of {command:?} is not what it answers"
        );
    }
}

#[test]
fn a_sample_is_found_after_its_one_curl_example_and_one_cut_short_is_refused() {
    let doc = "```sh\ncurl -s http://x/a\n```\n\nprose\n\n```json\n{\"a\": 1}\n```\n";
    assert_eq!(
        samples_in(doc),
        [(
            "curl -s http://x/a".to_owned(),
            Compare::AsJson,
            "{\"a\": 1}".to_owned()
        )]
    );
    let hcl = "```sh\ncurl -s http://x/a\n```\n```hcl\nvariable \"a\" {}\n```\n";
    assert_eq!(samples_in(hcl)[0].1, Compare::AsText);
    let several = "```sh\ncurl -s http://x/a\ncurl -s http://x/b\n```\n```json\n{}\n```\n";
    assert!(samples_in(several).is_empty());
    let cut = "```sh\ncurl -s http://x/a\n```\n```text\n{\"a\": …}\n```\n";
    assert!(std::panic::catch_unwind(|| samples_in(cut)).is_err());
}

#[test]
fn every_route_has_a_readme_example() {
    let commands: Vec<String> = examples_in(README).into_iter().map(|(c, _)| c).collect();
    // The setup page's routes are for browsers: the README says where the page is.
    for route in podmeta::ROUTES.iter().filter(|r| !r.page) {
        let (method, template) = (route.method.as_str(), route.path);
        let found = commands.iter().any(|c| {
            let is_post = c.contains("-X POST");
            (is_post == (method == "POST"))
                && c.split_whitespace().any(|word| {
                    let word = word.trim_matches(['\'', '"']);
                    let Some(path) = word.strip_prefix(&format!("http://{DOCUMENTED_ADDRESS}"))
                    else {
                        return false;
                    };
                    let path = path.split('?').next().unwrap();
                    let (p, t): (Vec<_>, Vec<_>) =
                        (path.split('/').collect(), template.split('/').collect());
                    p.len() == t.len()
                        && p.iter().zip(&t).all(|(p, t)| t.starts_with('{') || p == t)
                })
        });
        assert!(found, "README has no curl example for {method} {template}");
    }
}
