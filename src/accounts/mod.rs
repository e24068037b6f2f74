//! Signing in to the web UI: passwords, server-side sessions, sign-in throttling and the
//! one-time setup link that creates the first admin.

pub mod password;
pub mod session;
pub mod throttle;

use std::sync::Mutex;

pub use session::{SessionPolicy, SessionToken};
pub use throttle::{LinkPasswordThrottle, SignInThrottle};

/// Everything about accounts that lives in memory rather than in the store.
pub struct Accounts {
    pub policy: SessionPolicy,
    pub throttle: SignInThrottle,
    /// Wrong passwords given to password-protected links.
    pub link_passwords: LinkPasswordThrottle,
    pub passwords: password::PasswordWork,
    /// Present while no user exists: the secret of the first-run setup link.
    setup_token: Mutex<Option<String>>,
}

impl Accounts {
    pub fn new(policy: SessionPolicy, throttle: SignInThrottle) -> Accounts {
        Accounts {
            policy,
            throttle,
            link_passwords: LinkPasswordThrottle::default(),
            passwords: password::PasswordWork::per_core(),
            setup_token: Mutex::new(None),
        }
    }

    /// Makes a fresh setup secret (the store has no user yet) and returns it for the log.
    pub fn open_setup(&self) -> String {
        let token = session::random_token();
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        token
    }

    pub fn setup_is_open(&self) -> bool {
        self.setup_token.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Whether `presented` is the live setup secret (compared in constant time).
    pub fn setup_token_matches(&self, presented: &str) -> bool {
        let guard = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_deref()
            .is_some_and(|t| session::constant_time_eq(t.as_bytes(), presented.as_bytes()))
    }

    /// The first admin exists: the setup link stops working for good.
    pub fn close_setup(&self) {
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
