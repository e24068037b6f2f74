//! Password hashing with argon2id at OWASP's recommended parameters.
//!
//! Hashing costs tens of milliseconds of CPU and 19 MiB of memory on purpose, so callers run it
//! through `PasswordWork`: on the blocking pool, and no more at once than there are cores.

use crate::domain::account::NewPassword;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a sign-in waits for a free core before it is told to come back.
const WAIT: Duration = Duration::from_secs(2);

/// Too many passwords are being hashed at once: try again in a moment.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins at once")]
pub struct Busy;

/// Runs argon2 work at most one per core at a time. A flood of sign-ins then waits briefly and
/// is refused, instead of taking every blocking thread (and 19 MiB each) the runtime has.
pub struct PasswordWork {
    permits: Semaphore,
}

impl PasswordWork {
    pub fn new(at_once: usize) -> PasswordWork {
        PasswordWork {
            permits: Semaphore::new(at_once.max(1)),
        }
    }

    /// One per core of this machine.
    pub fn per_core() -> PasswordWork {
        PasswordWork::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = tokio::time::timeout(WAIT, self.permits.acquire())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let done = tokio::task::spawn_blocking(work).await.map_err(|_| Busy);
        drop(permit);
        done
    }
}

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, two passes, one lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), salt included.
pub fn hash(password: &NewPassword) -> anyhow::Result<String> {
    hash_secret(password.expose())
}

/// `hash` for any secret already checked by its own rules, such as a link's password.
pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    let hash = argon2()
        .hash_password(secret.as_bytes())
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

    #[tokio::test]
    async fn password_work_beyond_the_permits_waits_then_is_refused() {
        let work = PasswordWork::new(1);
        let held = work.permits.acquire().await.unwrap();
        let started = std::time::Instant::now();
        assert!(work.run(|| 1).await.is_err(), "no permit within the wait");
        assert!(started.elapsed() >= WAIT);
        drop(held);
        assert_eq!(work.run(|| 2).await.unwrap(), 2);
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let password = NewPassword::parse("correct horse battery staple").unwrap();
        assert_ne!(hash(&password).unwrap(), hash(&password).unwrap());
    }
}
