//! The contract: `openapi.yaml` describes exactly the routes the router has, and its
//! examples are what the service really answers.

use std::collections::BTreeSet;

use crate::common::spawn_app;
use axum::http::StatusCode;
use serde_json::Value;

fn spec() -> Value {
    crate::common::yaml_file("openapi.yaml")
}

/// Resolves a local `$ref` (`#/components/…`).
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(pointer) => spec.pointer(pointer.trim_start_matches('#')).unwrap(),
        None => node,
    }
}

const METHODS: [&str; 8] = [
    "get", "head", "post", "put", "delete", "patch", "options", "trace",
];

#[test]
fn the_spec_and_the_router_have_the_same_operations() {
    let spec = spec();
    let in_spec: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let in_router: BTreeSet<String> = podmeta::ROUTES
        .iter()
        .flat_map(|r| {
            // axum answers HEAD on every GET route; the spec says so operation by operation.
            let head = (r.method == axum::http::Method::GET).then(|| format!("HEAD {}", r.path));
            [Some(format!("{} {}", r.method, r.path)), head]
                .into_iter()
                .flatten()
        })
        .collect();
    let only_spec: Vec<_> = in_spec.difference(&in_router).collect();
    let only_router: Vec<_> = in_router.difference(&in_spec).collect();
    assert!(
        only_spec.is_empty() && only_router.is_empty(),
        "only in the spec: {only_spec:?}; only in the router: {only_router:?}"
    );
}

#[test]
fn every_schema_object_is_closed_and_lists_its_required_fields() {
    fn walk(node: &Value, at: &str, open: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                let is_object_schema = map.get("type") == Some(&Value::from("object"))
                    && map.contains_key("properties");
                if is_object_schema {
                    if map.get("additionalProperties") != Some(&Value::Bool(false)) {
                        open.push(format!("{at}: additionalProperties is not false"));
                    }
                    if !map.contains_key("required") {
                        open.push(format!("{at}: no required list"));
                    }
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), open);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), open);
                }
            }
            _ => {}
        }
    }
    let mut open = Vec::new();
    walk(&spec(), "#", &mut open);
    assert!(open.is_empty(), "{open:#?}");
}

#[test]
fn every_error_is_documented_as_problem_json() {
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let response = resolve(&spec, response);
                if status.starts_with('4') || status.starts_with('5') {
                    let content = &response["content"];
                    // The setup page's own 404 is a page: a person reads it.
                    let is_page = path.starts_with("/ui/") && content.get("text/html").is_some();
                    if method != "head" && !is_page {
                        assert!(
                            content.get("application/problem+json").is_some(),
                            "{method} {path} {status}"
                        );
                    }
                }
                for header in ["X-Request-Id", "Cache-Control"] {
                    assert!(
                        response["headers"].get(header).is_some(),
                        "{method} {path} {status}: no {header}"
                    );
                }
                if method == "get" && (status == "200" || status == "304") {
                    assert!(
                        response["headers"].get("ETag").is_some(),
                        "{method} {path} {status}: no ETag"
                    );
                }
            }
        }
    }
}

/// The examples of the spec are the service's real answers, so that drift is caught.
#[tokio::test]
async fn the_spec_examples_are_what_the_service_answers() {
    let spec = spec();
    let app = spawn_app();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let ok = resolve(&spec, &op["responses"]["200"]);
        let Some(example) = ok["content"]
            .get("application/json")
            .and_then(|c| c.get("example"))
        else {
            continue;
        };
        let url = podmeta::ROUTES
            .iter()
            .find(|r| r.path == path && r.method == axum::http::Method::GET)
            .unwrap_or_else(|| panic!("GET {path} is in the spec, not in the route table"))
            .example();
        let response = app.get(&url).await;
        assert_eq!(response.status, StatusCode::OK, "{url}");
        let mut served = response.json();
        if path == "/" {
            // The load time is this process's own.
            served["table"]["loaded_at"] = example["table"]["loaded_at"].clone();
        }
        assert_eq!(&served, example, "the example of GET {path} is stale");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} examples checked");
}

/// Each POST's example body gets the example answer, so that those cannot drift either.
#[tokio::test]
async fn the_spec_post_examples_are_what_the_service_answers() {
    let spec = spec();
    let app = spawn_app();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let body = &op["requestBody"]["content"]["application/json"]["example"];
        let ok = resolve(&spec, &op["responses"]["200"]);
        let Some(example) = ok["content"]
            .get("application/json")
            .and_then(|c| c.get("example"))
        else {
            continue;
        };
        let url = path.replace("{pod}", "eu1");
        let response = app
            .post(&url, Some("application/json"), body.to_string())
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{url}: {}",
            response.text()
        );
        assert_eq!(
            &response.json(),
            example,
            "the example of POST {path} is stale"
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} examples checked");
}

#[test]
fn the_spec_served_is_the_repositorys() {
    assert_eq!(
        podmeta::OPENAPI_YAML,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap()
    );
}

#[test]
fn the_contract_carries_the_crates_licence() {
    let manifest = std::fs::read_to_string("Cargo.toml").unwrap();
    let licence = manifest
        .lines()
        .find_map(|line| line.strip_prefix("license = "))
        .map(|value| value.trim_matches('"'))
        .expect("Cargo.toml names a licence");
    let spec = spec();
    assert_eq!(spec["info"]["license"]["identifier"], licence);
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            std::path::Path::new(file).exists(),
            "{file} is missing beside the crate"
        );
    }
}
