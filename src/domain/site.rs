//! Sites: where the share buttons live, and what a publishable key may do there.

use super::destination::Destination;
use url::Url;

const KEY_PREFIX: &str = "pk_";
const KEY_SECRET_LEN: usize = 24;
pub const MAX_ENTRIES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error("'{0}' is not a host name (e.g. example.com)")]
    Domain(String),
    #[error("'{0}' is not an origin (scheme, host and optional port, e.g. https://example.com)")]
    Origin(String),
    #[error("give at least one and at most {MAX_ENTRIES}")]
    Count,
}

/// A publishable key (`pk_…`): not a secret, it only names a site in the snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteKey(String);

impl SiteKey {
    pub fn generate() -> SiteKey {
        SiteKey(format!(
            "{KEY_PREFIX}{}",
            nanoid::nanoid!(KEY_SECRET_LEN, &super::code::CODE_ALPHABET)
        ))
    }

    pub fn parse(raw: &str) -> Option<SiteKey> {
        let secret = raw.strip_prefix(KEY_PREFIX)?;
        let ok = secret.len() == KEY_SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| SiteKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The hosts a site's pages live on. A page may be on a listed host or any subdomain of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains(Vec<String>);

impl Domains {
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Domains, SiteError> {
        if raw.is_empty() || raw.len() > MAX_ENTRIES {
            return Err(SiteError::Count);
        }
        let mut hosts: Vec<String> = raw.iter().map(|d| parse_host(d.as_ref())).collect::<Result<_, _>>()?;
        hosts.sort();
        hosts.dedup();
        Ok(Domains(hosts))
    }

    /// Reads the stored form (space-separated), trusting it was written by `to_stored`.
    pub fn from_stored(stored: &str) -> Domains {
        Domains(stored.split_whitespace().map(str::to_owned).collect())
    }

    pub fn to_stored(&self) -> String {
        self.0.join(" ")
    }

    pub fn hosts(&self) -> &[String] {
        &self.0
    }

    /// A publishable key can never create a link to anywhere else.
    pub fn contain(&self, destination: &Destination) -> bool {
        let host = destination.host().trim_end_matches('.').to_ascii_lowercase();
        self.0
            .iter()
            .any(|d| host == *d || host.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.')))
    }

    /// `https://` plus each host: the origins a site allows when none are given.
    pub fn default_origins(&self) -> Origins {
        Origins(self.0.iter().map(|h| format!("https://{h}")).collect())
    }
}

fn parse_host(raw: &str) -> Result<String, SiteError> {
    let raw = raw.trim();
    let bad = || SiteError::Domain(raw.to_owned());
    let candidate = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}/")
    };
    let url = Url::parse(&candidate).map_err(|_| bad())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    if !url.username().is_empty() || url.password().is_some() || host.contains('*') {
        return Err(bad());
    }
    Ok(host.trim_end_matches('.').to_ascii_lowercase())
}

/// The exact origins allowed to call the public API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins(Vec<String>);

impl Origins {
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Origins, SiteError> {
        if raw.is_empty() || raw.len() > MAX_ENTRIES {
            return Err(SiteError::Count);
        }
        let mut origins: Vec<String> = raw.iter().map(|o| parse_origin(o.as_ref())).collect::<Result<_, _>>()?;
        origins.sort();
        origins.dedup();
        Ok(Origins(origins))
    }

    pub fn from_stored(stored: &str) -> Origins {
        Origins(stored.split_whitespace().map(str::to_owned).collect())
    }

    pub fn to_stored(&self) -> String {
        self.0.join(" ")
    }

    pub fn list(&self) -> &[String] {
        &self.0
    }

    /// Compares the browser's `Origin` header with the list, after the same normalisation.
    pub fn allow(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|o| self.0.contains(&o))
    }

    /// Whether a page is served the way the site's origins are: the same scheme on the same
    /// port. (Its host is the domains' business.) A key made for `https://blog.example` mints
    /// no link to `http://blog.example` or to `https://blog.example:8443`.
    pub fn serve(&self, page: &Destination) -> bool {
        let page = page.url();
        self.0.iter().filter_map(|o| Url::parse(o).ok()).any(|origin| {
            origin.scheme() == page.scheme() && origin.port_or_known_default() == page.port_or_known_default()
        })
    }
}

fn parse_origin(raw: &str) -> Result<String, SiteError> {
    let raw = raw.trim();
    let bad = || SiteError::Origin(raw.to_owned());
    let url = Url::parse(raw).map_err(|_| bad())?;
    let path_is_root = matches!(url.path(), "" | "/");
    if !matches!(url.scheme(), "http" | "https") || !path_is_root || url.query().is_some() || url.host().is_none() {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dest(raw: &str) -> Destination {
        Destination::parse(raw).unwrap()
    }

    #[test]
    fn pages_on_a_domain_or_its_subdomains_belong_to_the_site() {
        let domains = Domains::parse(&["Example.com", "https://blog.other.org/"]).unwrap();
        assert_eq!(domains.hosts(), ["blog.other.org", "example.com"]);
        assert!(domains.contain(&dest("https://example.com/a")));
        assert!(domains.contain(&dest("https://www.example.com/a")));
        assert!(domains.contain(&dest("http://blog.other.org:8080/p")));
        assert!(!domains.contain(&dest("https://notexample.com/")));
        assert!(!domains.contain(&dest("https://example.com.evil.net/")));
        assert!(!domains.contain(&dest("https://other.org/")));
    }

    #[test]
    fn a_page_is_served_on_the_scheme_and_port_of_an_origin() {
        let origins = Origins::parse(&["https://example.com", "http://localhost:3000"]).unwrap();
        assert!(origins.serve(&dest("https://www.example.com/a")));
        assert!(origins.serve(&dest("https://example.com:443/a")));
        assert!(origins.serve(&dest("http://localhost:3000/post")));
        assert!(!origins.serve(&dest("http://example.com/a")), "another scheme");
        assert!(!origins.serve(&dest("https://example.com:8443/a")), "another port");
        assert!(!origins.serve(&dest("http://localhost/post")), "port 80 is not 3000");
    }

    #[test]
    fn origins_are_normalised_and_compared_exactly() {
        let origins = Origins::parse(&["https://Example.com/", "http://localhost:3000"]).unwrap();
        assert_eq!(origins.list(), ["http://localhost:3000", "https://example.com"]);
        assert!(origins.allow("https://example.com"));
        assert!(!origins.allow("https://www.example.com"));
        assert!(!origins.allow("http://example.com"));
        assert!(!origins.allow("null"));
    }

    #[test]
    fn bad_domains_and_origins_are_refused() {
        assert!(Domains::parse::<&str>(&[]).is_err());
        assert!(Domains::parse(&["*.example.com"]).is_err());
        assert!(Domains::parse(&["exa mple.com"]).is_err());
        assert!(Origins::parse(&["https://example.com/path"]).is_err());
        assert!(Origins::parse(&["ftp://example.com"]).is_err());
        assert!(Origins::parse(&["example.com"]).is_err());
    }

    #[test]
    fn site_keys_round_trip() {
        let key = SiteKey::generate();
        assert_eq!(SiteKey::parse(key.as_str()), Some(key));
        assert!(SiteKey::parse("stk_abc").is_none());
    }

    proptest! {
        #[test]
        fn site_parsing_never_panics(raw in ".{0,80}") {
            let _ = Domains::parse(&[raw.as_str()]);
            let _ = Origins::parse(&[raw.as_str()]);
            let _ = SiteKey::parse(&raw);
        }
    }
}
