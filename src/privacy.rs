//! Visitor identity without storing anyone's IP address.
//!
//! A visitor is a hash of (today's salt, IP, user agent, scope). The salt is random, shared by all
//! instances through the database, replaced every UTC day, and the old one deleted: after
//! midnight nobody, including the operator, can link today's visitors to yesterday's or recover
//! an IP address by brute force.

use crate::clock::{day_of, now_ms};
use crate::domain::api_key::hex;
use crate::store::{Store, StoreResult};
use sha2::{Digest, Sha256};
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

    /// 128 bits of SHA-256, hex: plenty to tell visitors apart, nothing to reverse.
    pub fn visitor_hash(&self, ip: &str, user_agent: &str, scope: i64) -> String {
        let mut hasher = Sha256::new();
        if let Ok(current) = self.current.read() {
            hasher.update(current.1.as_bytes());
        }
        for part in [ip.as_bytes(), user_agent.as_bytes(), &scope.to_le_bytes()] {
            hasher.update([0u8]);
            hasher.update(part);
        }
        hex(&hasher.finalize()[..16])
    }
}

fn fresh_salt() -> String {
    nanoid::nanoid!(43)
}
