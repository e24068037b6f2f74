//! Sign-in throttling per account and per address: guessing gets slow, nobody gets locked out.
//!
//! A lock-out would let anyone lock a colleague out by typing wrong passwords for them; a quota
//! that refills lets the real person in a few seconds later and holds a guesser to a crawl.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

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
}
