//! Tells a person's click from a messaging app's link preview and from other
//! bots, and records the device class, browser and OS of the agent.
//!
//! The order of checks is the policy: a preview fetcher is an unfurl even
//! when the crawler list also knows it; an in-app browser is a person even
//! when a crawler pattern matches the app's own marker (but not when the
//! rest of the agent names a crawler); anything else the crawler list (or
//! uap-core's "Spider" device) knows is a bot; the rest are clicks.

mod crawlers;
mod device;
mod in_app;
mod previews;
mod table;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;

use crate::domain::app::App;
use crate::domain::visit::{DeviceClass, Software, VisitKind};
use crawlers::Crawlers;
use device::DeviceParser;
use table::AppTable;

/// Distinct user agents remembered; real traffic has a long tail but a small
/// head, and each entry is a few hundred bytes.
const CACHE_CAPACITY: usize = 10_000;

/// Agents each thread remembers on its own, in front of the shared cache. The few agents that
/// make up most traffic are then classified without a shared lock and without reference counts
/// that other threads write too; on a busy server those were cache-line transfers per request.
const RECENT_PER_THREAD: usize = 64;

/// Longer agents are cut before matching and caching, so that a hostile
/// client cannot make each request run the regexes over a huge header or
/// fill the cache with huge keys. Real agents are well under this.
const MAX_USER_AGENT_BYTES: usize = 1024;

/// Facts about one request that classification needs (the HTTP layer extracts them).
#[derive(Debug, Clone, Copy)]
pub struct VisitSignals<'a> {
    pub user_agent: &'a str,
    /// HEAD requests are never clicks.
    pub is_head: bool,
    /// Speculative fetches (see [`is_prefetch`]) are never clicks.
    pub is_prefetch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: VisitKind,
    /// The unfurling app for an unfurl; for a click from an in-app browser,
    /// the app, as evidence of the channel. `None` otherwise.
    pub app: Option<App>,
    /// Describes the agent, not the request: a HEAD or prefetch from a phone
    /// browser is a `Bot` visit from a `Mobile` device.
    pub device: DeviceClass,
    /// Browser and OS family; `None` when uap-core knows neither.
    pub software: Option<Arc<Software>>,
}

impl Verdict {
    /// Browser family, e.g. "Chrome Mobile".
    pub fn browser(&self) -> Option<&str> {
        self.software.as_ref()?.browser.as_deref()
    }

    /// OS family, e.g. "Android".
    pub fn os(&self) -> Option<&str> {
        self.software.as_ref()?.os.as_deref()
    }
}

/// What a user agent is, independent of the request it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agent {
    Preview(App),
    InApp(App),
    Crawler,
    Person,
}

/// Everything derived from one user-agent string; cached per string.
#[derive(Debug, Clone)]
struct Profile {
    agent: Agent,
    device: DeviceClass,
    software: Option<Arc<Software>>,
}

pub struct Classifier {
    /// Tells this classifier's entries in the per-thread memo from another instance's.
    id: u64,
    previews: AppTable,
    in_app: AppTable,
    crawlers: Crawlers,
    devices: DeviceParser,
    cache: Cache<String, Arc<Profile>>,
}

impl Classifier {
    /// Compiles the vendored data. Called once at start-up; takes a moment.
    pub fn from_vendored_data() -> anyhow::Result<Self> {
        let crawlers = Crawlers::from_json(crawlers::CRAWLER_USER_AGENTS_JSON)?;
        if !crawlers.skipped().is_empty() {
            tracing::debug!(
                skipped = ?crawlers.skipped(),
                "crawler-user-agents patterns that Rust's regex cannot compile were skipped"
            );
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            previews: AppTable::new(previews::PREVIEW_BOTS)?,
            in_app: AppTable::new(in_app::IN_APP_BROWSERS)?,
            crawlers,
            devices: DeviceParser::from_json(device::UAP_REGEXES_JSON)?,
            cache: Cache::new(CACHE_CAPACITY),
        })
    }

    /// Number of crawler-list patterns in use.
    pub fn crawler_patterns_compiled(&self) -> usize {
        self.crawlers.compiled()
    }

    /// Number of crawler-list patterns dropped because Rust's regex rejects them.
    pub fn crawler_patterns_skipped(&self) -> usize {
        self.crawlers.skipped().len()
    }

    /// Cheap for a user agent seen recently: the regexes run once per
    /// distinct agent and the result is cached.
    pub fn classify(&self, signals: &VisitSignals<'_>) -> Verdict {
        let user_agent = truncate(signals.user_agent.trim(), MAX_USER_AGENT_BYTES);
        if user_agent.is_empty() {
            return Verdict {
                kind: VisitKind::Bot,
                app: None,
                device: DeviceClass::Bot,
                software: None,
            };
        }
        let speculative = signals.is_head || signals.is_prefetch;
        RECENT.with_borrow_mut(|recent| {
            let profile = recent.profile(self.id, user_agent, || self.shared_profile(user_agent));
            let (kind, app) = match profile.agent {
                // A preview fetcher's HEAD is still that app looking at the link.
                Agent::Preview(app) => (VisitKind::Unfurl, Some(app)),
                Agent::InApp(app) if !speculative => (VisitKind::Click, Some(app)),
                Agent::Person if !speculative => (VisitKind::Click, None),
                Agent::InApp(_) | Agent::Person | Agent::Crawler => (VisitKind::Bot, None),
            };
            Verdict {
                kind,
                app,
                device: profile.device,
                software: profile.software.clone(),
            }
        })
    }

    /// The profile from the cache all threads share, worked out on a miss. The copy handed out
    /// owns its strings, so the thread that keeps it is the only one counting references to them.
    fn shared_profile(&self, user_agent: &str) -> Profile {
        let shared = self
            .cache
            .get_or_insert_with(user_agent, || {
                Ok::<_, std::convert::Infallible>(Arc::new(self.profile(user_agent)))
            })
            .unwrap_or_else(|never| match never {});
        Profile {
            software: shared.software.as_deref().cloned().map(Arc::new),
            ..*shared
        }
    }

    fn profile(&self, user_agent: &str) -> Profile {
        let device = self.devices.parse(user_agent);
        let agent = if let Some(app) = self.previews.first_match(user_agent) {
            Agent::Preview(app)
        } else if let Some(app) = self.in_app.first_match(user_agent) {
            // A crawler pattern naming the app itself (the list has "Viber")
            // must not turn its users into bots, but a crawler that dresses
            // up as an in-app browser and adds its own name still is one.
            let rest = self.in_app.remove_markers(user_agent);
            if self.crawlers.matches(&rest) {
                Agent::Crawler
            } else {
                Agent::InApp(app)
            }
        } else if device.is_spider || self.crawlers.matches(user_agent) {
            Agent::Crawler
        } else {
            Agent::Person
        };
        let device_class = match agent {
            Agent::Preview(_) | Agent::Crawler => DeviceClass::Bot,
            // uap-core may call an in-app browser a spider; people are not.
            Agent::InApp(_) | Agent::Person if device.class == DeviceClass::Bot => DeviceClass::Unknown,
            Agent::InApp(_) | Agent::Person => device.class,
        };
        Profile {
            agent,
            device: device_class,
            software: (device.browser.is_some() || device.os.is_some()).then(|| {
                Arc::new(Software {
                    browser: device.browser,
                    os: device.os,
                })
            }),
        }
    }

    #[cfg(test)]
    fn cached_agents(&self) -> usize {
        self.cache.len()
    }
}

thread_local! {
    static RECENT: RefCell<RecentAgents> = RefCell::new(RecentAgents::default());
}

/// One thread's memo of the agents it classified last (see [`RECENT_PER_THREAD`]).
#[derive(Default)]
struct RecentAgents {
    classifier: u64,
    profiles: foldhash::HashMap<Box<str>, Profile>,
}

impl RecentAgents {
    fn profile(&mut self, classifier: u64, user_agent: &str, load: impl FnOnce() -> Profile) -> &Profile {
        if self.classifier != classifier {
            self.classifier = classifier;
            self.profiles.clear();
        }
        if !self.profiles.contains_key(user_agent) {
            // Starting over when full keeps this a plain map; the shared cache holds the long tail.
            if self.profiles.len() >= RECENT_PER_THREAD {
                self.profiles.clear();
            }
            self.profiles.insert(user_agent.into(), load());
        }
        &self.profiles[user_agent]
    }
}

/// True when request headers mark a speculative fetch. Takes header values as plain strs so the
/// module stays free of HTTP types.
///
/// `Sec-Purpose` is a structured list (`prefetch`, `prefetch;prerender`,
/// `prefetch;anonymous-client-ip`); the legacy headers carry a bare token.
pub fn is_prefetch(sec_purpose: Option<&str>, purpose: Option<&str>, x_moz: Option<&str>) -> bool {
    [sec_purpose, purpose, x_moz].into_iter().flatten().any(|value| {
        value
            .split([',', ';'])
            .map(str::trim)
            .any(|token| token.eq_ignore_ascii_case("prefetch") || token.eq_ignore_ascii_case("prerender"))
    })
}

fn truncate(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
