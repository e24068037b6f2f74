//! Password hashing with argon2id at OWASP's recommended parameters.
//!
//! Hashing costs tens of milliseconds of CPU on purpose, so callers run it on the blocking pool.

use crate::domain::account::NewPassword;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use std::sync::LazyLock;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, two passes, one lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), salt included.
pub fn hash(password: &NewPassword) -> anyhow::Result<String> {
    let hash = argon2()
        .hash_password(password.expose().as_bytes())
        .map_err(|e| anyhow::anyhow!("could not hash a password: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `attempt` matches `stored`. A malformed stored hash never matches.
pub fn verify(stored: &str, attempt: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(attempt.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Checked when no account has the e-mail given, so that a wrong address costs as long as a
/// wrong password and response times do not reveal who has an account.
pub fn verify_against_nobody(attempt: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        NewPassword::parse("no account has this password")
            .ok()
            .and_then(|p| hash(&p).ok())
            .unwrap_or_default()
    });
    let _ = verify(&DUMMY, attempt);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let password = NewPassword::parse("correct horse battery staple").unwrap();
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify(&stored, "correct horse battery staple"));
        assert!(!verify(&stored, "correct horse battery stapler"));
        assert!(!verify("not a hash", "correct horse battery staple"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let password = NewPassword::parse("correct horse battery staple").unwrap();
        assert_ne!(hash(&password).unwrap(), hash(&password).unwrap());
    }
}
