//! Link-preview fetchers of messaging and social apps.
//!
//! A preview is evidence that the link was pasted into that app, even when
//! nobody clicks it, so these agents are recorded as unfurls of the app
//! rather than lumped in with other bots.

use crate::domain::app::App;

/// Preview fetchers, most specific first: the first matching row wins.
///
/// Order matters because several fetchers impersonate others to be served
/// the same Open Graph tags: Apple's iMessage sends
/// `facebookexternalhit/1.1 Facebot Twitterbot/1.0`, LINE and KakaoTalk add
/// their own token after `facebookexternalhit/1.1`, Telegram says
/// `TelegramBot (like TwitterBot)`, and Signal sends a bare `WhatsApp`. Each
/// impersonator therefore sits above the app it imitates.
///
/// Generic embedding services (Iframely, Embedly, …) are not here: they do
/// not say which app asked, so the crawler list counts them as bots.
pub(super) const PREVIEW_BOTS: &[(&str, App)] = &[
    (r"facebookexternalhit/\S+ Facebot Twitterbot/", App::Imessage),
    (r"line-poker/", App::Line),
    (r"kakaotalk-scrap/", App::Kakaotalk),
    // Meta's newer fetcher looks like the Android in-app browser minus the
    // `[FB_IAB/…;FBAV/…]` block, and ends with this token.
    (r"facebookexternalhit|\bFacebot\b|MetaIAB Facebook$", App::Facebook),
    (r"WhatsApp/\d", App::Whatsapp),
    // Signal's agent is `WhatsApp` with no version; anchored so that a
    // browser agent merely mentioning WhatsApp is not taken for Signal.
    (r"^WhatsApp(?:$|[^/]|/[^0-9])", App::Signal),
    // Skype's fetcher is reused by Teams; MicrosoftPreview is its successor.
    (r"SkypeUriPreview|MicrosoftPreview/", App::Teams),
    (r"Slackbot|Slack-ImgProxy", App::Slack),
    (r"TelegramBot", App::Telegram),
    (r"Discordbot", App::Discord),
    (r"LinkedInBot", App::Linkedin),
    (r"Twitterbot", App::X),
    (r"Snap URL Preview Service|SnapURLPreview/", App::Snapchat),
    // Mastodon servers fetch through http.rb: `http.rb/5.1.1 (Mastodon/4.2.1; +https://host/)`.
    (r"\(Mastodon/\d", App::Mastodon),
    (r"Bluesky Cardyb/|BlueskyPreviewBot/", App::Bluesky),
    (r"redditbot/", App::Reddit),
    (r"(?i:pinterestbot)|pinterest\.com/bot", App::Pinterest),
    // Viber's fetcher sends just `Viber`; its in-app browser says `Viber/x.y`.
    (r"^Viber(?:$|[^/])", App::Viber),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::table::AppTable;

    fn app_of(ua: &str) -> Option<App> {
        AppTable::new(PREVIEW_BOTS).unwrap().first_match(ua)
    }

    #[test]
    fn impersonators_win_over_the_fetchers_they_imitate() {
        let imessage = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 \
            (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0";
        assert_eq!(app_of(imessage), Some(App::Imessage));
        assert_eq!(app_of("facebookexternalhit/1.1;line-poker/1.0"), Some(App::Line));
        assert_eq!(app_of("TelegramBot (like TwitterBot)"), Some(App::Telegram));
        assert_eq!(app_of("WhatsApp"), Some(App::Signal));
    }

    #[test]
    fn a_browser_mentioning_whatsapp_or_viber_is_not_a_preview_of_signal_or_viber() {
        let ua = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36 WhatsApp";
        assert_eq!(app_of(ua), None);
        assert_eq!(app_of("Mozilla/5.0 (Linux; Android 14) Viber/21.6.0.2"), None);
    }

    #[test]
    fn the_meta_fetcher_token_only_counts_at_the_end_of_the_agent() {
        let in_app = "Mozilla/5.0 (Linux; Android 16; wv) Chrome/146.0 Mobile Safari/537.36 \
            MetaIAB Facebook [FB_IAB/FB4A;FBAV/520.0.0.1;]";
        assert_eq!(app_of(in_app), None);
    }
}
