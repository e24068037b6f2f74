//! Destinations: the only URLs sharetrail will ever redirect to.

use std::fmt;
use url::Url;

pub const MAX_DESTINATION_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("the URL is longer than {MAX_DESTINATION_LEN} characters")]
    TooLong,
    #[error("the URL is not a valid absolute URL")]
    Malformed,
    #[error("only http and https URLs can be shortened")]
    Scheme,
    #[error("the URL needs a host name")]
    NoHost,
    #[error("URLs with a user name or password are refused")]
    Credentials,
}

/// An absolute http(s) URL with a host, no credentials, at most 2,048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination(Url);

impl Destination {
    pub fn parse(raw: &str) -> Result<Destination, DestinationError> {
        let raw = raw.trim();
        if raw.len() > MAX_DESTINATION_LEN {
            return Err(DestinationError::TooLong);
        }
        let url = Url::parse(raw).map_err(|_| DestinationError::Malformed)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DestinationError::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(DestinationError::NoHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(DestinationError::Credentials);
        }
        // Normalisation may lengthen it (punycode, percent-encoding): the limit holds for what we store.
        if url.as_str().len() > MAX_DESTINATION_LEN {
            return Err(DestinationError::TooLong);
        }
        Ok(Destination(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The page itself, as a site's share buttons identify it: no fragment, and none of the
    /// tags sharetrail's own redirects add (`st`, `utm_*`), so a landing page and the same page
    /// reached directly are one link. Other parameters stay byte for byte.
    pub fn page(&self) -> Destination {
        let mut url = self.0.clone();
        url.set_fragment(None);
        let kept: Vec<&str> = self
            .0
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or_default().to_ascii_lowercase();
                !pair.is_empty() && key != "st" && !key.starts_with("utm_")
            })
            .collect();
        url.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
        Destination(url)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_web_pages_are_destinations() {
        let dest = Destination::parse("https://example.com/post?id=7#top").unwrap();
        assert_eq!(dest.as_str(), "https://example.com/post?id=7#top");
        assert_eq!(dest.host(), "example.com");
    }

    #[test]
    fn each_bad_shape_gets_its_own_reason() {
        let cases = [
            ("javascript:alert(1)", DestinationError::Scheme),
            ("ftp://example.com/file", DestinationError::Scheme),
            ("data:text/html,hi", DestinationError::Scheme),
            ("https://user:pw@example.com/", DestinationError::Credentials),
            ("https://user@example.com/", DestinationError::Credentials),
            ("example.com/no-scheme", DestinationError::Malformed),
            ("https://", DestinationError::Malformed),
            ("", DestinationError::Malformed),
        ];
        for (raw, want) in cases {
            assert_eq!(Destination::parse(raw), Err(want), "{raw}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(Destination::parse(&long), Err(DestinationError::TooLong));
    }

    #[test]
    fn a_page_is_its_url_without_fragment_and_sharetrail_tags() {
        let landing =
            Destination::parse("https://e.com/p?id=7&utm_source=whatsapp&st=AbCd2345&x=a%20b#st=tok").unwrap();
        assert_eq!(landing.page().as_str(), "https://e.com/p?id=7&x=a%20b");
        let plain = Destination::parse("https://e.com/p?st=AbCd2345").unwrap();
        assert_eq!(plain.page().as_str(), "https://e.com/p");
    }

    #[test]
    fn a_url_of_exactly_the_limit_is_accepted() {
        let prefix = "https://example.com/";
        let raw = format!("{prefix}{}", "a".repeat(MAX_DESTINATION_LEN - prefix.len()));
        assert!(Destination::parse(&raw).is_ok());
    }

    proptest! {
        #[test]
        fn an_http_url_with_a_host_parses_and_keeps_scheme_and_host(
            scheme in "https?",
            host in "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.[a-z]{2,6}",
            path in "(/[a-zA-Z0-9._~-]{0,12}){0,4}",
        ) {
            let dest = Destination::parse(&format!("{scheme}://{host}{path}"));
            prop_assert!(dest.is_ok(), "{:?}", dest);
            let dest = dest.unwrap();
            prop_assert_eq!(dest.url().scheme(), scheme.as_str());
            prop_assert_eq!(dest.host(), host.as_str());
            prop_assert!(dest.as_str().len() <= MAX_DESTINATION_LEN);
        }

        #[test]
        fn other_schemes_credentials_and_hostless_urls_are_refused(
            raw in "(ftp|javascript|file|data|mailto)://[a-z]{1,10}\\.[a-z]{2,4}/[a-z]{0,10}\
                    |https?://[a-z]{1,8}(:[a-z]{0,8})?@[a-z]{1,10}\\.[a-z]{2,4}/\
                    |https?://(:[0-9]{1,4})?/?",
        ) {
            let parsed = Destination::parse(&raw);
            prop_assert!(parsed.is_err(), "{} parsed as {:?}", raw, parsed);
        }

        #[test]
        fn destination_parsing_never_panics(raw in ".{0,300}") {
            let _ = Destination::parse(&raw);
        }

        #[test]
        fn a_destination_and_its_page_parse_back_to_themselves(
            raw in "\\s?https?://[a-zA-Z0-9.é-]{1,15}(:[0-9]{1,5})?(/[ -~é]{0,20})?(\\?[a-zA-Z_=&%;+]{0,20})?(#[ -~]{0,10})?",
        ) {
            if let Ok(dest) = Destination::parse(&raw) {
                prop_assert_eq!(Destination::parse(dest.as_str()), Ok(dest.clone()));
                let page = dest.page();
                prop_assert_eq!(Destination::parse(page.as_str()), Ok(page.clone()));
                prop_assert_eq!(page.page(), page.clone());
                prop_assert!(page.url().fragment().is_none());
                prop_assert_eq!(page.host(), dest.host());
            }
        }
    }
}
