//! In-app browsers: a person tapped the link inside an app, which tells us
//! the channel the link travelled through.

use crate::domain::app::App;

/// In-app browser markers, first matching row wins.
///
/// Messenger and Instagram run inside Meta's browser shell and may carry the
/// same `FBAN`/`FBAV` tokens as Facebook, so they come before it. Markers are
/// matched case-sensitively with a version where one exists, so that `Line/`
/// cannot match `Linux` and `Telegram-Android/` cannot match `TelegramBot`.
pub(super) const IN_APP_BROWSERS: &[(&str, App)] = &[
    (
        r"FBAN/Messenger|MessengerForiOS|MessengerLiteForiOS|FB_IAB/Orca-Android|FB_IAB/MESSENGER",
        App::Messenger,
    ),
    (r"\bInstagram \d", App::Instagram),
    (r"FBAN/|FBAV/|FB_IAB/|\bFBIOS\b", App::Facebook),
    (r"LinkedInApp", App::Linkedin),
    (r"Telegram-Android/|\bTelegram/\d", App::Telegram),
    (r"\bLine/\d", App::Line),
    (r"Snapchat/\d", App::Snapchat),
    (r"Twitter for iP(?:hone|ad)|TwitterAndroid", App::X),
    (r"\[Pinterest/(?:iOS|Android)\]|Pinterest for Android", App::Pinterest),
    (r"MicroMessenger/", App::Wechat),
    (r"KAKAOTALK", App::Kakaotalk),
    (r"Viber/\d", App::Viber),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::table::AppTable;

    fn app_of(ua: &str) -> Option<App> {
        AppTable::new(IN_APP_BROWSERS).unwrap().first_match(ua)
    }

    #[test]
    fn linux_and_telegram_bot_do_not_look_like_in_app_browsers() {
        let linux = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
        assert_eq!(app_of(linux), None);
        assert_eq!(app_of("TelegramBot (like TwitterBot)"), None);
        assert_eq!(app_of("LinkedInBot/1.0 (compatible; Mozilla/5.0)"), None);
    }

    #[test]
    fn messenger_wins_over_the_facebook_tokens_it_carries() {
        let ua = "Mozilla/5.0 (Linux; Android 12; Pixel 6 Build/SQ3A.220705.004; wv) \
            AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/104.0.5112.97 \
            Mobile Safari/537.36 [FB_IAB/Orca-Android;FBAV/376.0.0.12.108;]";
        assert_eq!(app_of(ua), Some(App::Messenger));
    }

    #[test]
    fn wechat_is_not_taken_for_messenger() {
        let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
            (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI";
        assert_eq!(app_of(ua), Some(App::Wechat));
    }
}
