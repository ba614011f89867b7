//! Prometheus metrics: requests by listener, method, route template and status; latency
//! by listener and route; reloads by result; the table in force; the build; connections
//! by listener; and the process's own (`process_*`, the prometheus crate's collector).
//!
//! Each app has its own registry (not the process-global default), so that tests can run
//! several apps side by side and read each one's counts.

use std::time::{Duration, SystemTime};

use prometheus::{
    Counter, CounterVec, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use axum::http::StatusCode;

use crate::catalog::Catalog;

/// Latency buckets, in seconds, from what podmeta's answers take, measured from a
/// request's head to its response (the access lines' `latency_us`): a pre-rendered
/// answer takes about a microsecond, a routed one some tens, a slow client's body up to
/// the request timeout.
const LATENCY_BUCKETS: [f64; 18] = [
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.05,
    0.1,
    0.5,
    1.0,
    10.0,
];

/// A request's counter and latency histogram, for one method, route and status, resolved
/// once for a caller that counts many (each lookup hashes the labels under a lock).
#[derive(Clone)]
pub struct RequestSeries {
    count: IntCounter,
    latency: Histogram,
}

impl RequestSeries {
    pub fn observe(&self, elapsed: Duration) {
        self.count.inc();
        self.latency.observe(elapsed.as_secs_f64());
    }
}

/// The metrics of one listener's connections, resolved once.
#[derive(Clone)]
pub struct ConnectionMetrics {
    pub open: IntGauge,
    pub cap: IntGauge,
    pub accepted: IntCounter,
    pub idle_closed: IntCounter,
    pub shed: IntCounter,
    pub at_cap_seconds: Counter,
    pub timed_out_new: IntCounter,
    pub timed_out_headers: IntCounter,
    pub timed_out_idle: IntCounter,
}

/// The metrics of one app.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    reloads: IntCounterVec,
    build_info: IntGaugeVec,
    table_info: IntGaugeVec,
    table_pods: IntGauge,
    table_loaded: IntGauge,
    // The connection metrics, by listener.
    open: IntGaugeVec,
    cap: IntGaugeVec,
    accepted: IntCounterVec,
    idle_closed: IntCounterVec,
    shed: IntCounterVec,
    at_cap_seconds: CounterVec,
    timed_out: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// A metric, registered in `registry`.
fn registered<M>(
    registry: &Registry,
    metric: Result<M, prometheus::Error>,
) -> Result<M, prometheus::Error>
where
    M: prometheus::core::Collector + Clone + 'static,
{
    let metric = metric?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

/// `registered` for a metric vector of type `$kind`, by name, help and labels.
macro_rules! vector {
    ($registry:expr, $kind:ty, $name:literal, $help:literal, $labels:expr) => {
        registered($registry, <$kind>::new(Opts::new($name, $help), $labels))?
    };
}

impl Metrics {
    /// Registers every metric. Fails only if two share a name, which is a bug caught by the
    /// first test that builds an app.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let r = &registry;
        let listener = &["listener"];
        let latency = HistogramOpts::new(
            "podmeta_http_request_duration_seconds",
            "Time from a request's head to its response, by listener and route template.",
        )
        .buckets(LATENCY_BUCKETS.to_vec());
        let metrics = Self {
            requests: vector!(
                r,
                IntCounterVec,
                "podmeta_http_requests_total",
                "HTTP requests answered, by listener (main, or admin for probes and scrapes).",
                &["listener", "method", "route", "status"]
            ),
            latency: registered(r, HistogramVec::new(latency, &["listener", "route"]))?,
            build_info: vector!(
                r,
                IntGaugeVec,
                "podmeta_build_info",
                "The podmeta build serving (always 1), by its version and its compiler's.",
                &["version", "rustc"]
            ),
            reloads: vector!(
                r,
                IntCounterVec,
                "podmeta_table_reloads_total",
                "Table reloads, by result: success (swapped in) or failure (kept the old table).",
                &["result"]
            ),
            table_info: vector!(
                r,
                IntGaugeVec,
                "podmeta_table_info",
                "The table in force (always 1), by version and source.",
                &["version", "source"]
            ),
            table_pods: registered(
                r,
                IntGauge::new("podmeta_table_pods", "Pods in the table in force."),
            )?,
            table_loaded: registered(
                r,
                IntGauge::new(
                    "podmeta_table_loaded_timestamp_seconds",
                    "When the table in force was loaded, in Unix seconds.",
                ),
            )?,
            open: vector!(
                r,
                IntGaugeVec,
                "podmeta_connections_open",
                "Connections open now.",
                listener
            ),
            cap: vector!(
                r,
                IntGaugeVec,
                "podmeta_connections_max",
                "The connection cap in force (after fitting it to the open-file and memory limits).",
                listener
            ),
            accepted: vector!(
                r,
                IntCounterVec,
                "podmeta_connections_accepted_total",
                "Connections accepted.",
                listener
            ),
            idle_closed: vector!(
                r,
                IntCounterVec,
                "podmeta_connections_idle_closed_total",
                "Keep-alive connections idle for 1 s or more, closed to make room at the cap.",
                listener
            ),
            shed: vector!(
                r,
                IntCounterVec,
                "podmeta_connections_shed_total",
                "Connections accepted above the soft limit (90 % of the cap), told to close after their first response, with Connection: close.",
                listener
            ),
            at_cap_seconds: vector!(
                r,
                CounterVec,
                "podmeta_connections_at_cap_seconds_total",
                "Time spent at the cap, with new connections waiting in the listen backlog.",
                listener
            ),
            timed_out: vector!(
                r,
                IntCounterVec,
                "podmeta_connections_timed_out_total",
                "Connections closed by a time limit, by phase: new (no request since accept), headers (a request's headers too slow), idle (keep-alive).",
                &["listener", "phase"]
            ),
            registry,
        };
        // The process's RSS, CPU time, open files and start time, as process_*.
        #[cfg(target_os = "linux")]
        metrics.registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        // Both results exist from the start, so that a rate() over them is never empty.
        metrics.reloads.with_label_values(&["success"]);
        metrics.reloads.with_label_values(&["failure"]);
        metrics
            .build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("PODMETA_RUSTC_VERSION")])
            .set(1);
        Ok(metrics)
    }

    /// The connection metrics of one listener (`main` or `admin`), resolved once.
    pub fn connections(&self, listener: &str) -> ConnectionMetrics {
        ConnectionMetrics {
            open: self.open.with_label_values(&[listener]),
            cap: self.cap.with_label_values(&[listener]),
            accepted: self.accepted.with_label_values(&[listener]),
            idle_closed: self.idle_closed.with_label_values(&[listener]),
            shed: self.shed.with_label_values(&[listener]),
            at_cap_seconds: self.at_cap_seconds.with_label_values(&[listener]),
            timed_out_new: self.timed_out.with_label_values(&[listener, "new"]),
            timed_out_headers: self.timed_out.with_label_values(&[listener, "headers"]),
            timed_out_idle: self.timed_out.with_label_values(&[listener, "idle"]),
        }
    }

    /// Counts a request on `listener`.
    pub fn observe_request(
        &self,
        listener: &str,
        method: &str,
        route: &str,
        status: StatusCode,
        elapsed: Duration,
    ) {
        self.request_series(listener, method, route, status)
            .observe(elapsed);
    }

    /// The series a request on `listener` of this method, route and status counts in.
    pub fn request_series(
        &self,
        listener: &str,
        method: &str,
        route: &str,
        status: StatusCode,
    ) -> RequestSeries {
        RequestSeries {
            count: self
                .requests
                .with_label_values(&[listener, method, route, status.as_str()]),
            latency: self.latency.with_label_values(&[listener, route]),
        }
    }

    pub fn reload_succeeded(&self) {
        self.reloads.with_label_values(&["success"]).inc();
    }

    pub fn reload_failed(&self) {
        self.reloads.with_label_values(&["failure"]).inc();
    }

    /// Records which table is in force.
    pub fn table_in_force(&self, catalog: &Catalog) {
        let table = catalog.table();
        self.table_info.reset();
        self.table_info
            .with_label_values(&[table.version(), table.source()])
            .set(1);
        self.table_pods
            .set(i64::try_from(table.pods().len()).unwrap_or(i64::MAX));
        let loaded = catalog
            .loaded_at()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.table_loaded.set(loaded);
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec can't fail but for a malformed family,
        // which `new` can't build; an empty answer is the safe fallback.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .is_err()
        {
            out.clear();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_method_route_and_status() {
        let metrics = Metrics::new().unwrap();
        let latency = Duration::from_micros(80);
        metrics.observe_request("main", "GET", "/pods/{pod}", StatusCode::OK, latency);
        metrics.observe_request("main", "GET", "(unmatched)", StatusCode::NOT_FOUND, latency);
        let text = metrics.render();
        assert!(
            text.contains(
                r#"podmeta_http_requests_total{listener="main",method="GET",route="/pods/{pod}",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"podmeta_http_requests_total{listener="main",method="GET",route="(unmatched)",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"podmeta_http_request_duration_seconds_bucket{listener="main",route="/pods/{pod}",le="0.0001"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"podmeta_table_reloads_total{result="failure"} 0"#),
            "{text}"
        );
    }
}
