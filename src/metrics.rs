//! Prometheus metrics: requests by method, route template and status; latency by route;
//! reloads by result; the table in force.
//!
//! Each app has its own registry (not the process-global default), so that tests can run
//! several apps side by side and read each one's counts.
//!
//! The request counts and latencies are kept per thread ([`RequestMetrics`]) and summed
//! when scraped: every request updates them, and with one set shared by the worker
//! threads each core wrote the other's cache lines on every request (keeping them apart
//! measured about 1.05x the rate at 2,000 connections: `bench/RESULTS.md`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Metric, MetricFamily, MetricType};
use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use axum::http::StatusCode;

use crate::catalog::Catalog;
use crate::connections::ConnectionMetrics;

/// Latency buckets, in seconds: podmeta answers in microseconds, so the low end is fine.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
    10.0,
];

/// A request's counter and latency histogram, for one method, route and status: in every
/// shard, so that each thread counts in its own.
#[derive(Clone)]
pub struct RequestSeries {
    shards: std::sync::Arc<[(IntCounter, Histogram)]>,
}

impl RequestSeries {
    pub fn observe(&self, elapsed: Duration) {
        if let Some((count, latency)) = self.shards.get(this_threads_shard()) {
            count.inc();
            latency.observe(elapsed.as_secs_f64());
        }
    }
}

/// How many shards the request metrics have: more than the threads that answer requests
/// (one per core, and the main runtime's), so that each has one of its own.
const SHARDS: usize = 16;

/// The shard this thread counts in: threads take them in turn, once each.
fn this_threads_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// `podmeta_http_requests_total` and `podmeta_http_request_duration_seconds`, each as
/// [`SHARDS`] unregistered copies, registered as one collector that sums them: a scrape
/// sees every request counted so far, exactly as one shared set would show it.
#[derive(Clone)]
struct RequestMetrics {
    requests: std::sync::Arc<[IntCounterVec]>,
    latency: std::sync::Arc<[HistogramVec]>,
}

impl RequestMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let requests = (0..SHARDS)
            .map(|_| {
                IntCounterVec::new(
                    Opts::new("podmeta_http_requests_total", "HTTP requests answered."),
                    &["method", "route", "status"],
                )
            })
            .collect::<Result<_, _>>()?;
        let latency = (0..SHARDS)
            .map(|_| {
                HistogramVec::new(
                    HistogramOpts::new(
                        "podmeta_http_request_duration_seconds",
                        "Time from a request's arrival to its response, by route template.",
                    )
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["route"],
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { requests, latency })
    }
}

impl Collector for RequestMetrics {
    fn desc(&self) -> Vec<&Desc> {
        let requests = self.requests.first().map(Collector::desc);
        let latency = self.latency.first().map(Collector::desc);
        requests.into_iter().chain(latency).flatten().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let requests = self.requests.iter().flat_map(Collector::collect);
        let latency = self.latency.iter().flat_map(Collector::collect);
        [sum_shards(requests), sum_shards(latency)]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// One family from the same family of every shard: each series (by its labels) summed.
fn sum_shards(families: impl IntoIterator<Item = MetricFamily>) -> Option<MetricFamily> {
    let mut families = families.into_iter();
    let mut summed = families.next()?;
    let kind = summed.get_field_type();
    let mut series: BTreeMap<Vec<(String, String)>, Metric> = BTreeMap::new();
    let mut add = |metric: Metric| {
        let labels = metric
            .get_label()
            .iter()
            .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
            .collect();
        match series.entry(labels) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(metric);
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                add_series(kind, entry.get_mut(), &metric);
            }
        }
    };
    std::mem::take(summed.mut_metric())
        .into_iter()
        .for_each(&mut add);
    for mut family in families {
        std::mem::take(family.mut_metric())
            .into_iter()
            .for_each(&mut add);
    }
    summed.set_metric(series.into_values().collect());
    Some(summed)
}

/// Adds `from` to `into`, two shards' values of one series (the same buckets in each).
fn add_series(kind: MetricType, into: &mut Metric, from: &Metric) {
    match kind {
        MetricType::COUNTER => {
            let mut counter = into.get_counter().clone();
            counter.set_value(counter.get_value() + from.get_counter().get_value());
            into.set_counter(counter);
        }
        MetricType::HISTOGRAM => {
            let (mut histogram, other) = (into.get_histogram().clone(), from.get_histogram());
            histogram.set_sample_count(histogram.get_sample_count() + other.get_sample_count());
            histogram.set_sample_sum(histogram.get_sample_sum() + other.get_sample_sum());
            let mut buckets = histogram.get_bucket().to_vec();
            for (bucket, more) in buckets.iter_mut().zip(other.get_bucket()) {
                bucket.set_cumulative_count(bucket.cumulative_count() + more.cumulative_count());
            }
            histogram.set_bucket(buckets);
            into.set_histogram(histogram);
        }
        // The request metrics are counters and histograms only.
        _ => {}
    }
}

/// The metrics of one app.
pub struct Metrics {
    registry: Registry,
    requests: RequestMetrics,
    reloads: IntCounterVec,
    table_info: IntGaugeVec,
    table_pods: IntGauge,
    table_loaded: IntGauge,
    connections: ConnectionMetricVecs,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers every metric. Fails only if two share a name, which is a bug caught by the
    /// first test that builds an app.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = RequestMetrics::new()?;
        let reloads = IntCounterVec::new(
            Opts::new(
                "podmeta_table_reloads_total",
                "Table reloads, by result: success (swapped in) or failure (kept the old table).",
            ),
            &["result"],
        )?;
        let table_info = IntGaugeVec::new(
            Opts::new(
                "podmeta_table_info",
                "The table in force (always 1), by version and source.",
            ),
            &["version", "source"],
        )?;
        let table_pods = IntGauge::new("podmeta_table_pods", "Pods in the table in force.")?;
        let table_loaded = IntGauge::new(
            "podmeta_table_loaded_timestamp_seconds",
            "When the table in force was loaded, in Unix seconds.",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(table_info.clone()))?;
        registry.register(Box::new(table_pods.clone()))?;
        registry.register(Box::new(table_loaded.clone()))?;
        let connections = ConnectionMetricVecs::new(&registry)?;
        // Both results exist from the start, so that a rate() over them is never empty.
        reloads.with_label_values(&["success"]);
        reloads.with_label_values(&["failure"]);
        Ok(Self {
            registry,
            requests,
            reloads,
            table_info,
            table_pods,
            table_loaded,
            connections,
        })
    }

    /// The connection metrics of one listener (`main` or `admin`), resolved once.
    pub fn connections(&self, listener: &str) -> ConnectionMetrics {
        let c = &self.connections;
        ConnectionMetrics {
            open: c.open.with_label_values(&[listener]),
            cap: c.cap.with_label_values(&[listener]),
            accepted: c.accepted.with_label_values(&[listener]),
            idle_closed: c.idle_closed.with_label_values(&[listener]),
            shed: c.shed.with_label_values(&[listener]),
            at_cap_seconds: c.at_cap_seconds.with_label_values(&[listener]),
            timed_out_new: c.timed_out.with_label_values(&[listener, "new"]),
            timed_out_headers: c.timed_out.with_label_values(&[listener, "headers"]),
            timed_out_idle: c.timed_out.with_label_values(&[listener, "idle"]),
        }
    }

    /// Counts a request in this thread's shard (resolving its series there only).
    pub fn observe_request(
        &self,
        method: &str,
        route: &str,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let shard = this_threads_shard();
        let requests = &self.requests;
        if let (Some(counts), Some(latency)) =
            (requests.requests.get(shard), requests.latency.get(shard))
        {
            counts
                .with_label_values(&[method, route, status.as_str()])
                .inc();
            latency
                .with_label_values(&[route])
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The series a request of this method, route and status counts in, in every shard,
    /// resolved once for a caller that will count many (each lookup hashes the labels
    /// under a lock).
    pub fn request_series(&self, method: &str, route: &str, status: StatusCode) -> RequestSeries {
        let requests = &self.requests;
        RequestSeries {
            shards: requests
                .requests
                .iter()
                .zip(requests.latency.iter())
                .map(|(counts, latency)| {
                    (
                        counts.with_label_values(&[method, route, status.as_str()]),
                        latency.with_label_values(&[route]),
                    )
                })
                .collect(),
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

/// The connection metrics, by listener.
struct ConnectionMetricVecs {
    open: IntGaugeVec,
    cap: IntGaugeVec,
    accepted: IntCounterVec,
    idle_closed: IntCounterVec,
    shed: IntCounterVec,
    at_cap_seconds: CounterVec,
    timed_out: IntCounterVec,
}

impl ConnectionMetricVecs {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let open = IntGaugeVec::new(
            Opts::new("podmeta_connections_open", "Connections open now."),
            &["listener"],
        )?;
        let cap = IntGaugeVec::new(
            Opts::new(
                "podmeta_connections_max",
                "The connection cap in force (after fitting it to the open-file and memory limits).",
            ),
            &["listener"],
        )?;
        let accepted = IntCounterVec::new(
            Opts::new(
                "podmeta_connections_accepted_total",
                "Connections accepted.",
            ),
            &["listener"],
        )?;
        let idle_closed = IntCounterVec::new(
            Opts::new(
                "podmeta_connections_idle_closed_total",
                "Keep-alive connections idle for 1 s or more, closed to make room at the cap.",
            ),
            &["listener"],
        )?;
        let shed = IntCounterVec::new(
            Opts::new(
                "podmeta_connections_shed_total",
                "Connections accepted above the soft limit (90 % of the cap), told to close after their first response, with Connection: close.",
            ),
            &["listener"],
        )?;
        let at_cap_seconds = CounterVec::new(
            Opts::new(
                "podmeta_connections_at_cap_seconds_total",
                "Time spent at the cap, with new connections waiting in the listen backlog.",
            ),
            &["listener"],
        )?;
        let timed_out = IntCounterVec::new(
            Opts::new(
                "podmeta_connections_timed_out_total",
                "Connections closed by a time limit, by phase: new (no request since accept), headers (a request's headers too slow), idle (keep-alive).",
            ),
            &["listener", "phase"],
        )?;
        registry.register(Box::new(open.clone()))?;
        registry.register(Box::new(cap.clone()))?;
        registry.register(Box::new(accepted.clone()))?;
        registry.register(Box::new(idle_closed.clone()))?;
        registry.register(Box::new(shed.clone()))?;
        registry.register(Box::new(at_cap_seconds.clone()))?;
        registry.register(Box::new(timed_out.clone()))?;
        Ok(Self {
            open,
            cap,
            accepted,
            idle_closed,
            shed,
            at_cap_seconds,
            timed_out,
        })
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
        metrics.observe_request("GET", "/pods/{pod}", StatusCode::OK, latency);
        metrics.observe_request("GET", "(unmatched)", StatusCode::NOT_FOUND, latency);
        let text = metrics.render();
        assert!(
            text.contains(
                r#"podmeta_http_requests_total{method="GET",route="/pods/{pod}",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"podmeta_http_requests_total{method="GET",route="(unmatched)",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"podmeta_http_request_duration_seconds_bucket{route="/pods/{pod}",le="0.0001"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"podmeta_table_reloads_total{result="failure"} 0"#),
            "{text}"
        );
    }

    #[test]
    fn requests_counted_on_many_threads_are_scraped_as_their_sums() {
        let metrics = std::sync::Arc::new(Metrics::new().unwrap());
        let series = metrics.request_series("GET", "/pods/{pod}", StatusCode::OK);
        // Four threads, which take shards in turn (so not all the same one): 3 requests
        // each through the resolved series and 2 through `observe_request`, of 80 µs and 3 ms.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (metrics, series) = (metrics.clone(), series.clone());
                std::thread::spawn(move || {
                    for _ in 0..3 {
                        series.observe(Duration::from_micros(80));
                    }
                    for _ in 0..2 {
                        metrics.observe_request(
                            "GET",
                            "/pods/{pod}",
                            StatusCode::OK,
                            Duration::from_millis(3),
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let text = metrics.render();
        let line = |name: &str| {
            text.lines()
                .find(|line| line.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_owned()
        };
        let count = r#"podmeta_http_requests_total{method="GET",route="/pods/{pod}",status="200"}"#;
        assert_eq!(line(count), "20");
        let bucket = |le: &str| {
            line(&format!(
                r#"podmeta_http_request_duration_seconds_bucket{{route="/pods/{{pod}}",le="{le}"}}"#
            ))
        };
        assert_eq!(bucket("0.0001"), "12");
        assert_eq!(bucket("0.005"), "20");
        assert_eq!(
            line(r#"podmeta_http_request_duration_seconds_count{route="/pods/{pod}"}"#),
            "20"
        );
        let sum: f64 = line(r#"podmeta_http_request_duration_seconds_sum{route="/pods/{pod}"}"#)
            .parse()
            .unwrap();
        assert!(
            (sum - (12.0 * 0.000_08 + 8.0 * 0.003)).abs() < 1e-9,
            "{sum}"
        );
        // One series per label set, however many shards counted in it.
        assert_eq!(text.matches(count).count(), 1, "{text}");
    }
}
