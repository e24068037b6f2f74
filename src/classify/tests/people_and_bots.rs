//! In-app browsers and ordinary browsers are people; listed crawlers are bots.

use super::*;

#[test]
fn facebook_and_messenger_in_app_browsers_are_clicks() {
    assert_click(
        "Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/442.0.0.33.113;]",
        Some(App::Facebook),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.53.106;FBBV/541161937;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        Some(App::Facebook),
    );
    assert_click(
        "Mozilla/5.0 (Linux; Android 12; Pixel 6 Build/SQ3A.220705.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/104.0.5112.97 Mobile Safari/537.36 [FB_IAB/Orca-Android;FBAV/376.0.0.12.108;]",
        Some(App::Messenger),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 LightSpeed [FBAN/MessengerLiteForiOS;FBAV/424.0.0.24.106;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/0]",
        Some(App::Messenger),
    );
}

#[test]
fn instagram_and_linkedin_in_app_browsers_are_clicks() {
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 302.0.0.23.114 (iPhone14,2; iOS 17_0; en_US; en; scale=3.00; 1170x2532; 513227452)",
        Some(App::Instagram),
    );
    assert_click(
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36 Instagram 309.1.0.41.113 Android (34/14; 480dpi; 1080x2115; samsung; SM-S918B; dm3q; qcom; en_GB; 541635863)",
        Some(App::Instagram),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.2350",
        Some(App::Linkedin),
    );
}

#[test]
fn messaging_in_app_browsers_are_clicks() {
    assert_click(
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.163 Mobile Safari/537.36 Telegram-Android/10.0.5 (Google Pixel 7; Android 13; SDK 33; AVERAGE)",
        Some(App::Telegram),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.16.0",
        Some(App::Line),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/12.56.0.36 (like Safari/8617.1.17.10.9, panda)",
        Some(App::Snapchat),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN",
        Some(App::Wechat),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.3.5",
        Some(App::Kakaotalk),
    );
}

#[test]
fn social_in_app_browsers_are_clicks() {
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/9.61",
        Some(App::X),
    );
    assert_click(
        "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 TwitterAndroid",
        Some(App::X),
    );
    assert_click(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
        Some(App::Pinterest),
    );
}

#[test]
fn a_crawler_dressed_as_an_in_app_browser_is_still_a_bot() {
    assert_bot(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Mobile/11A465 Twitter for iPhone BrandVerity/1.0 (http://www.brandverity.com/why-is-brandverity-visiting-me)",
    );
}

#[test]
fn crawler_patterns_naming_an_app_or_a_phone_build_do_not_catch_its_users() {
    assert_click(
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36 Viber/21.6.0.2",
        Some(App::Viber),
    );
    assert_click(
        "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36 Instagram 406.0.0.58.159 Android (35/15; 480dpi; 1080x2400; OPPO; CPH2557; OP573DL1; mt6833; en_MY; 822918295; IABMV/1) NV/1",
        Some(App::Instagram),
    );
    assert_click(
        "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36",
        None,
    );
}

#[test]
fn ordinary_desktop_and_mobile_browsers_are_clicks_without_an_app() {
    for ua in [
        DESKTOP_CHROME,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        IPHONE_SAFARI,
        IPAD_SAFARI,
        ANDROID_CHROME,
        ANDROID_TABLET_CHROME,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    ] {
        assert_click(ua, None);
    }
}

#[test]
fn search_engine_crawlers_are_bots() {
    assert_bot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    assert_bot(
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    );
    assert_bot("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)");
    assert_eq!(
        get("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)").device,
        DeviceClass::Bot
    );
}

#[test]
fn curl_wget_and_python_requests_are_bots_because_the_list_names_them() {
    assert_bot("curl/8.5.0");
    assert_bot("Wget/1.21.4");
    assert_bot("python-requests/2.31.0");
}

#[test]
fn no_agent_from_the_crawler_list_examples_counts_as_a_click() {
    let entries: Vec<serde_json::Value> = serde_json::from_str(crawlers::CRAWLER_USER_AGENTS_JSON).unwrap();
    let clicks: Vec<String> = entries
        .iter()
        .filter(|entry| {
            let pattern = entry["pattern"].as_str().unwrap_or_default();
            !crawlers::IGNORED_PATTERNS.contains(&pattern)
        })
        .flat_map(|entry| entry["instances"].as_array().into_iter().flatten())
        .filter_map(|instance| instance.as_str())
        .filter(|ua| get(ua).kind == VisitKind::Click)
        .map(str::to_owned)
        .collect();
    assert!(clicks.is_empty(), "counted as clicks: {clicks:#?}");
}
