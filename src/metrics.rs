//! Prometheus metrics, rendered in the text exposition format at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::borrow::Cow;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route pattern (`/{code}`), never the raw path: codes would explode cardinality.
    /// Borrowed for the redirect, so the hot path allocates no label.
    pub route: Cow<'static, str>,
    pub method: &'static str,
    pub status: u16,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub redirect_seconds: Histogram,
    pub visits_queued: Counter,
    pub visits_written: Counter,
    pub visits_dropped: Counter,
    pub visit_batches: Counter,
    pub batch_write_seconds: Histogram,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub codes_filtered: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sharetrail");
        let http_requests = Family::<RequestLabels, Counter>::default();
        // 50 µs .. ~0.8 s: redirects answered from the cache sit at the low end.
        let redirect_seconds = Histogram::new(exponential_buckets(0.00005, 2.0, 15));
        let batch_write_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let m = Metrics {
            http_requests,
            redirect_seconds,
            visits_queued: Counter::default(),
            visits_written: Counter::default(),
            visits_dropped: Counter::default(),
            visit_batches: Counter::default(),
            batch_write_seconds,
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            codes_filtered: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            m.http_requests.clone(),
        );
        registry.register(
            "redirect_seconds",
            "Time to answer a short-link redirect",
            m.redirect_seconds.clone(),
        );
        registry.register(
            "visits_queued",
            "Visits put on the write queue",
            m.visits_queued.clone(),
        );
        registry.register(
            "visits_written",
            "Visits stored in the database",
            m.visits_written.clone(),
        );
        registry.register(
            "visits_dropped",
            "Visits lost because the queue was full or the database refused them",
            m.visits_dropped.clone(),
        );
        registry.register("visit_batches", "Visit batches written", m.visit_batches.clone());
        registry.register(
            "visit_batch_write_seconds",
            "Time to write one visit batch",
            m.batch_write_seconds.clone(),
        );
        registry.register(
            "cache_hits",
            "Short-code lookups answered from memory",
            m.cache_hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Short-code lookups that went to the database",
            m.cache_misses.clone(),
        );
        registry.register(
            "codes_filtered",
            "Unknown codes refused by the existence filter without a database read",
            m.codes_filtered.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_are_exposed_with_the_sharetrail_prefix() {
        let metrics = super::Metrics::new();
        metrics.visits_queued.inc();
        let text = metrics.render();
        assert!(text.contains("sharetrail_visits_queued_total 1"), "{text}");
        assert!(text.contains("sharetrail_redirect_seconds_bucket"), "{text}");
    }
}
