//! The address-bar token. The share snippet keeps `#st=PARENT.TOKEN` in a page's URL and, when
//! someone opens a copy of it, posts PARENT and TOKEN to `/api/v1/public/arrivals`, where
//! `AddressBarToken::parse` and `Code::parse` read them. On arbitrary fragments (as given, and
//! behind `#st=`): the server's parsers never panic, accept only what is in shape, and accept
//! everything the snippet would send. The snippet's own patterns are the oracle, copied from
//! `assets/share.js` (`\w` in JavaScript is ASCII only).
#![no_main]

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use sharetrail::domain::address_bar::{AddressBarToken, MAX_TOKEN_LEN, MIN_TOKEN_LEN};
use sharetrail::domain::code::Code;
use std::sync::LazyLock;

/// `FRAG` in share.js.
static FRAGMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#st=(?:([A-Za-z0-9_-]{1,64})\.)?([A-Za-z0-9]{12})$").expect("pattern"));
/// `CODE` in share.js: what it keeps of `?st=` as the parent of the visitor's shares.
static CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,64}$").expect("pattern"));

fn check_token(raw: &str) {
    if let Some(token) = AddressBarToken::parse(raw) {
        let text = token.as_str();
        assert!((MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&text.len()), "{raw:?}");
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()), "{raw:?}");
        assert_eq!(text, raw.trim());
        assert_eq!(AddressBarToken::parse(text).as_ref(), Some(&token));
    }
}

fn check_fragment(fragment: &str) {
    // What the server does with the pieces of any fragment, however it is cut.
    let body = fragment.strip_prefix("#st=").unwrap_or(fragment);
    let (parent, token) = body.rsplit_once('.').map_or((None, body), |(p, t)| (Some(p), t));
    check_token(token);
    check_token(body);
    if let Some(parent) = parent {
        let _ = Code::parse(parent);
    }
    // What the snippet would send, the server must take.
    if let Some(m) = FRAGMENT.captures(fragment) {
        let token = AddressBarToken::parse(&m[2]).expect("the snippet's token is refused");
        assert_eq!(token.as_str(), &m[2]);
        if let Some(parent) = m.get(1) {
            assert!(
                Code::parse(parent.as_str()).is_some(),
                "the snippet's parent {:?} is refused",
                parent.as_str()
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    check_fragment(input);
    check_fragment(&format!("#st={input}"));
    // The snippet's and the server's idea of a share code are the same.
    assert_eq!(CODE.is_match(input), Code::parse(input).is_some(), "{input:?}");
});
