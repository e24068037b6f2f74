//! `Code::parse` and `Slug::parse` on arbitrary text: never panic; what they accept is in shape
//! and round-trips through `as_str`; every slug is a code; the slug key ignores case only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharetrail::domain::code::{Code, GENERATED_CODE_LEN, MAX_CODE_LEN, MIN_SLUG_LEN, Slug, SlugError, is_reserved};

fn code_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    match Code::parse(input) {
        Some(code) => {
            assert_eq!(code.as_str(), input);
            assert!((1..=MAX_CODE_LEN).contains(&input.len()), "{input:?}");
            assert!(input.bytes().all(code_byte), "{input:?}");
            assert_eq!(Code::parse(code.as_str()).as_ref(), Some(&code));
            assert_eq!(code.to_string(), input);
            assert_eq!(code.slug_key(), input.to_ascii_lowercase());
            if code.looks_generated() {
                assert_eq!(input.len(), GENERATED_CODE_LEN);
                assert!(!input.contains(['0', 'O', '1', 'l', 'I']), "{input:?}");
            }
        }
        None => assert!(input.is_empty() || input.len() > MAX_CODE_LEN || !input.bytes().all(code_byte)),
    }

    match Slug::parse(input) {
        Ok(slug) => {
            assert_eq!(slug.as_str(), input);
            assert!((MIN_SLUG_LEN..=MAX_CODE_LEN).contains(&input.len()), "{input:?}");
            assert!(!is_reserved(input), "{input:?}");
            assert_eq!(Slug::parse(slug.as_str()).as_ref(), Ok(&slug));
            let code = Code::parse(slug.as_str()).expect("every slug is a code");
            assert_eq!(Code::from(slug), code);
            // A slug in other case is the same slug key, and as free (reserved words ignore case).
            let upper = input.to_ascii_uppercase();
            assert!(Slug::parse(&upper).is_ok(), "{input:?}");
            assert_eq!(Code::parse(&upper).expect("a code").slug_key(), code.slug_key());
        }
        Err(SlugError::Reserved(word)) => {
            assert_eq!(word, input);
            assert!(is_reserved(input) && is_reserved(&input.to_ascii_uppercase()));
        }
        Err(SlugError::Length) => assert!(!(MIN_SLUG_LEN..=MAX_CODE_LEN).contains(&input.len())),
        Err(SlugError::Characters) => assert!(!input.bytes().all(code_byte)),
    }
});
