//! Apps a link travels through: the ones whose preview fetchers or in-app
//! browsers can be told apart by user agent.

use std::fmt;

use serde::Serialize;

/// A messaging or social app, named like a channel. Skype previews count as
/// Teams (same fetcher); Threads and Instagram DMs unfurl with Facebook's
/// fetcher and so show up as Facebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    Slack,
    Whatsapp,
    Telegram,
    Discord,
    Facebook,
    Messenger,
    Instagram,
    Linkedin,
    X,
    Teams,
    Imessage,
    Signal,
    Snapchat,
    Line,
    Mastodon,
    Bluesky,
    Reddit,
    Pinterest,
    Viber,
    Wechat,
    Kakaotalk,
}

impl App {
    /// Every variant, in declaration order.
    pub const ALL: [App; 21] = [
        App::Slack,
        App::Whatsapp,
        App::Telegram,
        App::Discord,
        App::Facebook,
        App::Messenger,
        App::Instagram,
        App::Linkedin,
        App::X,
        App::Teams,
        App::Imessage,
        App::Signal,
        App::Snapchat,
        App::Line,
        App::Mastodon,
        App::Bluesky,
        App::Reddit,
        App::Pinterest,
        App::Viber,
        App::Wechat,
        App::Kakaotalk,
    ];

    /// Stable lower-case name, as stored in the database and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            App::Slack => "slack",
            App::Whatsapp => "whatsapp",
            App::Telegram => "telegram",
            App::Discord => "discord",
            App::Facebook => "facebook",
            App::Messenger => "messenger",
            App::Instagram => "instagram",
            App::Linkedin => "linkedin",
            App::X => "x",
            App::Teams => "teams",
            App::Imessage => "imessage",
            App::Signal => "signal",
            App::Snapchat => "snapchat",
            App::Line => "line",
            App::Mastodon => "mastodon",
            App::Bluesky => "bluesky",
            App::Reddit => "reddit",
            App::Pinterest => "pinterest",
            App::Viber => "viber",
            App::Wechat => "wechat",
            App::Kakaotalk => "kakaotalk",
        }
    }

    /// Reads back a name written by [`App::as_str`]; exact match only, so a
    /// typo in stored data surfaces instead of being guessed at.
    pub fn parse(s: &str) -> Option<App> {
        App::ALL.into_iter().find(|app| app.as_str() == s)
    }

    /// Name as the app spells it, for people.
    pub fn label(self) -> &'static str {
        match self {
            App::Slack => "Slack",
            App::Whatsapp => "WhatsApp",
            App::Telegram => "Telegram",
            App::Discord => "Discord",
            App::Facebook => "Facebook",
            App::Messenger => "Messenger",
            App::Instagram => "Instagram",
            App::Linkedin => "LinkedIn",
            App::X => "X",
            App::Teams => "Microsoft Teams",
            App::Imessage => "iMessage",
            App::Signal => "Signal",
            App::Snapchat => "Snapchat",
            App::Line => "LINE",
            App::Mastodon => "Mastodon",
            App::Bluesky => "Bluesky",
            App::Reddit => "Reddit",
            App::Pinterest => "Pinterest",
            App::Viber => "Viber",
            App::Wechat => "WeChat",
            App::Kakaotalk => "KakaoTalk",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_app_parses_back_from_its_name() {
        for app in App::ALL {
            assert_eq!(App::parse(app.as_str()), Some(app));
        }
    }

    #[test]
    fn names_are_unique_lower_case_and_serialized_as_is() {
        let mut seen = std::collections::HashSet::new();
        for app in App::ALL {
            let name = app.as_str();
            assert!(seen.insert(name), "duplicate name {name}");
            assert_eq!(name, name.to_ascii_lowercase());
            assert_eq!(serde_json::to_string(&app).unwrap(), format!("\"{name}\""));
            assert_eq!(app.to_string(), name);
        }
    }

    #[test]
    fn unknown_or_differently_cased_names_do_not_parse() {
        assert_eq!(App::parse(""), None);
        assert_eq!(App::parse("Slack"), None);
        assert_eq!(App::parse("skype"), None);
        assert_eq!(App::parse("twitter"), None);
    }

    proptest! {
        #[test]
        fn parse_accepts_only_names_that_as_str_produces(s in "\\PC{0,12}") {
            match App::parse(&s) {
                Some(app) => prop_assert_eq!(app.as_str(), s.as_str()),
                None => prop_assert!(App::ALL.iter().all(|a| a.as_str() != s)),
            }
        }

        #[test]
        fn round_trip_holds_for_any_variant(i in 0..App::ALL.len()) {
            let app = App::ALL[i];
            prop_assert_eq!(App::parse(app.as_str()), Some(app));
        }
    }
}
