//! Behaviour of the whole classifier on real-world user agents.

use std::sync::OnceLock;

use super::*;

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::from_vendored_data().unwrap())
}

fn get(user_agent: &str) -> Verdict {
    classifier().classify(&VisitSignals {
        user_agent,
        is_head: false,
        is_prefetch: false,
    })
}

#[track_caller]
fn assert_unfurl(user_agent: &str, app: App) {
    let verdict = get(user_agent);
    assert_eq!(
        (verdict.kind, verdict.app, verdict.device),
        (VisitKind::Unfurl, Some(app), DeviceClass::Bot),
        "{user_agent}"
    );
}

#[track_caller]
fn assert_click(user_agent: &str, app: Option<App>) {
    let verdict = get(user_agent);
    assert_eq!((verdict.kind, verdict.app), (VisitKind::Click, app), "{user_agent}");
}

#[track_caller]
fn assert_bot(user_agent: &str) {
    let verdict = get(user_agent);
    assert_eq!((verdict.kind, verdict.app), (VisitKind::Bot, None), "{user_agent}");
}

const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";
const IPAD_SAFARI: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const ANDROID_CHROME: &str =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const ANDROID_TABLET_CHROME: &str =
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const DESKTOP_CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IMESSAGE: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0";

mod people_and_bots;
mod requests_and_devices;
mod unfurls;
