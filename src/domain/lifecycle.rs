//! A link's lifecycle: when its short links stop redirecting (a day, a number of human clicks),
//! where they send people then, and the password a visitor must give first.

use super::destination::{Destination, DestinationError};
use std::fmt;
use url::Url;

/// Far beyond any campaign, and far below where sums of clicks could overflow.
pub const MAX_CLICK_LIMIT: i64 = 1_000_000_000_000;
pub const MIN_PASSWORD_CHARS: usize = 4;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a click limit is a whole number from 1 to {MAX_CLICK_LIMIT}")]
    ClickLimit,
    #[error("{0}")]
    Fallback(DestinationError),
    #[error("a fallback cannot be a sharetrail address: it could lead back to a short link that has ended")]
    FallbackLoop,
    #[error("a link password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, without control characters")]
    Password,
}

/// How many human clicks a link's short links take, together, before they behave as expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClickLimit(i64);

impl ClickLimit {
    pub fn new(clicks: i64) -> Result<ClickLimit, LifecycleError> {
        match clicks {
            1..=MAX_CLICK_LIMIT => Ok(ClickLimit(clicks)),
            _ => Err(LifecycleError::ClickLimit),
        }
    }

    /// Digits only, as typed in a form or on a command line.
    pub fn parse(raw: &str) -> Result<ClickLimit, LifecycleError> {
        let raw = raw.trim();
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LifecycleError::ClickLimit);
        }
        ClickLimit::new(raw.parse().map_err(|_| LifecycleError::ClickLimit)?)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Clicks still to come after `used`.
    pub fn remaining(self, used: i64) -> i64 {
        (self.0 - used).max(0)
    }
}

/// Where people go once a link's short links have ended: any destination but sharetrail's own
/// addresses, whose short links might end too, or loop back here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback(Destination);

impl Fallback {
    /// `own_origin` is the public origin short links are written with (`https://go.example.com`).
    pub fn parse(raw: &str, own_origin: &str) -> Result<Fallback, LifecycleError> {
        let destination = Destination::parse(raw).map_err(LifecycleError::Fallback)?;
        if let Ok(own) = Url::parse(own_origin)
            && same_host(destination.url(), &own)
        {
            return Err(LifecycleError::FallbackLoop);
        }
        Ok(Fallback(destination))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The same host and port, whatever the scheme: `http://go.example.com/x` is as much a short
/// link of `https://go.example.com` as its https twin.
fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str()
        && match (a.port(), b.port()) {
            (None, None) => true,
            _ => a.port_or_known_default() == b.port_or_known_default(),
        }
}

/// A link's password, as its owner typed it; only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkPassword(String);

impl LinkPassword {
    pub fn parse(raw: &str) -> Result<LinkPassword, LifecycleError> {
        let chars = raw.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) || raw.chars().any(char::is_control) {
            return Err(LifecycleError::Password);
        }
        Ok(LinkPassword(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkPassword(…)")
    }
}

/// Where a link stands, and why, as the people who manage it are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It redirects; it stops at `until` (Unix milliseconds) or after `clicks_left` more clicks.
    Working {
        until: Option<i64>,
        clicks_left: Option<i64>,
    },
    SwitchedOff,
    Expired,
    /// Its click limit is reached.
    UsedUp,
}

/// What a link's settings and its clicks so far make of it at `now`. Switched off wins over
/// expired, which wins over used up: the first is the one a person would undo first.
pub fn standing(
    disabled_at: Option<i64>,
    expires_at: Option<i64>,
    limit: Option<ClickLimit>,
    clicks: i64,
    now: i64,
) -> Standing {
    if disabled_at.is_some() {
        return Standing::SwitchedOff;
    }
    if expires_at.is_some_and(|at| at <= now) {
        return Standing::Expired;
    }
    match limit.map(|l| l.remaining(clicks)) {
        Some(0) => Standing::UsedUp,
        clicks_left => Standing::Working {
            until: expires_at,
            clicks_left,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_limit_is_a_positive_whole_number() {
        assert_eq!(ClickLimit::new(3).map(ClickLimit::get), Ok(3));
        assert_eq!(ClickLimit::parse(" 25 ").map(ClickLimit::get), Ok(25));
        for bad in [0, -1, MAX_CLICK_LIMIT + 1, i64::MIN] {
            assert_eq!(ClickLimit::new(bad), Err(LifecycleError::ClickLimit), "{bad}");
        }
        for bad in ["", "0", "-3", "+3", "2.5", "1e3", "three", "99999999999999999999"] {
            assert!(ClickLimit::parse(bad).is_err(), "{bad:?}");
        }
        let limit = ClickLimit::new(3).unwrap();
        assert_eq!((limit.remaining(1), limit.remaining(3), limit.remaining(9)), (2, 0, 0));
    }

    #[test]
    fn a_fallback_is_a_destination_off_sharetrail() {
        let own = "https://go.example.com";
        assert_eq!(
            Fallback::parse("https://example.com/offer-ended", own)
                .unwrap()
                .as_str(),
            "https://example.com/offer-ended"
        );
        assert!(matches!(
            Fallback::parse("javascript:alert(1)", own),
            Err(LifecycleError::Fallback(DestinationError::Scheme))
        ));
        assert!(matches!(
            Fallback::parse("ftp://example.com/", own),
            Err(LifecycleError::Fallback(_))
        ));
        for looping in [
            "https://go.example.com/Ab3dEf9x",
            "http://GO.example.com/spring",
            "https://go.example.com:443/x",
        ] {
            assert_eq!(
                Fallback::parse(looping, own),
                Err(LifecycleError::FallbackLoop),
                "{looping}"
            );
        }
        assert!(Fallback::parse("https://example.com/", "http://127.0.0.1:8080").is_ok());
        assert_eq!(
            Fallback::parse("http://127.0.0.1:8080/abc", "http://127.0.0.1:8080"),
            Err(LifecycleError::FallbackLoop)
        );
        assert!(
            Fallback::parse("http://127.0.0.1:9090/abc", "http://127.0.0.1:8080").is_ok(),
            "another port is another server"
        );
    }

    #[test]
    fn a_link_password_has_a_sane_length_and_never_shows_in_logs() {
        assert!(LinkPassword::parse("spring27").is_ok());
        assert!(LinkPassword::parse("ab c").is_ok(), "spaces are fine");
        assert_eq!(LinkPassword::parse("abc"), Err(LifecycleError::Password));
        assert_eq!(LinkPassword::parse(&"x".repeat(129)), Err(LifecycleError::Password));
        assert_eq!(LinkPassword::parse("new\nline"), Err(LifecycleError::Password));
        assert_eq!(
            format!("{:?}", LinkPassword::parse("hunter22").unwrap()),
            "LinkPassword(…)"
        );
    }

    #[test]
    fn a_link_stands_switched_off_then_expired_then_used_up() {
        let three = ClickLimit::new(3).ok();
        assert_eq!(
            standing(None, Some(2_000), three, 1, 1_000),
            Standing::Working {
                until: Some(2_000),
                clicks_left: Some(2)
            }
        );
        assert_eq!(standing(None, None, three, 3, 1_000), Standing::UsedUp);
        assert_eq!(standing(None, Some(1_000), three, 3, 1_000), Standing::Expired);
        assert_eq!(standing(Some(5), Some(1_000), three, 3, 1_000), Standing::SwitchedOff);
        assert_eq!(
            standing(None, None, None, 99, 1_000),
            Standing::Working {
                until: None,
                clicks_left: None
            }
        );
    }
}
