//! Visitor identity without storing anyone's IP address.
//!
//! A visitor is a hash of (today's salt, IP, user agent, scope). The salt is random, shared by all
//! instances through the database, replaced every UTC day, and the old one deleted: after
//! midnight nobody, including the operator, can link today's visitors to yesterday's or recover
//! an IP address by brute force.

use crate::clock::{day_of, now_ms};
use crate::domain::visit::VisitorHash;
use crate::store::{Store, StoreResult};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub struct DailySalt {
    current: RwLock<(String, String)>,
}

impl DailySalt {
    pub async fn load(store: &dyn Store) -> StoreResult<DailySalt> {
        let day = day_of(now_ms());
        let salt = store.salt_for_day(&day, &fresh_salt()).await?;
        Ok(DailySalt {
            current: RwLock::new((day, salt)),
        })
    }

    /// Checks once a minute whether the day has turned and fetches (or creates) the new salt.
    pub fn keep_fresh(self: &Arc<Self>, store: Arc<dyn Store>) {
        let salt = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let today = day_of(now_ms());
                if salt.day() == today {
                    continue;
                }
                match store.salt_for_day(&today, &fresh_salt()).await {
                    Ok(new) => salt.replace(today, new),
                    Err(err) => tracing::warn!(error = %err, "could not rotate the visitor salt"),
                }
            }
        });
    }

    fn day(&self) -> String {
        self.current.read().map(|c| c.0.clone()).unwrap_or_default()
    }

    fn replace(&self, day: String, salt: String) {
        if let Ok(mut current) = self.current.write() {
            *current = (day, salt);
        }
    }

    /// 128 bits of SHA-256, hex: plenty to tell visitors apart, nothing to reverse. The address
    /// goes in as its bytes: formatting it as text cost more than the hash on the redirect path.
    pub fn visitor_hash(&self, ip: IpAddr, user_agent: &str, scope: i64) -> VisitorHash {
        let mut hasher = Sha256::new();
        if let Ok(current) = self.current.read() {
            hasher.update(current.1.as_bytes());
        }
        // One form per address, whether a dual-stack socket reports it as IPv4 or IPv4-mapped.
        let address = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        for part in [&address[..], user_agent.as_bytes(), &scope.to_le_bytes()] {
            hasher.update([0u8]);
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        VisitorHash::from_bytes(first)
    }
}

fn fresh_salt() -> String {
    nanoid::nanoid!(43)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salt(value: &str) -> DailySalt {
        DailySalt {
            current: RwLock::new(("2026-11-23".into(), value.into())),
        }
    }

    const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)";

    #[test]
    fn an_ipv4_visitor_hashes_the_same_through_a_dual_stack_socket() {
        let salt = salt("s");
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(salt.visitor_hash(v4, UA, 1), salt.visitor_hash(mapped, UA, 1));
    }

    #[test]
    fn address_browser_link_and_salt_each_tell_visitors_apart() {
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let base = salt("s").visitor_hash(ip, UA, 1);
        assert_ne!(base, salt("s").visitor_hash("198.51.100.8".parse().unwrap(), UA, 1));
        assert_ne!(base, salt("s").visitor_hash(ip, "curl/8.0", 1));
        assert_ne!(base, salt("s").visitor_hash(ip, UA, 2));
        assert_ne!(
            base,
            salt("t").visitor_hash(ip, UA, 1),
            "a new day's salt makes a new hash"
        );
    }
}
