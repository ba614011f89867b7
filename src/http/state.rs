//! What every request shares: the catalog in force together with the response heads of
//! its resources (one pair, swapped whole on reload), the metrics, the draining flag and
//! the HTTP settings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::http::{HeaderMap, HeaderValue};

use super::cors;
use super::prerendered::Heads;
use crate::catalog::Catalog;
use crate::log_format::AccessLog;
use crate::metrics::Metrics;

/// How the HTTP layer behaves; set from the command line.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `Cache-Control: public, max-age=N` on resources.
    pub cache_max_age: u32,
    /// Origins allowed by CORS; empty means any.
    pub cors_origins: Vec<HeaderValue>,
    /// How long a request that reads a body may take, body included, before it is
    /// answered 408.
    pub request_timeout: Duration,
    /// Where the access lines go.
    pub access_log: AccessLog,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cache_max_age: 300,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(10),
            access_log: AccessLog::default(),
        }
    }
}

/// A catalog and the heads of its pre-rendered resources: what a request is answered
/// from, loaded once per request, so that a body and its head always belong together.
pub(crate) struct Served {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) heads: Heads,
}

/// What every handler shares. Cloned for every request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state behind [`AppState`].
struct Shared {
    /// Swapped whole on reload; a request loads it once and finishes on the catalog it
    /// started with, whatever happens meanwhile.
    served: ArcSwap<Served>,
    metrics: Metrics,
    /// Set once shutdown begins; `/readyz` answers 503 from then on.
    draining: AtomicBool,
    settings: HttpSettings,
    /// `public, max-age=N`, made once from the settings.
    cache_control: HeaderValue,
    /// What CORS adds to the answer to a request without an `Origin`.
    cors_without_origin: HeaderMap,
}

impl AppState {
    pub fn new(catalog: Catalog) -> Self {
        Self::with_settings(catalog, HttpSettings::default())
    }

    pub fn with_settings(catalog: Catalog, settings: HttpSettings) -> Self {
        // Registering a fixed set of distinct metric names can't fail; if it ever did, it
        // would fail in every test, never only in production.
        #[allow(clippy::expect_used)]
        let metrics = Metrics::new().expect("metric names are distinct");
        metrics.table_in_force(&catalog);
        let cache_control =
            HeaderValue::try_from(format!("public, max-age={}", settings.cache_max_age))
                .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
        let cors_without_origin =
            cors::headers_without_origin(&cors::layer(&settings.cors_origins));
        let served = Served::new(catalog, &cache_control, &cors_without_origin);
        Self(Arc::new(Shared {
            served: ArcSwap::from_pointee(served),
            metrics,
            draining: AtomicBool::new(false),
            settings,
            cache_control,
            cors_without_origin,
        }))
    }

    /// The catalog in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.0.served.load().catalog.clone()
    }

    /// The catalog in force and its heads, for the length of one synchronous answer: no
    /// reference count that every worker shares is changed.
    pub(crate) fn served(&self) -> arc_swap::Guard<Arc<Served>> {
        self.0.served.load()
    }

    /// Puts a new catalog in force; requests already running keep the old one.
    pub fn replace(&self, catalog: Catalog) {
        self.0.metrics.table_in_force(&catalog);
        let shared = &self.0;
        let served = Served::new(catalog, &shared.cache_control, &shared.cors_without_origin);
        shared.served.store(Arc::new(served));
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// From now on, report not-ready.
    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    /// Whether shutdown has begun (and `/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    pub(crate) fn settings(&self) -> &HttpSettings {
        &self.0.settings
    }

    pub(crate) fn cache_control(&self) -> &HeaderValue {
        &self.0.cache_control
    }

    pub(crate) fn cors_without_origin(&self) -> &HeaderMap {
        &self.0.cors_without_origin
    }
}

impl Served {
    fn new(catalog: Catalog, cache_control: &HeaderValue, cors_without_origin: &HeaderMap) -> Self {
        Self {
            heads: Heads::new(&catalog, cache_control.clone(), cors_without_origin.clone()),
            catalog: Arc::new(catalog),
        }
    }
}
