//! Session tokens and cookies.
//!
//! The cookie carries 256 random bits; the store keeps only their SHA-256, and a CSRF token per
//! session. A new token is issued at every sign-in, so a token planted before sign-in is useless.

use actix_web::cookie::{Cookie, SameSite, time};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// With `__Host-` browsers insist on Secure, no Domain and Path `/`: the cookie cannot be set
/// by a sibling subdomain or leak to one. It requires https, so plain-http set-ups (a laptop,
/// a LAN) use the unprefixed name.
pub const SECURE_COOKIE: &str = "__Host-sharetrail-session";
pub const PLAIN_COOKIE: &str = "sharetrail-session";

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, however active.
    pub absolute: Duration,
    /// Whether the UI is served over https (from the base URL).
    pub secure: bool,
}

impl SessionPolicy {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure { SECURE_COOKIE } else { PLAIN_COOKIE }
    }

    pub fn session_cookie(&self, token: &SessionToken) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.cookie_name(), token.0.clone())
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        cookie.set_max_age(time::Duration::seconds(self.absolute.as_secs() as i64));
        cookie
    }

    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.cookie_name(), "")
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        cookie.make_removal();
        cookie
    }

    /// Whether a session created at `created_at` and last seen at `last_seen_at` is still live.
    pub fn is_live(&self, created_at: i64, last_seen_at: i64, now: i64) -> bool {
        now - last_seen_at < self.idle.as_millis() as i64 && now - created_at < self.absolute.as_millis() as i64
    }
}

/// The secret a browser presents; only its hash is stored.
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> SessionToken {
        SessionToken(random_token())
    }

    pub fn from_cookie(value: &str) -> Option<SessionToken> {
        let plausible = value.len() == TOKEN_CHARS
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        plausible.then(|| SessionToken(value.to_owned()))
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

const TOKEN_CHARS: usize = 43;

/// 43 characters of nanoid's 64-letter URL-safe alphabet: 258 bits from the OS-seeded CSPRNG.
pub fn random_token() -> String {
    nanoid::nanoid!(TOKEN_CHARS)
}

/// Equal contents, in a time that does not depend on where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(secure: bool) -> SessionPolicy {
        SessionPolicy {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(3600),
            secure,
        }
    }

    #[test]
    fn https_gets_the_host_prefixed_secure_cookie() {
        let token = SessionToken::generate();
        let cookie = policy(true).session_cookie(&token);
        assert_eq!(cookie.name(), "__Host-sharetrail-session");
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.domain(), None);
        let plain = policy(false).session_cookie(&token);
        assert_eq!(plain.name(), "sharetrail-session");
        assert_eq!(plain.secure(), Some(false));
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let p = policy(false);
        assert!(p.is_live(0, 0, 59_999));
        assert!(!p.is_live(0, 0, 60_000), "idle");
        assert!(p.is_live(0, 3_550_000, 3_599_999));
        assert!(!p.is_live(0, 3_590_000, 3_600_000), "absolute");
    }

    #[test]
    fn tokens_are_long_random_and_only_their_hash_is_kept() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.0, b.0);
        assert!(SessionToken::from_cookie(&a.0).is_some());
        assert!(SessionToken::from_cookie("short").is_none());
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.0);
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
