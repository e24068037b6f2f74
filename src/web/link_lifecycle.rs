//! What a link's page says of its lifecycle: when and why its short links stop working, how
//! many clicks remain, where they send people then, and the values its edit form shows.

use crate::domain::lifecycle::{Standing, standing};
use crate::domain::utm::{UtmOverride, UtmTag};
use crate::store::LinkSummary;

/// One UTM tag's row in the edit form.
pub struct UtmRow {
    /// `source`, `medium` …
    pub name: &'static str,
    pub value: String,
    pub omitted: bool,
    /// What sharetrail adds when the link says nothing.
    pub ours: &'static str,
}

pub struct LinkLifecycleView {
    pub standing: Standing,
    /// Human clicks counted so far: stored, and on this instance those on their way.
    pub clicks: i64,
    pub max_clicks: Option<i64>,
    pub fallback_url: Option<String>,
    pub protected: bool,
    pub utm: Vec<UtmRow>,
}

impl LinkLifecycleView {
    /// `counted` is what the redirect's click limit has counted here, which may be ahead of
    /// what is stored by the last batch's fraction of a second.
    pub fn new(link: &LinkSummary, counted: i64, now: i64) -> LinkLifecycleView {
        let lifecycle = &link.lifecycle;
        let clicks = link.clicks.max(counted);
        let overrides = lifecycle.utm_overrides();
        LinkLifecycleView {
            standing: standing(link.disabled_at, link.expires_at, lifecycle.max_clicks(), clicks, now),
            clicks,
            max_clicks: lifecycle.max_clicks,
            fallback_url: lifecycle.fallback_url.clone(),
            protected: lifecycle.password_hash.is_some(),
            utm: UtmTag::ALL
                .into_iter()
                .map(|tag| {
                    let setting = overrides.get(tag);
                    UtmRow {
                        name: tag.name(),
                        value: match setting {
                            Some(UtmOverride::Value(value)) => value.clone(),
                            _ => String::new(),
                        },
                        omitted: setting == Some(&UtmOverride::Omit),
                        ours: ours(tag),
                    }
                })
                .collect(),
        }
    }

    pub fn is_working(&self) -> bool {
        matches!(self.standing, Standing::Working { .. })
    }

    /// What its short links do once they have stopped working.
    pub fn ending(&self) -> String {
        match &self.fallback_url {
            Some(url) => format!("send people to {url}"),
            None => "answer \"gone\"".to_owned(),
        }
    }

    /// One sentence: whether the short links work, until when, and what happens then.
    pub fn note(&self) -> String {
        let used = |max: i64| format!("{} of {max} click{} used", self.clicks.min(max), plural(max));
        let mut note = match self.standing {
            Standing::SwitchedOff => format!("Switched off: its short links {}.", self.ending()),
            Standing::Expired => format!("Expired: its last day is over, so its short links {}.", self.ending()),
            Standing::UsedUp => format!(
                "Used up: {}, so its short links {}.",
                used(self.max_clicks.unwrap_or_default()),
                self.ending()
            ),
            Standing::Working { until, clicks_left } => {
                let mut stops = Vec::new();
                if let Some(day) = until.and_then(last_day) {
                    stops.push(format!("after {day} (UTC)"));
                }
                if let (Some(left), Some(max)) = (clicks_left, self.max_clicks) {
                    stops.push(format!("after {left} more click{} ({})", plural(left), used(max)));
                }
                match stops.is_empty() {
                    true => "Works until you switch it off.".to_owned(),
                    false => format!(
                        "Works; stops {}; then its short links {}.",
                        stops.join(" or "),
                        self.ending()
                    ),
                }
            }
        };
        if self.protected {
            note.push_str(" Visitors must enter its password first.");
        }
        note
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The last day (UTC) an expiry leaves whole: a link that expires at midnight works the day before.
pub fn last_day(expires_at: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(expires_at - 1).map(|t| t.format("%Y-%m-%d").to_string())
}

fn ours(tag: UtmTag) -> &'static str {
    match tag {
        UtmTag::Source => "the channel",
        UtmTag::Medium => "social, email or sms by channel",
        UtmTag::Campaign => "the campaign",
        UtmTag::Term => "none",
        UtmTag::Content => "the short link's label",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(standing: Standing, clicks: i64, max_clicks: Option<i64>, fallback: Option<&str>) -> LinkLifecycleView {
        LinkLifecycleView {
            standing,
            clicks,
            max_clicks,
            fallback_url: fallback.map(str::to_owned),
            protected: false,
            utm: Vec::new(),
        }
    }

    #[test]
    fn the_page_says_when_and_why_a_link_stops_and_what_then() {
        let working = Standing::Working {
            until: Some(1_798_761_600_000),
            clicks_left: Some(1),
        };
        assert_eq!(
            view(working, 2, Some(3), None).note(),
            "Works; stops after 2026-12-31 (UTC) or after 1 more click (2 of 3 clicks used); \
             then its short links answer \"gone\"."
        );
        assert_eq!(
            view(Standing::UsedUp, 5, Some(3), Some("https://example.com/ended")).note(),
            "Used up: 3 of 3 clicks used, so its short links send people to https://example.com/ended."
        );
        let forever = Standing::Working {
            until: None,
            clicks_left: None,
        };
        let mut protected = view(forever, 0, None, None);
        protected.protected = true;
        assert_eq!(
            protected.note(),
            "Works until you switch it off. Visitors must enter its password first."
        );
        assert!(view(Standing::Expired, 0, None, None).note().starts_with("Expired"));
    }
}
