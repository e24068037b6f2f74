//! Sign-in throttling per account and per address: guessing gets slow, nobody gets locked out.
//!
//! A lock-out would let anyone lock a colleague out by typing wrong passwords for them; a quota
//! that refills lets the real person in a few seconds later and holds a guesser to a crawl.
//! A password-protected link is throttled the same way, per address and link, on wrong
//! passwords only: an office behind one address may open it many times over.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct SignInThrottle {
    per_account: Limiter<String>,
    per_ip: Limiter<IpAddr>,
}

impl SignInThrottle {
    /// `per_account` attempts a minute on one e-mail and `per_ip` from one address, each with a
    /// burst of the same size.
    pub fn new(per_account: u32, per_ip: u32) -> SignInThrottle {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        SignInThrottle {
            per_account: RateLimiter::keyed(quota(per_account)),
            per_ip: RateLimiter::keyed(quota(per_ip)),
        }
    }

    /// `Err(wait)` when this attempt must wait; every attempt counts, right or wrong.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), Duration> {
        let wait = |limiter_now, not_until: governor::NotUntil<_>| not_until.wait_time_from(limiter_now);
        self.per_ip
            .check_key(&ip)
            .map_err(|n| wait(self.per_ip.clock().now(), n))?;
        self.per_account
            .check_key(&email.to_owned())
            .map_err(|n| wait(self.per_account.clock().now(), n))
    }

    pub fn tidy(&self) {
        self.per_account.retain_recent();
        self.per_ip.retain_recent();
    }
}

/// Wrong passwords one address may give one link at once, and how fast it gets another go.
const LINK_FAILURES: u32 = 5;
const LINK_FAILURE_REFILL: Duration = Duration::from_secs(60);

type LinkKey = (IpAddr, i64);

/// Wrong passwords per address and link: a few at once, then one a minute.
pub struct LinkPasswordThrottle {
    failures: Limiter<LinkKey>,
    /// Keys whose failures ran out, and until when: looked at before any password is hashed, so
    /// a guesser that is held back costs no argon2 work.
    held: Mutex<HashMap<LinkKey, Instant>>,
}

impl Default for LinkPasswordThrottle {
    fn default() -> Self {
        let burst = NonZeroU32::new(LINK_FAILURES).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(LINK_FAILURE_REFILL)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        LinkPasswordThrottle {
            failures: RateLimiter::keyed(quota),
            held: Mutex::new(HashMap::new()),
        }
    }
}

impl LinkPasswordThrottle {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<LinkKey, Instant>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(wait)` while this address must wait before it tries the link's password again.
    pub fn check(&self, ip: IpAddr, link_id: i64) -> Result<(), Duration> {
        let mut held = self.held();
        match held.get(&(ip, link_id)) {
            Some(until) if *until > Instant::now() => Err(until.saturating_duration_since(Instant::now())),
            Some(_) => {
                held.remove(&(ip, link_id));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A wrong password: `Err(wait)` once the address has used up its failures on the link.
    pub fn failed(&self, ip: IpAddr, link_id: i64) -> Result<(), Duration> {
        let key = (ip, link_id);
        let wait = match self.failures.check_key(&key) {
            Ok(()) => return Ok(()),
            Err(not_until) => not_until.wait_time_from(self.failures.clock().now()),
        };
        self.held().insert(key, Instant::now() + wait);
        Err(wait)
    }

    pub fn tidy(&self) {
        self.failures.retain_recent();
        let now = Instant::now();
        self.held().retain(|_, until| *until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_slowed_not_locked() {
        let throttle = SignInThrottle::new(2, 100);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(throttle.check("ana@example.com", ip).is_ok());
        assert!(throttle.check("ana@example.com", ip).is_ok());
        let wait = throttle.check("ana@example.com", ip).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30), "{wait:?}");
        assert!(
            throttle.check("bo@example.com", ip).is_ok(),
            "other accounts are unaffected"
        );
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let throttle = SignInThrottle::new(100, 3);
        let ip: IpAddr = "192.0.2.8".parse().unwrap();
        for n in 0..3 {
            assert!(throttle.check(&format!("user{n}@example.com"), ip).is_ok());
        }
        assert!(throttle.check("user9@example.com", ip).is_err());
        assert!(
            throttle
                .check("user9@example.com", "192.0.2.9".parse().unwrap())
                .is_ok()
        );
    }

    #[test]
    fn a_link_password_is_held_back_after_a_few_failures_per_address_and_link() {
        let throttle = LinkPasswordThrottle::default();
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        for _ in 0..LINK_FAILURES {
            assert!(throttle.check(ip, 1).is_ok());
            assert!(throttle.failed(ip, 1).is_ok());
        }
        assert!(
            throttle.check(ip, 1).is_ok(),
            "not held back before a failure past the few"
        );
        let wait = throttle.failed(ip, 1).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= LINK_FAILURE_REFILL, "{wait:?}");
        let held = throttle.check(ip, 1).unwrap_err();
        assert!(held <= wait, "{held:?}");
        assert!(throttle.check(ip, 2).is_ok(), "another link");
        assert!(
            throttle.check("192.0.2.11".parse().unwrap(), 1).is_ok(),
            "another address"
        );
        throttle.tidy();
        assert!(throttle.check(ip, 1).is_err(), "still held after tidying");
    }
}
