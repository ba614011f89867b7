//! Every value of the source page is served, for the pod the page gives it to, exactly as
//! the page writes it (save the one known error the facts file names).
//!
//! The page is read here independently of the table: its markdown and HTML tables are
//! split into pods and rows by a small reader of their own, so that a value mistyped in
//! `config/pods.toml` can't hide behind the same mistake in the test.

use std::collections::BTreeMap;

use crate::common::{PODS, SOURCE_PAGE, spawn_app};
use serde_json::{Value, json};

/// The part of the page under a heading, up to the next heading.
fn section(heading: &str) -> &'static str {
    let start = SOURCE_PAGE
        .find(&format!("{heading}\n"))
        .unwrap_or_else(|| panic!("the page has no {heading:?}"));
    let rest = &SOURCE_PAGE[start + heading.len()..];
    let end = rest.find("\n#").unwrap_or(rest.len());
    &rest[..end]
}

/// An HTML table's rows, grouped by the pod whose `<td>` opens them: for each pod, the
/// `<code>` texts of each of its rows.
fn html_rows(section: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut rows: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let mut pod = None;
    for line in section.lines() {
        if let Some(cell) = line
            .trim()
            .strip_prefix("<td")
            .and_then(|l| l.split_once('>'))
            .and_then(|(_, rest)| rest.strip_suffix("</td>"))
        {
            let is_pod = cell.len() == 3
                && cell[..2].bytes().all(|b| b.is_ascii_uppercase())
                && cell.as_bytes()[2].is_ascii_digit();
            if is_pod {
                pod = Some(cell.to_ascii_lowercase());
                continue;
            }
        }
        let codes: Vec<String> = line
            .split("<code>")
            .skip(1)
            .filter_map(|c| c.split_once("</code>"))
            .map(|(code, _)| code.to_owned())
            .collect();
        if let (Some(pod), false) = (&pod, codes.is_empty()) {
            rows.entry(pod.clone()).or_default().push(codes);
        }
    }
    rows
}

async fn pod(id: &str) -> Value {
    spawn_app().get(&format!("/pods/{id}")).await.json()
}

#[tokio::test]
async fn login_urls_and_locations_are_served_per_pod_in_the_page_order() {
    let mut seen = Vec::new();
    for line in section("## Logging into mParticle").lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, location, name, urls, _] = cells[..] else {
            continue;
        };
        if !name.starts_with(|c: char| c.is_ascii_uppercase()) || name == "Pod" {
            continue;
        }
        let id = name.to_ascii_lowercase();
        // Markdown links: [text](url); the text is the URL.
        let urls: Vec<&str> = urls
            .split("](")
            .skip(1)
            .filter_map(|u| u.split_once(')'))
            .map(|(u, _)| u)
            .collect();
        let body = pod(&id).await;
        assert_eq!(body["name"], name);
        assert_eq!(body["location"], location, "{id}");
        assert_eq!(body["login_urls"], json!(urls), "{id}");
        seen.push(id);
    }
    assert_eq!(seen, PODS);
}

#[tokio::test]
async fn events_api_urls_are_served_per_pod_and_api() {
    let rows = html_rows(section("### Events API"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        let mut rows = rows;
        if id == "us2" {
            // The facts file: the page's `/v2/bulkevent` is a typo for `/v2/bulkevents`.
            assert_eq!(rows[1], ["https://s2s.us2.mparticle.com/v2/bulkevent"]);
            rows[1] = vec!["https://s2s.us2.mparticle.com/v2/bulkevents".into()];
        }
        let api = &pod(&id).await["events_api"];
        assert_eq!(api["events"], json!(rows[0]), "{id}");
        assert_eq!(api["bulkevents"], json!(rows[1]), "{id}");
        assert_eq!(api["bulkevents_historical"], json!(rows[2]), "{id}");
    }
}

#[tokio::test]
async fn rules_example_arns_are_served_per_pod() {
    let rows = html_rows(section("#### ARN"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        let arns: Vec<String> = rows.concat();
        assert_eq!(pod(&id).await["rules"]["example_arns"], json!(arns), "{id}");
    }
}

#[tokio::test]
async fn iam_resources_are_served_per_pod() {
    let rows = html_rows(section("#### IAM"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        assert_eq!(
            pod(&id).await["rules"]["iam_resources"],
            json!(rows.concat()),
            "{id}"
        );
    }
}

#[tokio::test]
async fn sftp_hosts_port_and_ip_are_served_per_pod() {
    let rows = html_rows(section("### SFTP Servers"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        let mut hosts = Vec::new();
        for code in &rows[0] {
            let host_port = code.strip_prefix("Hostname:").unwrap().trim();
            let (host, port) = host_port.rsplit_once(':').unwrap();
            hosts.push(host.to_owned());
            assert_eq!(pod(&id).await["sftp"]["port"], port.parse::<u16>().unwrap());
        }
        let ip = rows[1][0].strip_prefix("IP:").unwrap().trim();
        let sftp = &pod(&id).await["sftp"];
        assert_eq!(sftp["hosts"], json!(hosts), "{id}");
        assert_eq!(sftp["ip"], ip, "{id}");
    }
}

#[tokio::test]
async fn aws_regions_are_served_per_pod() {
    let rows = html_rows(section("### AWS Regions"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        assert_eq!(pod(&id).await["aws_region"], rows[0][0], "{id}");
    }
}

#[tokio::test]
async fn s3_principals_are_served_per_pod_as_arn1_then_arn2() {
    let rows = html_rows(section("#### AWS S3 Bucket Policy Principal"));
    assert_eq!(rows.len(), 4);
    for (id, rows) in rows {
        assert_eq!(
            pod(&id).await["s3"]["principals"],
            json!(rows.concat()),
            "{id}"
        );
    }
}

#[tokio::test]
async fn the_global_facts_are_served_with_every_pod() {
    let sdks: Vec<&str> = section("## Sending Data into mParticle")
        .lines()
        .filter_map(|l| l.strip_prefix("* "))
        .take_while(|l| !l.starts_with('['))
        .collect();
    assert_eq!(sdks, ["Go", "Java", "Node", "Python", "Ruby"]);
    let ip_ranges = section("### IP Whitelisting")
        .split("href=\"")
        .nth(1)
        .and_then(|r| r.split_once('"'))
        .map(|(u, _)| u)
        .unwrap();
    assert!(SOURCE_PAGE.contains("The bucket name must begin with `mp-forwarding-`."));
    for id in PODS {
        let body = pod(id).await;
        assert_eq!(body["sdks_requiring_pod"], json!(sdks));
        assert_eq!(body["ip_ranges_url"], ip_ranges);
        assert_eq!(body["s3"]["bucket_prefix"], "mp-forwarding-");
        assert_eq!(body["rules"]["function_name_prefix"], "mpr");
    }
}
