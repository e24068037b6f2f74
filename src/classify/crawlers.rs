//! The crawler-user-agents list: known crawlers, monitors, HTTP libraries.

use anyhow::Context as _;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Deserialize;

pub(super) const CRAWLER_USER_AGENTS_JSON: &str = include_str!("../../data/crawler-user-agents.json");

/// Generous, because ~1,500 patterns are compiled into one automaton; still
/// bounded so a bad refresh of the data fails at start-up, not later.
const SET_SIZE_LIMIT: usize = 256 << 20;

/// Upstream patterns that match ordinary people, not a crawler: an Android
/// build number shared by millions of phones (it appears in every WebView
/// agent of those devices). Dropped until upstream fixes them; the tests fail
/// once one is gone from the data, so this list cannot go stale silently.
pub(super) const IGNORED_PATTERNS: &[&str] = &[r"AP3A\.240617\.008"];

#[derive(Deserialize)]
struct Entry {
    pattern: String,
}

pub(super) struct Crawlers {
    set: RegexSet,
    skipped: Vec<String>,
}

impl Crawlers {
    pub(super) fn from_json(json: &str) -> anyhow::Result<Self> {
        let entries: Vec<Entry> = serde_json::from_str(json).context("parsing the crawler-user-agents list")?;
        // The list is written for JavaScript, Python and Go regex engines; a
        // pattern using syntax Rust's regex rejects (look-around,
        // back-references) is dropped rather than failing the whole list.
        let (patterns, skipped): (Vec<String>, Vec<String>) = entries
            .into_iter()
            .map(|entry| entry.pattern)
            .filter(|pattern| !IGNORED_PATTERNS.contains(&pattern.as_str()))
            .partition(|pattern| Regex::new(pattern).is_ok());
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(SET_SIZE_LIMIT)
            .build()
            .context("compiling the crawler-user-agents patterns")?;
        Ok(Self { set, skipped })
    }

    pub(super) fn matches(&self, user_agent: &str) -> bool {
        self.set.is_match(user_agent)
    }

    pub(super) fn compiled(&self) -> usize {
        self.set.len()
    }

    pub(super) fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn almost_all_crawler_patterns_compile() {
        let crawlers = Crawlers::from_json(CRAWLER_USER_AGENTS_JSON).unwrap();
        let total = crawlers.compiled() + crawlers.skipped().len();
        assert!(total > 1_000, "only {total} patterns in the list");
        assert!(
            crawlers.skipped().len() * 100 <= total,
            "more than 1% of patterns skipped: {:?}",
            crawlers.skipped()
        );
    }

    #[test]
    fn every_ignored_pattern_is_still_in_the_list() {
        let entries: Vec<Entry> = serde_json::from_str(CRAWLER_USER_AGENTS_JSON).unwrap();
        for ignored in IGNORED_PATTERNS {
            assert!(
                entries.iter().any(|entry| entry.pattern == *ignored),
                "{ignored} is gone upstream: remove it from IGNORED_PATTERNS"
            );
        }
    }

    #[test]
    fn a_pattern_rust_cannot_compile_is_skipped_not_fatal() {
        let json = r#"[{"pattern": "Googlebot\\/"}, {"pattern": "foo(?=bar)"}]"#;
        let crawlers = Crawlers::from_json(json).unwrap();
        assert_eq!(crawlers.compiled(), 1);
        assert_eq!(crawlers.skipped(), ["foo(?=bar)"]);
        assert!(crawlers.matches("Googlebot/2.1"));
    }
}
