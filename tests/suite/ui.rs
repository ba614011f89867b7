//! The setup page over HTTP, in-process: every fact of the pod in its HTML, the
//! redirects, the HTML 404, the browser's way in from `/`, the assets, and the page's
//! rules (its own origin only, no inline script or style, labelled fields). What it does
//! in a browser is `tests/ui/`'s.

use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;

use crate::common::{PODS, TestApp, TestResponse, spawn_app};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `text` as it appears in HTML: `&`, `<`, `>` and `"` escaped, as maud writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Every string and number in a JSON value.
fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// `GET path` with one header more.
async fn get_with(
    app: &TestApp,
    path: &str,
    name: header::HeaderName,
    value: &str,
) -> TestResponse {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(name, value)
        .body(axum::body::Body::empty())
        .unwrap();
    app.request(request).await
}

/// Each value of an HTML attribute `name` in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    html.split(&format!(" {name}=\""))
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect()
}

#[tokio::test]
async fn each_pods_page_shows_every_value_of_its_json() {
    let app = spawn_app();
    for pod in PODS {
        let page = app.get(&format!("/ui/{pod}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.content_type(), "text/html; charset=utf-8");
        // A value may carry line-break opportunities (`<wbr>`), which add no text.
        let html = page.text().replace("<wbr>", "");
        let mut values = Vec::new();
        leaves(&app.get(&format!("/pods/{pod}")).await.json(), &mut values);
        assert!(values.len() > 25, "{values:?}");
        for value in values {
            assert!(
                html.contains(&escaped(&value)),
                "{pod}: {value} is not on the page"
            );
        }
        // The SDK snippets and the IAM policy, each as the API serves it.
        let sdks = app.get(&format!("/pods/{pod}/sdks")).await.json();
        for sdk in sdks["server_sdks"].as_array().unwrap() {
            let snippet = sdk["snippet"].as_str().unwrap();
            assert!(html.contains(&escaped(snippet)), "{pod}: {snippet}");
        }
        for query in ["", "?format=terraform", "?format=cloudformation"] {
            let iam = app
                .get(&format!("/pods/{pod}/rules/iam-policy{query}"))
                .await;
            assert!(
                html.contains(&escaped(iam.text())),
                "{pod}: the IAM policy{query}"
            );
        }
        // Each form downloads under a name of its own, as its media type.
        for (file, media_type) in [
            (
                format!("mparticle-{pod}-rules-iam.json"),
                "application/json",
            ),
            (
                format!("mparticle-{pod}-rules-iam.tf"),
                "text/plain; charset=utf-8",
            ),
            (
                format!("mparticle-{pod}-rules-iam.yaml"),
                "application/yaml",
            ),
            (
                format!("mparticle-{pod}-bucket-policy.tf"),
                "text/plain; charset=utf-8",
            ),
        ] {
            let button = format!("data-filename=\"{file}\" data-type=\"{media_type}\"");
            assert!(html.contains(&button), "{pod}: no download of {file}");
        }
    }
}

#[tokio::test]
async fn the_page_says_where_the_source_page_is_wrong_and_what_is_served() {
    let app = spawn_app();
    let us2 = app.get("/ui/us2").await;
    let html = us2.text();
    assert!(html.contains("https://s2s.us2.mparticle.com/v2/bulkevent</code>"));
    assert!(html.contains("it lacks the final s"), "no reason given");
    assert_eq!(html.matches("The source page prints").count(), 1, "{html}");
    for pod in ["us1", "eu1", "au1"] {
        let html = app.get(&format!("/ui/{pod}")).await;
        assert!(!html.text().contains("The source page prints"), "{pod}");
    }
}

#[tokio::test]
async fn a_page_is_cacheable_with_an_etag_and_loads_nothing_but_its_own_files() {
    let app = spawn_app();
    for path in ["/ui/", "/ui/eu1", "/ui/zz9"] {
        let page = app.get(path).await;
        assert_eq!(page.headers[header::CONTENT_SECURITY_POLICY], CSP, "{path}");
        assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");
        let html = page.text();
        // Every address the page names for the browser to follow or load is its own.
        for url in attribute_values(html, "href")
            .into_iter()
            .chain(attribute_values(html, "src"))
        {
            assert!(
                url.starts_with('/') || url.starts_with('#'),
                "{path}: {url}"
            );
        }
        // No inline script or style: the CSP would refuse them.
        assert!(!html.contains("<style"), "{path}");
        assert!(!html.contains(" style=\""), "{path}");
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/ui/assets/").count(),
            "{path}"
        );
        let handlers = html.split(" on").skip(1).filter(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            !name.is_empty() && rest[name.len()..].starts_with("=\"")
        });
        assert_eq!(handlers.count(), 0, "{path}: an inline event handler");
    }
    let page = app.get("/ui/eu1").await;
    assert_eq!(page.headers[header::CACHE_CONTROL], "public, max-age=300");
    let etag = page.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = get_with(&app, "/ui/eu1", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn every_field_has_a_label_and_its_errors_are_tied_to_it() {
    let app = spawn_app();
    let page = app.get("/ui/eu1").await;
    let html = page.text();
    let ids = attribute_values(html, "id");
    let mut fields = 0;
    for tag in ["<input ", "<select "] {
        for field in html.split(tag).skip(1) {
            let field = format!(" {}", field.split('>').next().unwrap());
            let id = attribute_values(&field, "id")[0].to_owned();
            assert!(
                html.contains(&format!("<label for=\"{id}\">")),
                "no label for {id}"
            );
            let described = attribute_values(&field, "aria-describedby");
            let errors = described
                .first()
                .map(|d| d.split(' ').any(|d| d.ends_with("errors")));
            assert_eq!(errors, Some(true), "{id}: no errors tied to it");
            for d in described[0].split(' ') {
                assert!(ids.contains(&d), "{id}: {d} is not on the page");
            }
            fields += 1;
        }
    }
    assert_eq!(fields, 5, "bucket, account id, function, alias, lookup");
}

#[tokio::test]
async fn a_pod_in_another_case_is_redirected_to_its_canonical_page() {
    let app = spawn_app();
    for (from, to) in [("/ui/EU1", "/ui/eu1"), ("/ui/Au1", "/ui/au1")] {
        let response = app.get(from).await;
        assert_eq!(response.status, StatusCode::PERMANENT_REDIRECT, "{from}");
        assert_eq!(response.headers[header::LOCATION], to, "{from}");
    }
}

#[tokio::test]
async fn the_page_answers_with_or_without_its_final_slash() {
    let app = spawn_app();
    let with = app.get("/ui/").await;
    let without = app.get("/ui").await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(with.body, without.body);
}

#[tokio::test]
async fn an_unknown_pod_is_an_html_page_that_lists_the_pods() {
    let app = spawn_app();
    let response = app.get("/ui/zz9").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.content_type(), "text/html; charset=utf-8");
    let html = response.text();
    assert!(html.contains("There is no pod &quot;zz9&quot;"), "{html}");
    for pod in PODS {
        assert!(html.contains(&format!("href=\"/ui/{pod}\"")), "{pod}");
    }
    assert_eq!(response.headers[header::CACHE_CONTROL], "no-store");
    // The API's own 404s stay problem+json.
    app.get("/pods/zz9").await.problem(404);
}

#[tokio::test]
async fn a_browser_asking_for_the_index_is_sent_to_the_page_and_curl_is_not() {
    let app = spawn_app();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let response = get_with(&app, "/", header::ACCEPT, browser).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.headers[header::LOCATION], "/ui/");
    for accept in ["*/*", "application/json"] {
        let response = get_with(&app, "/", header::ACCEPT, accept).await;
        assert_eq!(response.status, StatusCode::OK, "{accept}");
        let vary = response.headers[header::VARY].to_str().unwrap().to_owned();
        assert!(vary.contains("accept"), "{vary}");
        let links = response.json()["links"].clone();
        assert!(
            links
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["href"] == "/ui/"),
            "{links}"
        );
    }
}

#[tokio::test]
async fn the_assets_have_content_hashed_names_and_are_immutable() {
    let app = spawn_app();
    let html = app.get("/ui/eu1").await.text().to_owned();
    let assets: Vec<&str> = attribute_values(&html, "href")
        .into_iter()
        .chain(attribute_values(&html, "src"))
        .filter(|u| u.starts_with("/ui/assets/"))
        .collect();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for path in assets {
        let asset = app.get(path).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        let expected_type = match path.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "text/javascript; charset=utf-8",
        };
        assert_eq!(asset.content_type(), expected_type);
        assert_eq!(
            asset.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(asset.headers.contains_key(header::ETAG));
        // The name carries the start of the body's SHA-256.
        let hash = path.rsplit('/').next().unwrap().split('.').nth(1).unwrap();
        let digest = sha256_hex(&asset.body);
        assert!(digest.starts_with(hash), "{path}: {digest}");
    }
    let missing = app.get("/ui/assets/podmeta.000000000000.css").await;
    missing.problem(404);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn every_value_is_escaped() {
    let table = podmeta::BUILTIN_TOML.replacen(
        "location = \"Europe\"",
        "location = \"Europe <b>&amp; \\\"Co\\\"</b>\"",
        1,
    );
    let table = podmeta::Table::from_toml("pods.toml", &table).unwrap();
    let app = TestApp::with_table(table);
    let html = app.get("/ui/eu1").await.text().to_owned();
    assert!(
        html.contains("Europe &lt;b&gt;&amp;amp; &quot;Co&quot;&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>"));
}
