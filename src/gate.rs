//! The public API's front door: which site a publishable key names, which browser origins it
//! allows, and how fast one IP address or one site may call.
//!
//! Site lookups are cached briefly: every share-button click resolves its key, and a site edit
//! may take up to `SITE_TTL` to reach every instance.

use crate::domain::api_key::KeyHash;
use crate::domain::site::SiteKey;
use crate::store::{SiteRecord, Store, StoreResult};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use quick_cache::sync::Cache;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITE_TTL: Duration = Duration::from_secs(10);
/// How long an API key found active is trusted without asking the database again: a key revoked
/// on another instance stops working within this; on the instance that revoked it, at once.
const KEY_TTL: Duration = Duration::from_secs(5);

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// A cached value and when it goes stale.
type Fresh<V> = (Instant, V);

pub struct PublicGate {
    sites: Cache<String, Fresh<Option<Arc<SiteRecord>>>>,
    all_origins: Cache<(), Fresh<Arc<Vec<String>>>>,
    per_ip: Limiter<IpAddr>,
    per_site: Limiter<i64>,
}

/// How long to wait before trying again, for `Retry-After`.
pub struct Throttled(pub Duration);

impl PublicGate {
    /// Limits are requests per minute, with bursts of the same size.
    pub fn new(per_ip_per_minute: u32, per_site_per_minute: u32) -> PublicGate {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        PublicGate {
            sites: Cache::new(10_000),
            all_origins: Cache::new(1),
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            per_site: RateLimiter::keyed(quota(per_site_per_minute)),
        }
    }

    /// Forgets idle limiter state now and then, so memory follows active clients, not all ever seen.
    pub fn keep_tidy(self: &Arc<Self>) {
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                gate.per_ip.retain_recent();
                gate.per_site.retain_recent();
            }
        });
    }

    /// Counts a request from `ip`; an IPv6 address counts with the rest of its /64.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Throttled> {
        check(&self.per_ip, &crate::domain::client::rate_limit_key(ip))
    }

    pub fn check_site(&self, site_id: i64) -> Result<(), Throttled> {
        check(&self.per_site, &site_id)
    }

    /// The active site a key names, if any.
    pub async fn site(&self, store: &dyn Store, key: &SiteKey) -> StoreResult<Option<Arc<SiteRecord>>> {
        if let Some((until, cached)) = self.sites.get(key.as_str())
            && until > Instant::now()
        {
            return Ok(cached);
        }
        let site = store
            .site_by_key(key)
            .await?
            .filter(|s| s.disabled_at.is_none())
            .map(Arc::new);
        self.sites
            .insert(key.as_str().to_owned(), (Instant::now() + SITE_TTL, site.clone()));
        Ok(site)
    }

    /// Whether any active site allows this origin: what a CORS preflight, which carries no key,
    /// can be told.
    pub async fn any_site_allows(&self, store: &dyn Store, origin: &str) -> StoreResult<bool> {
        let origins = match self.all_origins.get(&()) {
            Some((until, origins)) if until > Instant::now() => origins,
            _ => {
                let sites = store.list_sites().await?;
                let origins: Vec<String> = sites
                    .iter()
                    .filter(|s| s.disabled_at.is_none())
                    .flat_map(|s| s.origins().list().to_vec())
                    .collect();
                let origins = Arc::new(origins);
                self.all_origins
                    .insert((), (Instant::now() + SITE_TTL, origins.clone()));
                origins
            }
        };
        Ok(crate::domain::site::Origins::from_stored(&origins.join(" ")).allow(origin))
    }

    /// A site changed: the next request reads it afresh.
    pub fn forget_sites(&self) {
        self.sites.clear();
        self.all_origins.clear();
    }
}

/// The keyed API's front door: which API keys are active. Every API request presents its key,
/// and a database read per request cost a reader thread's wake-up each.
pub struct ActiveKeys {
    /// Key hashes found active, until when. A key not found is never remembered, so a new one
    /// works at once.
    active: Cache<String, Instant>,
}

impl Default for ActiveKeys {
    fn default() -> Self {
        ActiveKeys {
            active: Cache::new(1_000),
        }
    }
}

impl ActiveKeys {
    pub async fn is_active(&self, store: &dyn Store, hash: &KeyHash) -> StoreResult<bool> {
        if let Some(until) = self.active.get(hash.as_str())
            && until > Instant::now()
        {
            return Ok(true);
        }
        let active = store.api_key_is_active(hash).await?;
        if active {
            self.active.insert(hash.as_str().to_owned(), Instant::now() + KEY_TTL);
        }
        Ok(active)
    }

    /// A key was revoked here: nothing cached stays trusted.
    pub fn forget_all(&self) {
        self.active.clear();
    }
}

fn check<K: Hash + Eq + Clone>(limiter: &Limiter<K>, key: &K) -> Result<(), Throttled> {
    limiter
        .check_key(key)
        .map_err(|not_until| Throttled(not_until.wait_time_from(limiter.clock().now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_quota_is_throttled_with_a_wait() {
        let gate = PublicGate::new(3, 1000);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(gate.check_ip(ip).is_ok());
        }
        let Err(Throttled(wait)) = gate.check_ip(ip) else {
            panic!("the fourth request passed")
        };
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(
            gate.check_ip("192.0.2.2".parse().unwrap()).is_ok(),
            "limits are per address"
        );
        let v6 = PublicGate::new(1, 1000);
        assert!(v6.check_ip("2001:db8::1".parse().unwrap()).is_ok());
        assert!(
            v6.check_ip("2001:db8::2".parse().unwrap()).is_err(),
            "one bucket per /64"
        );
        assert!(
            v6.check_ip("2001:db8:0:1::1".parse().unwrap()).is_ok(),
            "the next /64 has its own"
        );
    }
}
