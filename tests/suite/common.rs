//! The helpers of the suite: the app in-process, a server on a real socket, raw
//! exchanges, and the facts the tests share.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use podmeta::{AppState, Catalog, Table};
use tower::ServiceExt;

/// The app built from a table, driven in-process.
pub struct TestApp {
    pub state: AppState,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("the body is UTF-8")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text()))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap_or(""))
    }

    /// The rules a 422 problem names in `errors`, in order.
    pub fn rules(problem: &serde_json::Value) -> Vec<&str> {
        problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["rule"].as_str().expect("a rule"))
            .collect()
    }

    /// Asserts the response is a problem+json of `status` and returns its body.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        for key in ["type", "title", "detail"] {
            assert!(body[key].is_string(), "no {key} in {body}");
        }
        body
    }
}

/// The `Host` the in-process requests name.
pub const HOST: &str = "podmeta.test";

/// The app serving the compiled-in table.
pub fn spawn_app() -> TestApp {
    TestApp::with_table(Table::builtin().expect("the built-in table loads"))
}

impl TestApp {
    pub fn with_table(table: Table) -> Self {
        Self {
            state: AppState::new(Catalog::new(table)),
        }
    }

    /// Sends `request` as a client would: with a `Host` header, unless the test set its
    /// own.
    pub async fn request(&self, mut request: Request<Body>) -> TestResponse {
        if !request.headers().contains_key(header::HOST) {
            request
                .headers_mut()
                .insert(header::HOST, HOST.parse().unwrap());
        }
        let response = podmeta::app(self.state.clone())
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("the body can be read")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn send(&self, method: Method, path: &str) -> TestResponse {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("a valid request");
        self.request(request).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path).await
    }

    /// POSTs `body` with the given content type (none if `None`).
    pub async fn post(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut request = Request::builder().method(Method::POST).uri(path);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        self.request(request.body(body.into()).expect("a valid request"))
            .await
    }

    pub async fn post_bucket_policy(&self, pod: &str, body: &str) -> TestResponse {
        self.post(
            &format!("/pods/{pod}/bucket-policy"),
            Some("application/json"),
            body.to_owned(),
        )
        .await
    }
}

/// The source page, as kept beside the tests (see `source_page_copy_is_current`).
pub const SOURCE_PAGE: &str = include_str!("../fixtures/data-hosting-locations.md");

/// The pods of the built-in table, in order.
pub const PODS: [&str; 4] = ["us1", "us2", "eu1", "au1"];

/// A server over a real socket on a loopback port, stopped when dropped.
pub struct RunningServer {
    pub addr: std::net::SocketAddr,
    /// The admin listener's address, if it has one.
    pub admin: Option<std::net::SocketAddr>,
    signals: tokio::sync::mpsc::UnboundedSender<()>,
    pub task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    pub async fn start(state: AppState, settings: podmeta::ServerSettings) -> Self {
        Self::start_listeners(state, settings, false).await
    }

    /// Also serves the admin listener, on a port of its own.
    pub async fn start_with_admin(state: AppState, settings: podmeta::ServerSettings) -> Self {
        Self::start_listeners(state, settings, true).await
    }

    async fn start_listeners(
        state: AppState,
        settings: podmeta::ServerSettings,
        with_admin: bool,
    ) -> Self {
        let loopback = "127.0.0.1:0".parse().unwrap();
        let main = podmeta::bind(loopback).unwrap();
        let addr = main.local_addr().unwrap();
        let admin = with_admin.then(|| podmeta::bind(loopback).unwrap());
        let admin_addr = admin.as_ref().map(|l| l.local_addr().unwrap());
        let (signals, received) = tokio::sync::mpsc::unbounded_channel();
        let listeners = podmeta::Listeners { main, admin };
        let task = tokio::spawn(podmeta::serve(listeners, state, settings, received));
        Self {
            addr,
            admin: admin_addr,
            signals,
            task: Some(task),
        }
    }

    /// Sends the server a stop signal, as SIGTERM would.
    pub fn signal(&self) {
        let _ = self.signals.send(());
    }

    /// Begins the graceful shutdown and waits for the server to return.
    pub async fn stop(mut self) {
        self.signal();
        let task = self.task.take().unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(15), task)
            .await
            .expect("the server stops")
            .unwrap()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Sends raw bytes on a new connection and reads until the server closes it (or `wait`
/// passes), returning what was read.
pub async fn raw_exchange(
    addr: std::net::SocketAddr,
    request: &[u8],
    wait: std::time::Duration,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The first document of a YAML file of the repository, as JSON.
pub fn yaml_file(path: &str) -> serde_json::Value {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    yaml_text(&text)
}

/// The first document of a YAML text, as JSON.
pub fn yaml_text(text: &str) -> serde_json::Value {
    let docs =
        yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    yaml_to_json(&docs[0])
}

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> serde_json::Value {
    use serde_json::Value;
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Real(r) => r.parse::<f64>().map(Value::from).unwrap(),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_owned);
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML node {other:?}"),
    }
}

/// The value of the metric line of `metrics` (Prometheus text) that begins with
/// `line_prefix`.
pub fn metric_value(metrics: &str, line_prefix: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(line_prefix))
        .unwrap_or_else(|| panic!("no {line_prefix} in\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}
