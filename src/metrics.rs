//! Prometheus metrics, rendered in the text exposition format at `/metrics`.

use actix_web::http::Method;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The route label of every short-code request the redirect answers.
pub const REDIRECT_ROUTE: &str = "/{code}";

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
    pub http_requests: RequestCounts,
    pub redirect_seconds: SlottedHistogram,
    pub visits_queued: SlottedCounter,
    pub visits_written: SlottedCounter,
    pub visits_dropped: SlottedCounter,
    pub visit_batches: SlottedCounter,
    pub batch_write_seconds: SlottedHistogram,
    pub cache_hits: SlottedCounter,
    pub cache_misses: SlottedCounter,
    pub codes_filtered: SlottedCounter,
    pub cache_stale_served: SlottedCounter,
    pub shares_minted: SlottedCounter,
    pub reservations_made: SlottedCounter,
    pub reservations_sent: SlottedCounter,
    pub reservations_sent_by_visit: SlottedCounter,
    pub reservations_expired: SlottedCounter,
    pub mint_batches: SlottedCounter,
    pub mint_batch_seconds: SlottedHistogram,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sharetrail");
        let http_requests = RequestCounts::default();
        // 50 µs .. ~0.8 s: redirects answered from the cache sit at the low end.
        let redirect_seconds = SlottedHistogram::new(exponential_buckets(0.00005, 2.0, 15));
        let batch_write_seconds = SlottedHistogram::new(exponential_buckets(0.0005, 2.0, 14));
        let mint_batch_seconds = SlottedHistogram::new(exponential_buckets(0.0001, 2.0, 14));
        let m = Metrics {
            http_requests,
            redirect_seconds,
            visits_queued: SlottedCounter::default(),
            visits_written: SlottedCounter::default(),
            visits_dropped: SlottedCounter::default(),
            visit_batches: SlottedCounter::default(),
            batch_write_seconds,
            cache_hits: SlottedCounter::default(),
            cache_misses: SlottedCounter::default(),
            codes_filtered: SlottedCounter::default(),
            cache_stale_served: SlottedCounter::default(),
            shares_minted: SlottedCounter::default(),
            reservations_made: SlottedCounter::default(),
            reservations_sent: SlottedCounter::default(),
            reservations_sent_by_visit: SlottedCounter::default(),
            reservations_expired: SlottedCounter::default(),
            mint_batches: SlottedCounter::default(),
            mint_batch_seconds,
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
        registry.register(
            "cache_stale_served",
            "Redirects answered from a stale cache entry because the database did not answer",
            m.cache_stale_served.clone(),
        );
        registry.register(
            "shares_minted",
            "Shares minted to count at once (the API, the web UI, address-bar reshares)",
            m.shares_minted.clone(),
        );
        registry.register(
            "reservations_made",
            "Codes the share buttons reserved ahead of a click",
            m.reservations_made.clone(),
        );
        registry.register(
            "reservations_sent",
            "Reservations made shares by their button's click",
            m.reservations_sent.clone(),
        );
        registry.register(
            "reservations_sent_by_visit",
            "Reservations made shares by a first visit, their click's report never having arrived",
            m.reservations_sent_by_visit.clone(),
        );
        registry.register(
            "reservations_expired",
            "Reservations deleted unsent at the end of their lifetime",
            m.reservations_expired.clone(),
        );
        registry.register("mint_batches", "Share batches written", m.mint_batches.clone());
        registry.register(
            "mint_batch_seconds",
            "Time to write one batch of shares, reservations and sends",
            m.mint_batch_seconds.clone(),
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

/// Every metric keeps one slot per thread, each on its own cache line, and a scrape adds the
/// slots up. prometheus_client's counter is one atomic and its histogram one mutex shared by all
/// workers: updated by each on every redirect, they moved a cache line between cores every time.
const SLOTS: usize = 16;

/// This thread's slot; threads take slots in turn, so a handful of workers never share one.
fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|slot| *slot)
}

/// One cache line (two, for CPUs that fetch lines in pairs) per slot.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// A counter in per-thread slots (see [`SLOTS`]). Clones count into the same slots.
#[derive(Debug, Clone, Default)]
pub struct SlottedCounter {
    slots: Arc<[Padded<AtomicU64>; SLOTS]>,
}

impl SlottedCounter {
    pub fn inc(&self) {
        self.inc_by(1);
    }

    pub fn inc_by(&self, n: u64) {
        self.slots[slot()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for SlottedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for SlottedCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// A histogram in per-thread slots (see [`SLOTS`]), encoded like prometheus_client's own.
#[derive(Debug, Clone)]
pub struct SlottedHistogram {
    /// Upper bounds, ending with +Inf.
    bounds: Arc<[f64]>,
    slots: Arc<[Padded<HistogramSlot>]>,
}

/// Bounds a [`SlottedHistogram`] can have, +Inf included. The buckets live inside the padded
/// slot: separate allocations could put two threads' buckets on one cache line.
const MAX_BUCKETS: usize = 24;

#[derive(Debug, Default)]
struct HistogramSlot {
    /// The sum of observations, as the bits of an f64 (0.0 is all zero bits).
    sum: AtomicU64,
    buckets: [AtomicU64; MAX_BUCKETS],
}

impl SlottedHistogram {
    /// Panics with more than `MAX_BUCKETS - 1` finite bounds: the bounds are constants in code.
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> SlottedHistogram {
        let bounds: Arc<[f64]> = bounds
            .into_iter()
            .filter(|bound| bound.is_finite())
            .chain(std::iter::once(f64::INFINITY))
            .collect();
        assert!(
            bounds.len() <= MAX_BUCKETS,
            "a histogram has at most {MAX_BUCKETS} buckets"
        );
        let slots = (0..SLOTS).map(|_| Padded::default()).collect();
        SlottedHistogram { bounds, slots }
    }

    pub fn observe(&self, value: f64) {
        let slot = &self.slots[slot()].0;
        let bucket = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len() - 1);
        slot.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        // Only this thread writes its slot's sum, so the update practically never retries.
        let _ = slot.sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + value).to_bits())
        });
    }

    /// Sum, count and per-bucket counts, added up over the slots.
    fn totals(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let mut buckets: Vec<(f64, u64)> = self.bounds.iter().map(|bound| (*bound, 0)).collect();
        let mut sum = 0.0;
        for Padded(slot) in self.slots.iter() {
            sum += f64::from_bits(slot.sum.load(Ordering::Relaxed));
            for (total, count) in buckets.iter_mut().zip(slot.buckets.iter()) {
                total.1 += count.load(Ordering::Relaxed);
            }
        }
        // The count is the buckets' total, so a scrape never shows buckets that disagree with it.
        let count = buckets.iter().map(|(_, n)| n).sum();
        (sum, count, buckets)
    }
}

impl TypedMetric for SlottedHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for SlottedHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.totals();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Request counts by route, method and status. The redirect's own (most of the traffic) count
/// in per-thread slots; the other routes share one map, which their rate never makes contended.
#[derive(Debug, Clone, Default)]
pub struct RequestCounts {
    redirects: Arc<[Padded<[AtomicU64; REDIRECT_COUNTERS]>; SLOTS]>,
    others: Arc<Mutex<HashMap<RequestLabels, u64>>>,
}

/// Methods as the request counter labels them.
const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "OTHER"];

/// The label of `method`: one of [`METHODS`], so that no client can invent label values.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
/// Every status the redirect answers with.
const REDIRECT_STATUSES: [u16; 4] = [302, 404, 410, 503];
const REDIRECT_COUNTERS: usize = METHODS.len() * REDIRECT_STATUSES.len();

impl RequestCounts {
    /// Counts one request the redirect answered.
    pub fn count_redirect(&self, method: &'static str, status: u16) {
        let method_index = METHODS.iter().position(|m| *m == method);
        let status_index = REDIRECT_STATUSES.iter().position(|s| *s == status);
        match method_index.zip(status_index) {
            Some((m, s)) => {
                self.redirects[slot()].0[m * REDIRECT_STATUSES.len() + s].fetch_add(1, Ordering::Relaxed);
            }
            None => self.count(RequestLabels {
                route: Cow::Borrowed(REDIRECT_ROUTE),
                method,
                status,
            }),
        }
    }

    pub fn count(&self, labels: RequestLabels) {
        let mut others = self.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *others.entry(labels).or_default() += 1;
    }

    fn totals(&self) -> Vec<(RequestLabels, u64)> {
        let mut totals: Vec<(RequestLabels, u64)> = self
            .others
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(labels, n)| (labels.clone(), *n))
            .collect();
        for (i, (method, status)) in METHODS
            .iter()
            .flat_map(|m| REDIRECT_STATUSES.iter().map(move |s| (*m, *s)))
            .enumerate()
        {
            let n: u64 = self
                .redirects
                .iter()
                .map(|slot| slot.0[i].load(Ordering::Relaxed))
                .sum();
            if n > 0 {
                let labels = RequestLabels {
                    route: Cow::Borrowed(REDIRECT_ROUTE),
                    method,
                    status,
                };
                totals.push((labels, n));
            }
        }
        totals
    }
}

impl TypedMetric for RequestCounts {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for RequestCounts {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, n) in self.totals() {
            encoder
                .encode_family(&labels)?
                .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_exposed_with_the_sharetrail_prefix() {
        let metrics = Metrics::new();
        metrics.visits_queued.inc();
        let text = metrics.render();
        assert!(text.contains("sharetrail_visits_queued_total 1"), "{text}");
        assert!(text.contains("sharetrail_redirect_seconds_bucket"), "{text}");
    }

    #[test]
    fn slotted_metrics_add_up_what_every_thread_counted() {
        let metrics = Metrics::new();
        std::thread::scope(|scope| {
            for _ in 0..SLOTS + 3 {
                scope.spawn(|| {
                    for _ in 0..100 {
                        metrics.cache_hits.inc();
                        metrics.redirect_seconds.observe(0.0002);
                        metrics.http_requests.count_redirect("GET", 302);
                    }
                });
            }
        });
        metrics.redirect_seconds.observe(5.0);
        let text = metrics.render();
        let n = (SLOTS + 3) * 100;
        assert!(text.contains(&format!("sharetrail_cache_hits_total {n}\n")), "{text}");
        assert!(
            text.contains(&format!("sharetrail_redirect_seconds_count {}\n", n + 1)),
            "{text}"
        );
        assert!(
            text.contains(&format!("sharetrail_redirect_seconds_bucket{{le=\"0.0002\"}} {n}\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "sharetrail_redirect_seconds_bucket{{le=\"+Inf\"}} {}\n",
                n + 1
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "sharetrail_http_requests_total{{route=\"/{{code}}\",method=\"GET\",status=\"302\"}} {n}\n"
            )),
            "{text}"
        );
    }

    #[test]
    fn requests_of_other_routes_and_unusual_statuses_are_counted_too() {
        let counts = RequestCounts::default();
        counts.count_redirect("HEAD", 404);
        counts.count_redirect("GET", 500);
        counts.count(RequestLabels {
            route: Cow::Borrowed("/healthz"),
            method: "GET",
            status: 200,
        });
        let mut totals: Vec<_> = counts
            .totals()
            .into_iter()
            .map(|(labels, n)| (labels.route.into_owned(), labels.method, labels.status, n))
            .collect();
        totals.sort();
        assert_eq!(
            totals,
            [
                ("/healthz".to_owned(), "GET", 200, 1),
                ("/{code}".to_owned(), "GET", 500, 1),
                ("/{code}".to_owned(), "HEAD", 404, 1),
            ]
        );
    }
}
