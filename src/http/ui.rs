//! The setup page's routes: `/ui/` (and `/ui`), `/ui/{pod}` and `/ui/assets/{file}` (the HTML is
//! rendered by `page`), and what sends a browser there from `/`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::page;
use crate::problem::ApiError;

/// `GET /ui/` (and `/ui`): the pods, and "which pod is this?".
pub(super) async fn ui_index(State(state): State<AppState>) -> Response {
    html(StatusCode::OK, page::index(&state.catalog()))
}

/// `GET /ui/{pod}`: the pod's page at its canonical id (`/ui/EU1` → 308 `/ui/eu1`); an
/// unknown pod gets a page that lists the pods, not problem+json: a person reads it.
pub(super) async fn ui_pod(State(state): State<AppState>, Path(given): Path<String>) -> Response {
    let catalog = state.catalog();
    match catalog.table().position_ignoring_case(&given) {
        Some(position) => {
            let id = catalog.table().pod_at(position).id().as_str();
            if id == given {
                html(StatusCode::OK, page::pod(&catalog, position))
            } else {
                permanent_redirect(&format!("/ui/{id}"))
            }
        }
        None => html(StatusCode::NOT_FOUND, page::unknown_pod(&catalog, &given)),
    }
}

/// `GET /ui/assets/{file}`: the stylesheet and the script, by their content-hashed names.
pub(super) async fn ui_asset(Path(file): Path<String>) -> Response {
    match page::asset(&file) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::ETAG,
                    HeaderValue::try_from(asset.etag.as_str())
                        .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => ApiError::NoRoute {
            path: format!("/ui/assets/{file}"),
        }
        .into_response(),
    }
}

/// Whether a request to `/` comes from a browser: its `Accept` ranks HTML above JSON.
pub(super) fn prefers_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    quality(&accept, "text", "html") > quality(&accept, "application", "json")
}

/// The quality `accept` gives `kind/subtype`: that of its most specific matching range
/// (RFC 9110 §12.5.1), 0 if none matches; 1 with no `Accept` at all.
fn quality(accept: &str, kind: &str, subtype: &str) -> f32 {
    if accept.trim().is_empty() {
        return 1.0;
    }
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (k, s) {
            (k, s) if k == kind && s == subtype => 2,
            (k, "*") if k == kind => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        let q = params
            .filter_map(|p| p.trim().split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, value)| value.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// A 308 to `to`. A pod id is always a valid header value; were one not, the answer would
/// be a 400 rather than a panic.
fn permanent_redirect(to: &str) -> Response {
    match HeaderValue::try_from(to) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => ApiError::BadRequest {
            detail: "The path cannot be redirected.".into(),
        }
        .into_response(),
    }
}

/// An HTML page with its ETag and its security headers: the page may load only its own
/// assets, may not be framed, and sends no referrer.
fn html(status: StatusCode, body: String) -> Response {
    let etag = super::envelope::etag_header(body.as_bytes());
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(page::CONTENT_SECURITY_POLICY),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response();
    if status.is_success() {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_are_sent_to_the_page_and_json_clients_are_not() {
        for browser in [
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
            "text/html",
            "text/*, application/json;q=0.5",
        ] {
            assert!(prefers_html(&accept(browser)), "{browser}");
        }
        for client in [
            "*/*",
            "application/json",
            "application/json, text/html;q=0.9",
            "text/html;q=0.5, */*",
            "text/html;q=0",
        ] {
            assert!(!prefers_html(&accept(client)), "{client}");
        }
        assert!(!prefers_html(&HeaderMap::new()));
    }
}
