//! Request-level rules, device classes and the cache.

use super::*;

#[test]
fn empty_or_blank_user_agent_is_a_bot() {
    for ua in ["", "   "] {
        let verdict = get(ua);
        assert_eq!((verdict.kind, verdict.device), (VisitKind::Bot, DeviceClass::Bot));
    }
}

#[test]
fn head_and_prefetch_requests_from_browsers_are_never_clicks() {
    for (is_head, is_prefetch) in [(true, false), (false, true), (true, true)] {
        for ua in [
            DESKTOP_CHROME,
            IPHONE_SAFARI,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 302.0.0.23.114",
        ] {
            let verdict = classifier().classify(&VisitSignals {
                user_agent: ua,
                is_head,
                is_prefetch,
            });
            assert_eq!((verdict.kind, verdict.app), (VisitKind::Bot, None), "{ua}");
        }
    }
}

#[test]
fn head_from_a_preview_fetcher_stays_an_unfurl_of_its_app() {
    let verdict = classifier().classify(&VisitSignals {
        user_agent: "WhatsApp/2.23.20.0 A",
        is_head: true,
        is_prefetch: false,
    });
    assert_eq!((verdict.kind, verdict.app), (VisitKind::Unfurl, Some(App::Whatsapp)));
    let verdict = classifier().classify(&VisitSignals {
        user_agent: "curl/8.5.0",
        is_head: true,
        is_prefetch: false,
    });
    assert_eq!(verdict.kind, VisitKind::Bot);
}

#[test]
fn prefetch_is_read_from_sec_purpose_purpose_or_x_moz() {
    assert!(is_prefetch(Some("prefetch"), None, None));
    assert!(is_prefetch(Some("prefetch;prerender"), None, None));
    assert!(is_prefetch(Some("prefetch;anonymous-client-ip"), None, None));
    assert!(is_prefetch(None, Some("prefetch"), None));
    assert!(is_prefetch(None, None, Some("Prefetch")));
    assert!(!is_prefetch(None, None, None));
    assert!(!is_prefetch(Some(""), Some("navigate"), Some("")));
}

#[test]
fn an_iphone_is_mobile_safari_on_ios() {
    let verdict = get(IPHONE_SAFARI);
    assert_eq!(verdict.device, DeviceClass::Mobile);
    assert_eq!(verdict.browser(), Some("Mobile Safari"));
    assert_eq!(verdict.os(), Some("iOS"));
}

#[test]
fn an_ipad_and_an_android_tablet_are_tablets() {
    assert_eq!(get(IPAD_SAFARI).device, DeviceClass::Tablet);
    assert_eq!(get(ANDROID_TABLET_CHROME).device, DeviceClass::Tablet);
}

#[test]
fn an_android_phone_is_mobile_chrome_on_android() {
    let verdict = get(ANDROID_CHROME);
    assert_eq!(verdict.device, DeviceClass::Mobile);
    assert_eq!(verdict.browser(), Some("Chrome Mobile"));
    assert_eq!(verdict.os(), Some("Android"));
}

#[test]
fn desktop_chrome_is_desktop() {
    let verdict = get(DESKTOP_CHROME);
    assert_eq!(verdict.device, DeviceClass::Desktop);
    assert_eq!(verdict.browser(), Some("Chrome"));
    assert_eq!(verdict.os(), Some("Windows"));
}

#[test]
fn unfurls_and_bots_have_the_bot_device_class() {
    assert_eq!(get(IMESSAGE).device, DeviceClass::Bot);
    assert_eq!(get("curl/8.5.0").device, DeviceClass::Bot);
}

#[test]
fn a_repeated_user_agent_gets_the_same_verdict_from_the_cache() {
    let classifier = Classifier::from_vendored_data().unwrap();
    let signals = VisitSignals {
        user_agent: ANDROID_CHROME,
        is_head: false,
        is_prefetch: false,
    };
    let first = classifier.classify(&signals);
    let second = classifier.classify(&signals);
    assert_eq!(first, second);
    assert_eq!(classifier.cached_agents(), 1);
    // The cache holds the agent, not the request: a HEAD of a cached agent is still no click.
    let head = classifier.classify(&VisitSignals {
        is_head: true,
        ..signals
    });
    assert_eq!(head.kind, VisitKind::Bot);
    assert_eq!(classifier.cached_agents(), 1);
}

#[test]
fn each_thread_remembers_a_bounded_number_of_agents_and_forgets_none_wrongly() {
    let classifier = Classifier::from_vendored_data().unwrap();
    let remembered = || RECENT.with_borrow(|recent| recent.profiles.len());
    let first = get(IPHONE_SAFARI);
    for n in 0..RECENT_PER_THREAD * 3 {
        let verdict = classifier.classify(&VisitSignals {
            user_agent: &format!("{ANDROID_CHROME} build/{n}"),
            is_head: false,
            is_prefetch: false,
        });
        assert_eq!((verdict.kind, verdict.device), (VisitKind::Click, DeviceClass::Mobile));
        assert!((1..=RECENT_PER_THREAD).contains(&remembered()), "{}", remembered());
    }
    // Another classifier on the same thread starts the memo over; answers do not change.
    assert_eq!(get(IPHONE_SAFARI), first);
    assert_eq!(remembered(), 1);
    assert_eq!(get(DESKTOP_CHROME).browser(), Some("Chrome"));
}

#[test]
fn oversized_agents_are_classified_from_their_first_kilobyte() {
    let ua = format!("{DESKTOP_CHROME} {}", "é".repeat(2_000));
    assert_eq!(get(&ua).kind, VisitKind::Click);
    assert_eq!(truncate(&ua, MAX_USER_AGENT_BYTES).len(), MAX_USER_AGENT_BYTES);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn agent() -> impl Strategy<Value = String> {
        let real = prop::sample::select(vec![IPHONE_SAFARI, ANDROID_CHROME, DESKTOP_CHROME, IMESSAGE, ""]);
        (
            real,
            "[ -~]{0,40}",
            prop::sample::select(vec!["", " Googlebot/2.1", " WhatsApp/2.23", " Instagram 302.0"]),
        )
            .prop_map(|(real, noise, tail)| format!("{real}{noise}{tail}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn verdicts_are_deterministic_and_keep_the_rules(ua in agent(), is_head: bool, is_prefetch: bool) {
            let signals = VisitSignals { user_agent: &ua, is_head, is_prefetch };
            let verdict = classifier().classify(&signals);
            prop_assert_eq!(&classifier().classify(&signals), &verdict);
            let padded = format!("  {ua}\t");
            prop_assert_eq!(&classifier().classify(&VisitSignals { user_agent: &padded, ..signals }), &verdict);
            if is_head || is_prefetch {
                prop_assert_ne!(verdict.kind, VisitKind::Click);
            }
            match verdict.kind {
                VisitKind::Unfurl => prop_assert!(verdict.app.is_some() && verdict.device == DeviceClass::Bot),
                VisitKind::Click => prop_assert_ne!(verdict.device, DeviceClass::Bot),
                VisitKind::Bot => prop_assert!(verdict.app.is_none()),
            }
        }
    }
}
