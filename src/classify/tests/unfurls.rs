//! Link-preview fetchers become unfurls of their app.

use super::*;

#[test]
fn imessage_preview_is_the_facebookexternalhit_facebot_twitterbot_triple() {
    assert_unfurl(IMESSAGE, App::Imessage);
}

#[test]
fn facebook_preview_is_facebookexternalhit() {
    assert_unfurl(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        App::Facebook,
    );
    assert_unfurl("facebookexternalhit/1.1", App::Facebook);
    assert_unfurl(
        "Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook",
        App::Facebook,
    );
}

#[test]
fn whatsapp_preview_carries_a_version() {
    assert_unfurl("WhatsApp/2.23.20.0 A", App::Whatsapp);
    assert_unfurl("WhatsApp/2.23.18.78 i", App::Whatsapp);
    assert_unfurl("WhatsApp/2.2337.7 W", App::Whatsapp);
}

#[test]
fn signal_preview_is_a_bare_whatsapp_agent() {
    assert_unfurl("WhatsApp", App::Signal);
    assert_unfurl("WhatsApp ", App::Signal);
}

#[test]
fn teams_previews_are_skype_uri_preview_and_microsoft_preview() {
    assert_unfurl(
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
        App::Teams,
    );
    assert_unfurl("MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview", App::Teams);
}

#[test]
fn slack_previews_are_slackbot_link_expanding_and_slack_imgproxy() {
    assert_unfurl("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", App::Slack);
    assert_unfurl("Slack-ImgProxy (+https://api.slack.com/robots)", App::Slack);
}

#[test]
fn telegram_preview_is_telegrambot_even_though_it_mentions_twitterbot() {
    assert_unfurl("TelegramBot (like TwitterBot)", App::Telegram);
}

#[test]
fn discord_preview_is_discordbot() {
    assert_unfurl(
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        App::Discord,
    );
}

#[test]
fn linkedin_preview_is_linkedinbot() {
    assert_unfurl(
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        App::Linkedin,
    );
}

#[test]
fn x_preview_is_a_lone_twitterbot() {
    assert_unfurl("Twitterbot/1.0", App::X);
}

#[test]
fn snapchat_preview_is_the_snap_url_preview_service() {
    assert_unfurl(
        "Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots",
        App::Snapchat,
    );
    assert_unfurl(
        "Mozilla/5.0 (compatible; SnapURLPreview/1.0; +https://www.snapchat.com)",
        App::Snapchat,
    );
}

#[test]
fn line_and_kakaotalk_previews_are_facebookexternalhit_with_their_own_token() {
    assert_unfurl("facebookexternalhit/1.1;line-poker/1.0", App::Line);
    assert_unfurl(
        "facebookexternalhit/1.1; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/t/scrap/33984",
        App::Kakaotalk,
    );
}

#[test]
fn mastodon_preview_names_mastodon_in_its_http_client_agent() {
    assert_unfurl(
        "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
        App::Mastodon,
    );
}

#[test]
fn bluesky_reddit_pinterest_and_viber_previews_are_their_apps() {
    assert_unfurl(
        "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
        App::Bluesky,
    );
    assert_unfurl(
        "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
        App::Reddit,
    );
    assert_unfurl(
        "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
        App::Pinterest,
    );
    assert_unfurl("Viber", App::Viber);
}

#[test]
fn embedding_services_are_bots_not_apps() {
    assert_bot("Iframely/1.3.1 (+https://iframely.com/docs/about) Atlassian");
    assert_bot("Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)");
}
