//! The redirect's memory: short code → everything needed to answer, without the database.
//!
//! Bounded, with negative entries, and behind a Bloom filter of all existing codes, so a scan of
//! random codes is answered from memory and cannot be turned into a flood of database reads.

pub mod budget;
mod filter;
mod previews;

use crate::domain::channel::Channel;
use crate::domain::code::Code;
use crate::domain::destination::Destination;
use crate::domain::utm::{RedirectTags, UtmTags, redirect_location};
use crate::health::{DatabaseHealth, Part};
use crate::metrics::Metrics;
use crate::store::{Invalidation, MintBatch, RedirectTarget, Store, StoreError, StoreResult};
use actix_web::http::header::HeaderValue;
use budget::{Admission, ClickBudget};
use filter::CodeFilter;
pub use previews::PreviewSlot;
use quick_cache::sync::Cache;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which share a visit is of, as the visit record needs it.
#[derive(Debug, Clone)]
pub struct VisitTarget {
    pub share_id: i64,
    pub link_id: i64,
    pub channel: Arc<str>,
    pub depth: i64,
    /// `copy`, `address_bar` or `native`, with no unfurl having named the app yet.
    pub infers_channel: bool,
}

/// A live share, ready to redirect.
#[derive(Debug)]
pub struct LiveShare {
    /// Shared with every visit queued for this share.
    pub target: Arc<VisitTarget>,
    /// Ready to send: cloning a `HeaderValue` is a reference-count bump, not a copy.
    pub location: HeaderValue,
    /// The earlier of the share's and the link's expiry.
    pub expires_at: Option<i64>,
    /// Its link's preview cards, read when a preview bot first asks.
    pub preview: PreviewSlot,
    /// Where people go once the share has ended (expired, used up) instead of a 410.
    pub fallback: Option<HeaderValue>,
    /// Human clicks the link's short links take together (`ShareLookup::admit_click`).
    pub max_clicks: Option<i64>,
    /// The argon2id hash of the password a visitor must give before the redirect.
    pub password_hash: Option<Arc<str>>,
}

#[derive(Debug)]
pub enum Cached {
    Live(LiveShare),
    /// Disabled (or broken) shares answer 410 like expired ones, or send people to the link's
    /// fallback.
    Gone {
        fallback: Option<HeaderValue>,
    },
    Missing,
}

/// A cached answer, when it was stored and when it stops being trusted.
#[derive(Clone)]
struct Slot {
    entry: Arc<Cached>,
    stored: Instant,
    fresh_until: Instant,
}

impl Slot {
    fn new(entry: Arc<Cached>) -> Slot {
        // Invalidation is explicit (and via NOTIFY on PostgreSQL); these lifetimes are a safety net.
        let lifetime = match entry.as_ref() {
            Cached::Live(_) => Duration::from_secs(600),
            Cached::Gone { .. } | Cached::Missing => Duration::from_secs(60),
        };
        let now = Instant::now();
        Slot {
            entry,
            stored: now,
            fresh_until: now + lifetime,
        }
    }
}

/// quick_cache rather than a cache with timers and background upkeep: a hit is one hash and a
/// shard read lock, which matters at tens of thousands of redirects a second.
pub struct ShareLookup {
    cache: Cache<String, Slot>,
    filter: CodeFilter,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    health: Arc<DatabaseHealth>,
    budget: Arc<ClickBudget>,
    /// Answers stored before this are stale: looked up again, and served only when the
    /// database does not answer. Marking beats forgetting: an outage must not empty the cache.
    stale_before: Mutex<Instant>,
}

/// How long a lookup waits for the database before it answers from what is cached, or 503.
const LOOKUP_WAIT: Duration = Duration::from_secs(2);
/// How often the stored click counts of limited links clicked here are read again, where other
/// instances count too.
const CLICK_RECHECK: Duration = Duration::from_secs(1);

impl ShareLookup {
    /// Loads every existing code into the filter: the one full read, at start-up.
    pub async fn load(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        health: Arc<DatabaseHealth>,
        capacity: u64,
    ) -> StoreResult<ShareLookup> {
        let filter = CodeFilter::new(&store.all_code_keys().await?);
        let cache = Cache::new(usize::try_from(capacity).unwrap_or(usize::MAX).max(1));
        let budget = Arc::new(ClickBudget::default());
        // Only PostgreSQL is shared by several instances, whose clicks this one cannot see.
        if store.backend() == "postgres" {
            tokio::spawn(Arc::clone(&budget).refresh(Arc::clone(&store), CLICK_RECHECK));
        }
        Ok(ShareLookup {
            cache,
            filter,
            budget,
            store,
            metrics,
            health,
            stale_before: Mutex::new(Instant::now()),
        })
    }

    fn is_fresh(&self, slot: &Slot) -> bool {
        let stale_before = *self.stale_before.lock().unwrap_or_else(|e| e.into_inner());
        slot.fresh_until > Instant::now() && slot.stored > stale_before
    }

    /// What a visit of `code` gets. A reserved code that is opened was evidently sent (its
    /// click's own report may have been lost): it becomes a share before the visit counts.
    pub async fn find(&self, code: &Code) -> StoreResult<Arc<Cached>> {
        self.resolve(code, Reserved::SendIt).await
    }

    /// Like `find`, for a look rather than a visit (a QR picture): a reservation stays one and
    /// is answered as unknown.
    pub async fn peek(&self, code: &Code) -> StoreResult<Arc<Cached>> {
        self.resolve(code, Reserved::LeaveIt).await
    }

    async fn resolve(&self, code: &Code, reserved: Reserved) -> StoreResult<Arc<Cached>> {
        match self.resolve_once(code, reserved).await? {
            Answer::Known(entry) => Ok(entry),
            // Another instance may have minted the code a moment ago, its announcement still on
            // the way: once this instance has heard everything committed before now, a code it
            // still does not know is unknown. Where the feed cannot tell, the miss stands.
            Answer::Unheard(mut miss) => {
                // While the feed or the database is down, there is nothing to catch up with.
                let reachable = !self.health.is_failing(Part::Notifications) && !self.health.is_failing(Part::Lookups);
                if reachable && self.store.catch_up_with_other_instances().await.is_ok() {
                    match self.resolve_once(code, reserved).await? {
                        Answer::Known(entry) => return Ok(entry),
                        Answer::Unheard(again) => miss = again,
                    }
                }
                match miss {
                    Miss::Filtered => self.metrics.codes_filtered.inc(),
                    Miss::Cached => self.metrics.cache_hits.inc(),
                }
                Ok(Arc::new(Cached::Missing))
            }
        }
    }

    async fn resolve_once(&self, code: &Code, reserved: Reserved) -> StoreResult<Answer> {
        let cached = self.cache.get(code.as_str());
        if let Some(hit) = &cached {
            if matches!(*hit.entry, Cached::Missing) && self.is_fresh(hit) {
                return Ok(Answer::Unheard(Miss::Cached));
            }
            if self.is_fresh(hit) {
                self.metrics.cache_hits.inc();
                return Ok(Answer::Known(hit.entry.clone()));
            }
            // While lookups fail, a stale answer beats a wait for the database and a 503.
            if self.health.is_failing(Part::Lookups) {
                self.metrics.cache_stale_served.inc();
                return Ok(Answer::Known(hit.entry.clone()));
            }
        }
        if !self.filter.may_exist(code) {
            return Ok(Answer::Unheard(Miss::Filtered));
        }
        self.metrics.cache_misses.inc();
        let looked_up = match tokio::time::timeout(LOOKUP_WAIT, self.look_up(code, reserved)).await {
            Ok(looked_up) => looked_up,
            Err(_) => Err(StoreError::TimedOut),
        };
        match looked_up {
            Ok(entry) => {
                self.health.answered(Part::Lookups);
                if let Some(entry) = entry {
                    self.cache.insert(code.as_str().to_owned(), Slot::new(entry.clone()));
                    return Ok(Answer::Known(entry));
                }
                // A reservation looked at, not visited: not cached, it may be sent any moment.
                Ok(Answer::Known(Arc::new(Cached::Missing)))
            }
            Err(err) => {
                self.health.failed(Part::Lookups, &crate::telemetry::cause_chain(&err));
                match cached {
                    Some(stale) => {
                        self.metrics.cache_stale_served.inc();
                        Ok(Answer::Known(stale.entry))
                    }
                    None => Err(err),
                }
            }
        }
    }

    /// What the database says of `code`; `None` for a reservation left as it is.
    async fn look_up(&self, code: &Code, reserved: Reserved) -> StoreResult<Option<Arc<Cached>>> {
        let target = match self.store.redirect_target(code).await? {
            Some(target) if target.reserved_until.is_some() => match reserved {
                Reserved::SendIt => self.send_reservation(code, target).await?,
                Reserved::LeaveIt => return Ok(None),
            },
            other => other,
        };
        if let Some(target) = target.as_ref().filter(|t| t.lifecycle.max_clicks.is_some()) {
            self.budget.seed(target.link_id, target.link_clicks);
        }
        Ok(Some(Arc::new(match target {
            None => Cached::Missing,
            Some(target) => to_cached(target),
        })))
    }

    /// Takes one of the link's `max_clicks` for a human click about to be redirected. Never
    /// waits for the database: where other instances count too, their stored clicks are read
    /// in the background (`ClickBudget::refresh`).
    pub fn admit_click(&self, link_id: i64, max_clicks: i64) -> Admission {
        self.budget.admit(link_id, max_clicks)
    }

    /// Whether the link's clicks have reached `max_clicks`, without taking one.
    pub fn is_used_up(&self, link_id: i64, max_clicks: i64) -> bool {
        self.budget.is_used_up(link_id, max_clicks)
    }

    /// Clicks counted against the link's limit on this instance: stored and on their way.
    pub fn clicks_counted(&self, link_id: i64) -> i64 {
        self.budget.used(link_id)
    }

    /// An admitted click whose visit could not be queued: it was not redirected.
    pub fn refund_click(&self, link_id: i64) {
        self.budget.refund(link_id);
    }

    /// The visit writer stored (or gave up on) a batch with these human clicks per link.
    pub fn settle_clicks(&self, clicks: impl IntoIterator<Item = (i64, i64)>) {
        self.budget.settle(clicks);
    }

    /// The reservation behind `target` made a share by its first visit, or `None` when its time
    /// ran out before anyone opened it.
    async fn send_reservation(&self, code: &Code, target: RedirectTarget) -> StoreResult<Option<RedirectTarget>> {
        let now = crate::clock::now_ms();
        if target.reserved_until.is_some_and(|until| until <= now) {
            return Ok(None);
        }
        let batch = MintBatch {
            creates: Vec::new(),
            sends: vec![code.clone()],
        };
        let outcome = self.store.mint(&batch, now).await?;
        let sent = outcome.sent.into_iter().next().is_some_and(|r| r.is_ok());
        if sent {
            self.metrics.reservations_sent_by_visit.inc();
        }
        Ok(sent.then_some(RedirectTarget {
            reserved_until: None,
            ..target
        }))
    }

    /// Forgets these codes under any spelling: slugs are looked up ignoring case, so `PROMO` and
    /// `promo` may both be cached for one share.
    pub fn forget(&self, codes: &[String]) {
        // One pass over the cache whatever the number of codes (a disabled link may have
        // thousands of shares).
        let forgotten: HashSet<String> = codes.iter().map(|c| c.to_ascii_lowercase()).collect();
        self.cache
            .retain(|key, _| !forgotten.contains(&key.to_ascii_lowercase()));
    }

    /// Everything may have changed (notifications were missed, a site's profile changed):
    /// every answer is looked up again, but still served while the database does not answer.
    pub fn mark_everything_stale(&self) {
        *self.stale_before.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Applies a change announced here or by another instance. Codes named are forgotten and let
    /// through the filter (they may be new shares); "everything" also reloads the filter, since
    /// whatever was missed may include new codes.
    pub fn apply(self: &Arc<Self>, change: Invalidation) {
        let rebuild = match change {
            Invalidation::Codes(codes) => {
                self.forget(&codes);
                self.learn(&codes)
            }
            Invalidation::Created(codes) => {
                // Only a miss can be cached under a code nobody had: one removal each, not the
                // scan over every entry that `forget` makes for slugs in any case. An answer
                // looked up since the code was made is right, and kept.
                for code in &codes {
                    self.cache
                        .remove_if(code.as_str(), |slot| matches!(*slot.entry, Cached::Missing));
                }
                self.learn(&codes)
            }
            Invalidation::Everything => {
                self.mark_everything_stale();
                true
            }
        };
        if rebuild {
            let lookup = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(err) = lookup.rebuild_filter().await {
                    tracing::error!(error = %crate::telemetry::cause_chain(&err), "could not rebuild the code filter");
                    // Fail open: without a trustworthy filter every lookup goes to the database.
                    lookup.filter.finish_rebuild_failed();
                }
            });
        }
    }

    /// Lets these codes through the filter; true when it is full and wants a rebuild.
    fn learn(&self, codes: &[String]) -> bool {
        // Learn every code, so no short-circuiting `any`.
        codes
            .iter()
            .map(|code| self.filter.learn(code))
            .filter(|&full| full)
            .count()
            > 0
    }

    /// Reloads the filter from the database: when it fills up, or after missed notifications.
    /// A rebuild already running covers this one too.
    pub async fn rebuild_filter(&self) -> StoreResult<()> {
        if !self.filter.begin_rebuild() {
            return Ok(());
        }
        let keys = self.store.all_code_keys().await?;
        self.filter.finish_rebuild(&keys);
        Ok(())
    }
}

/// An answer from memory or the database, or a miss this instance may not have heard of yet.
enum Answer {
    Known(Arc<Cached>),
    Unheard(Miss),
}

/// Why a code is unknown here without asking the database.
enum Miss {
    Filtered,
    Cached,
}

/// What a lookup does with a code that is only reserved.
#[derive(Clone, Copy)]
enum Reserved {
    SendIt,
    LeaveIt,
}

fn to_cached(t: RedirectTarget) -> Cached {
    let fallback = t.lifecycle.fallback_url.as_deref().and_then(|url| {
        HeaderValue::try_from(url)
            .inspect_err(|_| tracing::error!(link_id = t.link_id, "stored fallback is not a valid header; ignored"))
            .ok()
    });
    if t.share_disabled_at.is_some() || t.link_disabled_at.is_some() {
        return Cached::Gone { fallback };
    }
    let (Ok(destination), Ok(channel), Some(code)) = (
        Destination::parse(&t.url),
        Channel::parse(&t.channel),
        Code::parse(&t.code),
    ) else {
        tracing::error!(share_id = t.share_id, "stored share does not parse; answering 410");
        return Cached::Gone { fallback: None };
    };
    let utm = UtmTags::for_channel(&channel, t.inferred_channel.as_deref(), t.custom_medium.as_deref());
    let overrides = t.lifecycle.utm_overrides();
    let tags = RedirectTags {
        utm: (t.utm_enabled != Some(0)).then_some(&utm),
        campaign: t.campaign.as_deref(),
        content: t.label.as_deref(),
        overrides: &overrides,
        code: &code,
    };
    let expires_at = match (t.share_expires_at, t.link_expires_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // A Url serialises to visible ASCII only, so this cannot fail in practice; if it ever did,
    // answering 410 beats redirecting somewhere nobody registered.
    let Ok(location) = HeaderValue::try_from(redirect_location(&destination, &tags)) else {
        tracing::error!(
            share_id = t.share_id,
            "redirect target is not a valid header; answering 410"
        );
        return Cached::Gone { fallback: None };
    };
    Cached::Live(LiveShare {
        target: Arc::new(VisitTarget {
            share_id: t.share_id,
            link_id: t.link_id,
            channel: Arc::from(channel.as_str()),
            depth: t.depth,
            infers_channel: channel.is_inferable() && t.inferred_channel.is_none(),
        }),
        location,
        expires_at,
        preview: PreviewSlot::default(),
        fallback,
        max_clicks: t.lifecycle.max_clicks,
        password_hash: t.lifecycle.password_hash.map(Arc::from),
    })
}
