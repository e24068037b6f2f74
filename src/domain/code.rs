//! Short codes: what may appear after the slash of a short link.
//!
//! Two ways to get one: `Code::generate` (random, case-sensitive) and `Slug::parse` (a marketer's
//! custom word, unique ignoring case). `Code::parse` accepts anything either could have produced,
//! so a malformed request is answered 404 without touching the cache or the database.

use std::fmt;

/// No `0 O 1 l I`: codes get read aloud, printed and retyped from posters.
pub const CODE_ALPHABET: [char; 57] = [
    '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'm', 'n', 'o', 'p',
    'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N',
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];
/// 57^8 ≈ 1.1e14 codes: see the README for the odds of guessing a live one.
pub const GENERATED_CODE_LEN: usize = 8;
pub const MAX_CODE_LEN: usize = 64;
pub const MIN_SLUG_LEN: usize = 3;

/// Paths a slug must never shadow, now or in a later release.
const RESERVED: &[&str] = &[
    "about",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "campaigns",
    "dashboard",
    "demo",
    "docs",
    "favicon.ico",
    "health",
    "healthz",
    "help",
    "links",
    "login",
    "logout",
    "metrics",
    "qr",
    "robots.txt",
    "settings",
    "setup",
    "share.js",
    "shares",
    "signin",
    "signout",
    "sites",
    "static",
    "stats",
    "users",
    "well-known",
];

/// Whether `word` names a path of sharetrail's own (ignoring case), which no slug may take.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(word))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a custom slug must be {MIN_SLUG_LEN} to {MAX_CODE_LEN} characters long")]
    Length,
    #[error("a custom slug may only hold the ASCII letters a-z, A-Z, digits, '-' and '_'")]
    Characters,
    #[error("'{0}' is reserved and cannot be used as a custom slug")]
    Reserved(String),
}

/// A syntactically possible short code: generated or custom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    pub fn parse(raw: &str) -> Option<Code> {
        let ok = !raw.is_empty() && raw.len() <= MAX_CODE_LEN && raw.bytes().all(is_code_byte);
        ok.then(|| Code(raw.to_owned()))
    }

    pub fn generate() -> Code {
        Code(nanoid::nanoid!(GENERATED_CODE_LEN, &CODE_ALPHABET))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `Code::generate` could have made this code: a code handed out earlier may be
    /// asked for again (a lost reservation), a word may not.
    pub fn looks_generated(&self) -> bool {
        self.0.len() == GENERATED_CODE_LEN && self.0.chars().all(|c| CODE_ALPHABET.contains(&c))
    }

    /// The key under which a custom slug is unique: slugs ignore case, generated codes do not.
    pub fn slug_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Slug> for Code {
    fn from(slug: Slug) -> Code {
        Code(slug.0)
    }
}

fn is_code_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A custom slug chosen by a person, kept in the case they typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Slug, SlugError> {
        if raw.len() < MIN_SLUG_LEN || raw.len() > MAX_CODE_LEN {
            return Err(SlugError::Length);
        }
        if !raw.bytes().all(is_code_byte) {
            return Err(SlugError::Characters);
        }
        if is_reserved(raw) {
            return Err(SlugError::Reserved(raw.to_owned()));
        }
        Ok(Slug(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_of_the_generated_shape_look_generated() {
        for _ in 0..100 {
            assert!(Code::generate().looks_generated());
        }
        for word in [
            "spring-poster",
            "Ab3dEf9",
            "Ab3dEf9xy",
            "Ab3dEf0x",
            "Ab3dEfIx",
            "Ab3d-f9x",
        ] {
            assert!(!Code::parse(word).unwrap().looks_generated(), "{word}");
        }
    }
    use proptest::prelude::*;

    #[test]
    fn generated_codes_avoid_lookalike_characters() {
        for _ in 0..200 {
            let code = Code::generate();
            assert_eq!(code.as_str().len(), GENERATED_CODE_LEN);
            assert!(!code.as_str().contains(['0', 'O', '1', 'l', 'I']), "{code}");
            assert!(Code::parse(code.as_str()).is_some());
        }
    }

    #[test]
    fn reserved_words_are_refused_in_any_case() {
        for word in ["api", "STATS", "Admin", "healthz", "metrics", "login", "demo", "static"] {
            assert!(matches!(Slug::parse(word), Err(SlugError::Reserved(_))), "{word}");
        }
    }

    #[test]
    fn slugs_keep_their_case_but_share_a_lowercase_key() {
        let slug = Slug::parse("Spring-Sale").unwrap();
        assert_eq!(slug.as_str(), "Spring-Sale");
        assert_eq!(Code::from(slug).slug_key(), "spring-sale");
    }

    #[test]
    fn path_tricks_are_not_codes() {
        for raw in ["", "a/b", "..", "a.b", "%2e", "ü-ber", "a b", &"x".repeat(65)] {
            assert!(Code::parse(raw).is_none(), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn any_valid_slug_is_a_valid_code(raw in "[A-Za-z0-9_-]{3,64}") {
            if let Ok(slug) = Slug::parse(&raw) {
                prop_assert!(Code::parse(slug.as_str()).is_some());
            }
        }

        #[test]
        fn slugs_with_foreign_characters_are_refused(
            prefix in "[a-z]{2,10}", bad in "[^A-Za-z0-9_-]", suffix in "[a-z]{0,10}",
        ) {
            let raw = format!("{prefix}{bad}{suffix}");
            prop_assert!(Slug::parse(&raw).is_err());
            prop_assert!(Code::parse(&raw).is_none());
        }

        #[test]
        fn code_parsing_never_panics(raw in ".{0,80}") {
            let _ = Code::parse(&raw);
            let _ = Slug::parse(&raw);
        }

        #[test]
        fn codes_and_slugs_round_trip_through_their_text(raw in "[A-Za-z0-9_./ -]{0,70}") {
            if let Some(code) = Code::parse(&raw) {
                prop_assert_eq!(code.as_str(), raw.as_str());
                prop_assert_eq!(Code::parse(code.as_str()), Some(code.clone()));
            }
            if let Ok(slug) = Slug::parse(&raw) {
                prop_assert_eq!(slug.as_str(), raw.as_str());
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
                prop_assert!(Slug::parse(&raw.to_ascii_uppercase()).is_ok());
            }
        }
    }
}
