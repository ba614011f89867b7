//! Micro-benchmarks of the request path's pieces: `cargo bench`.
//!
//! Timing only: nothing here asserts a speed. The end-to-end comparison with nginx is
//! `bench/run.sh`.

#![allow(clippy::expect_used)] // a benchmark with a broken table has nothing to measure

use std::future::Future as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use podmeta::Part;
use podmeta::internals::BucketName;
use podmeta::internals::LookupQuery;
use podmeta::{Catalog, Table};

fn pod_lookup(c: &mut Criterion) {
    let catalog = Catalog::new(Table::builtin().expect("the built-in table loads"));
    c.bench_function("pod lookup: EU1 to its pre-rendered body", |b| {
        b.iter(|| {
            let position = catalog
                .table()
                .position_ignoring_case(black_box("EU1"))
                .expect("eu1 exists");
            black_box(catalog.pod_body(position, Part::Whole).body().len())
        })
    });
}

fn bucket_policy(c: &mut Criterion) {
    let table = Table::builtin().expect("the built-in table loads");
    let prefix = &table.s3().bucket_prefix;
    let principals = &table.pod("eu1").expect("eu1 exists").s3.principals;
    c.bench_function("bucket name: validate", |b| {
        b.iter(|| BucketName::parse(prefix, black_box("mp-forwarding-acme.prod-1")).is_ok())
    });
    c.bench_function("bucket name: validate a bad one, every rule", |b| {
        b.iter(|| BucketName::parse(prefix, black_box("-Acme..x-s3alias")).err())
    });
    let bucket = BucketName::parse(prefix, "mp-forwarding-acme").expect("a valid name");
    c.bench_function("bucket policy: render", |b| {
        b.iter(|| {
            podmeta::internals::bucket_policy(
                black_box(principals),
                black_box(&bucket),
                podmeta::Style::Pretty,
            )
        })
    });
}

fn reverse_lookup(c: &mut Criterion) {
    let catalog = Catalog::new(Table::builtin().expect("the built-in table loads"));
    for (name, value) in [
        ("host", "SFTP.mparticle.com"),
        ("host", "jssdks.eu1.mparticle.com"),
        ("url", "https://s2s.au1.mparticle.com/v2/events"),
        ("ip", "52.45.156.86"),
        ("api_key", "eu1-0123456789abcdef"),
        ("arn", "arn:aws:iam::583371261087:role/verifyrequest_lambda"),
    ] {
        let pairs = vec![(name.to_owned(), value.to_owned())];
        c.bench_function(&format!("reverse lookup: {name}={value}"), |b| {
            b.iter(|| {
                let query = LookupQuery::parse(black_box(&pairs)).expect("well formed");
                catalog
                    .lookup_json(&query, podmeta::Style::Pretty)
                    .map(|b| b.len())
            })
        });
    }
}

/// The answer to `GET /pods/eu1` as a request from a pool would make it, in process: no
/// socket, no access log (no subscriber), the metrics counted.
fn prerendered(c: &mut Criterion) {
    use tower::Service as _;
    let catalog = Catalog::new(Table::builtin().expect("the built-in table loads"));
    let mut app = podmeta::app(podmeta::AppState::new(catalog));
    let request = || {
        axum::http::Request::get("/pods/eu1")
            .header("host", "127.0.0.1:8080")
            .body(axum::body::Body::empty())
            .expect("a valid request")
    };
    c.bench_function("GET /pods/eu1, request to response", |b| {
        b.iter_batched(
            request,
            |request| {
                let future = std::pin::pin!(app.call(request));
                let waker = std::task::Waker::noop();
                let answered = future.poll(&mut std::task::Context::from_waker(waker));
                black_box(answered)
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

/// `POST /pods/eu1/bucket-policy` in process: every layer as served, the JSON log as served
/// (written to nowhere), on a current-thread runtime.
fn posted_bucket_policy(c: &mut Criterion) {
    use tower::Service as _;
    let (writer, _flush) = tracing_appender::non_blocking(std::io::sink());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(writer.clone())
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let catalog = Catalog::new(Table::builtin().expect("the built-in table loads"));
    let settings = podmeta::HttpSettings {
        access_log: podmeta::AccessLog::Json(writer),
        ..podmeta::HttpSettings::default()
    };
    let state = podmeta::AppState::with_settings(catalog, settings);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let request = || {
        axum::http::Request::post("/pods/eu1/bucket-policy")
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                r#"{"bucket": "mp-forwarding-acme"}"#,
            ))
            .expect("a valid request")
    };
    let mut app = podmeta::app(state);
    c.bench_function("POST /pods/eu1/bucket-policy, request to response", |b| {
        b.iter_batched(
            request,
            |request| black_box(runtime.block_on(app.call(request))),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(
    benches,
    pod_lookup,
    bucket_policy,
    reverse_lookup,
    prerendered,
    posted_bucket_policy
);
criterion_main!(benches);
