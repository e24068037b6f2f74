//! `Destination::parse` on arbitrary text: never panics, and whatever it accepts keeps the
//! type's promise (an absolute http(s) URL with a host, no credentials, at most 2,048
//! characters) and is stable: its text parses back to the same destination, and so does its page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharetrail::domain::destination::{Destination, MAX_DESTINATION_LEN};

fn assert_promise(dest: &Destination, input: &str) {
    let url = dest.url();
    assert!(matches!(url.scheme(), "http" | "https"), "{input:?} -> {dest}");
    assert!(!dest.host().is_empty(), "{input:?} -> {dest}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{input:?} -> {dest}"
    );
    assert!(dest.as_str().len() <= MAX_DESTINATION_LEN, "{input:?} -> {dest}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dest) = Destination::parse(input) else {
        return;
    };
    assert_promise(&dest, input);
    let again = Destination::parse(dest.as_str());
    assert_eq!(again.as_ref(), Ok(&dest), "{input:?} does not re-parse to itself");

    // The page a share is keyed on: still a destination, without fragment, `st` or `utm_*`,
    // and taking the page of a page changes nothing.
    let page = dest.page();
    assert_promise(&page, input);
    assert!(page.url().fragment().is_none(), "{input:?} -> {page}");
    // Keys as written (sharetrail's redirects write them plainly), as the snippet compares them.
    for pair in page.url().query().unwrap_or_default().split('&') {
        let key = pair.split('=').next().unwrap_or_default().to_ascii_lowercase();
        assert!(key != "st" && !key.starts_with("utm_"), "{input:?} -> {page}");
    }
    assert_eq!(page.page(), page, "{input:?}: page is not idempotent");
    assert_eq!(
        Destination::parse(page.as_str()).as_ref(),
        Ok(&page),
        "{input:?}: page does not re-parse"
    );
    assert_eq!(page.host(), dest.host());
});
