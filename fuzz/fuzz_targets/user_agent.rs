//! The redirect's visitor classifier (`Classifier::classify`, with `is_prefetch` for the request
//! headers) on arbitrary agents: never panics, is deterministic (a second classifier with its
//! own caches, and the same classifier again from its caches, say the same), ignores the
//! whitespace around an agent, and keeps its own rules: a HEAD or prefetch is never a click, an
//! unfurl names its app and comes from a bot device, a click never does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharetrail::classify::{Classifier, Verdict, VisitSignals, is_prefetch};
use sharetrail::domain::visit::{DeviceClass, VisitKind};
use std::sync::LazyLock;

static FIRST: LazyLock<Classifier> = LazyLock::new(|| Classifier::from_vendored_data().expect("vendored data"));
static SECOND: LazyLock<Classifier> = LazyLock::new(|| Classifier::from_vendored_data().expect("vendored data"));

/// The input's first byte holds flags (bit 0: HEAD; bits 1 to 3: whether `Sec-Purpose`,
/// `Purpose` and `X-Moz` are present); the rest is the user agent and then those headers'
/// values, cut at NUL bytes.
#[derive(Debug)]
struct Input<'a> {
    user_agent: &'a str,
    is_head: bool,
    sec_purpose: Option<&'a str>,
    purpose: Option<&'a str>,
    x_moz: Option<&'a str>,
}

impl<'a> Input<'a> {
    fn read(data: &'a [u8]) -> Option<Input<'a>> {
        let (&flags, rest) = data.split_first()?;
        let mut parts = std::str::from_utf8(rest).ok()?.split('\0');
        let user_agent = parts.next().unwrap_or_default();
        let mut header = |bit: u8| {
            let value = parts.next().unwrap_or_default();
            (flags & (1 << bit) != 0).then_some(value)
        };
        Some(Input {
            user_agent,
            is_head: flags & 1 != 0,
            sec_purpose: header(1),
            purpose: header(2),
            x_moz: header(3),
        })
    }
}

fn check(verdict: &Verdict, signals: &VisitSignals<'_>) {
    if signals.is_head || signals.is_prefetch {
        assert_ne!(verdict.kind, VisitKind::Click, "{signals:?}: {verdict:?}");
    }
    match verdict.kind {
        VisitKind::Unfurl => {
            assert!(verdict.app.is_some(), "{signals:?}: {verdict:?}");
            assert_eq!(verdict.device, DeviceClass::Bot, "{signals:?}: {verdict:?}");
        }
        VisitKind::Click => assert_ne!(verdict.device, DeviceClass::Bot, "{signals:?}: {verdict:?}"),
        VisitKind::Bot => assert!(verdict.app.is_none(), "{signals:?}: {verdict:?}"),
    }
    assert_eq!(
        verdict.browser().is_some() || verdict.os().is_some(),
        verdict.software.is_some()
    );
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::read(data) else {
        return;
    };
    let prefetch = is_prefetch(input.sec_purpose, input.purpose, input.x_moz);
    assert_eq!(prefetch, is_prefetch(input.sec_purpose, input.purpose, input.x_moz));
    // Each header speaks for itself: a prefetch is named by any one of them.
    let alone = is_prefetch(input.sec_purpose, None, None)
        || is_prefetch(None, input.purpose, None)
        || is_prefetch(None, None, input.x_moz);
    assert_eq!(prefetch, alone, "{input:?}");

    let signals = VisitSignals {
        user_agent: input.user_agent,
        is_head: input.is_head,
        is_prefetch: prefetch,
    };
    let first = FIRST.classify(&signals);
    check(&first, &signals);
    assert_eq!(
        FIRST.classify(&signals),
        first,
        "{signals:?}: not the same from the cache"
    );
    assert_eq!(
        SECOND.classify(&signals),
        first,
        "{signals:?}: another classifier disagrees"
    );

    let padded = format!(" \t{}\r\n ", input.user_agent);
    let padded_signals = VisitSignals {
        user_agent: &padded,
        ..signals
    };
    assert_eq!(
        SECOND.classify(&padded_signals),
        first,
        "{signals:?}: surrounding whitespace matters"
    );

    // The same agent as a plain GET: the agent's own verdict, which HEAD and prefetch only demote.
    let plain = VisitSignals {
        is_head: false,
        is_prefetch: false,
        ..signals
    };
    let own = FIRST.classify(&plain);
    check(&own, &plain);
    assert_eq!(own.device, first.device);
    assert_eq!(own.software, first.software);
    if own.kind != VisitKind::Click {
        assert_eq!(own, first, "{signals:?}: only a click is demoted by HEAD or prefetch");
    }
});
