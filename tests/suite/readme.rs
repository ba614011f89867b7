//! The README and the pages in `docs/` are true: every curl example in them works,
//! verbatim, against the service.
//!
//! Examples live in ```sh blocks; those in ```sh expect-error blocks must answer with a
//! 4xx problem, all others with a 2xx. Every route has at least one example.

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

#[tokio::test(flavor = "multi_thread")]
async fn every_readme_curl_example_works_against_the_service() {
    let examples = examples();
    assert!(examples.len() >= 9, "found only {examples:?}");

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
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();

    for (command, expects_error) in examples {
        let command_here = command.replace(DOCUMENTED_ADDRESS, &addr);
        let out = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || {
                Command::new("sh")
                    .arg("-c")
                    .arg(format!(
                        "{command_here} -w '\\n%{{http_code}} %{{content_type}}'"
                    ))
                    .current_dir(dir)
                    .output()
                    .expect("sh and curl are installed (.ci/run installs curl)")
            }
        })
        .await
        .unwrap();
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
