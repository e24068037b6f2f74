//! Webhooks: event types, endpoint addresses, secrets, signatures and the retry schedule.
//!
//! Messages are signed as the Standard Webhooks specification says: the secret is
//! `whsec_<base64 key>`, and `webhook-signature` is `v1,<base64 HMAC-SHA256>` of
//! `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// What happened, as a webhook's `type` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    ShareCreated,
    Click,
    DepthReached,
    ConversionCreated,
    LinkDisabled,
    /// Sent on request from the API or the web UI, to one endpoint, whatever it subscribes to.
    Test,
}

impl EventType {
    /// The types an endpoint may subscribe to, in the order lists show them.
    pub const SUBSCRIBABLE: [EventType; 5] = [
        EventType::ShareCreated,
        EventType::Click,
        EventType::DepthReached,
        EventType::ConversionCreated,
        EventType::LinkDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ShareCreated => "share.created",
            EventType::Click => "click",
            EventType::DepthReached => "cascade.depth_reached",
            EventType::ConversionCreated => "conversion.created",
            EventType::LinkDisabled => "link.disabled",
            EventType::Test => "webhook.test",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .chain([EventType::Test])
            .find(|t| t.as_str() == name)
    }

    /// The `LIKE` pattern that finds endpoints subscribed to this type in their stored `events`.
    pub fn subscribers_pattern(self) -> String {
        format!("%,{},%", self.as_str())
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The event types an endpoint receives: at least one, each once, never `webhook.test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSet(Vec<EventType>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventSetError {
    #[error("name at least one event")]
    Empty,
    #[error(
        "`{0}` is not an event; the events are share.created, click, cascade.depth_reached, conversion.created and link.disabled"
    )]
    Unknown(String),
}

impl EventSet {
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<EventSet, EventSetError> {
        let mut types = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            match EventType::parse(name).filter(|t| *t != EventType::Test) {
                Some(t) => types.push(t),
                None => return Err(EventSetError::Unknown(name.to_owned())),
            }
        }
        types.sort();
        types.dedup();
        match types.is_empty() {
            true => Err(EventSetError::Empty),
            false => Ok(EventSet(types)),
        }
    }

    /// As the database stores it: `,share.created,click,` so `LIKE '%,click,%'` finds it.
    pub fn stored(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|t| t.as_str()).collect();
        format!(",{},", names.join(","))
    }

    /// The stored form read back; unknown names (from a later version) are left out.
    pub fn from_stored(stored: &str) -> EventSet {
        let mut types: Vec<EventType> = stored.split(',').filter_map(EventType::parse).collect();
        types.sort();
        types.dedup();
        EventSet(types)
    }

    pub fn contains(&self, event: EventType) -> bool {
        self.0.contains(&event)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|t| t.as_str()).collect()
    }
}

/// Where deliveries go: an `http` or `https` URL with a host, without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

/// The longest endpoint address accepted.
pub const MAX_URL_LEN: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointUrlError {
    #[error("must be an absolute http:// or https:// URL")]
    NotHttp,
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must not carry a user name or password; put credentials in the path or check the signature")]
    Credentials,
    #[error("must name a host")]
    NoHost,
}

impl EndpointUrl {
    pub fn parse(text: &str) -> Result<EndpointUrl, EndpointUrlError> {
        let text = text.trim();
        if text.len() > MAX_URL_LEN {
            return Err(EndpointUrlError::TooLong);
        }
        let url = url::Url::parse(text).map_err(|_| EndpointUrlError::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EndpointUrlError::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointUrlError::Credentials);
        }
        match url.host() {
            None => Err(EndpointUrlError::NoHost),
            Some(url::Host::Domain("")) => Err(EndpointUrlError::NoHost),
            Some(_) => Ok(EndpointUrl(url)),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// The host's address when the URL names one literally (`http://10.0.0.5/`, `http://[::1]/`).
    pub fn literal_ip(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    /// The host name to resolve, or the literal address as text.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(80)
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (CGNAT), multicast, documentation, benchmarking or reserved space, in IPv4 or IPv6, nor an
/// IPv6 form that embeds such an IPv4 address (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// An endpoint's signing secret, `whsec_` and the base64 of 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;

impl Secret {
    pub fn generate() -> Secret {
        Secret(format!(
            "{SECRET_PREFIX}{}",
            BASE64.encode(nanoid::rngs::default(SECRET_BYTES))
        ))
    }

    /// A stored secret; `None` for text that is not one.
    pub fn parse(text: &str) -> Option<Secret> {
        let key = BASE64.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?;
        (!key.is_empty()).then(|| Secret(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Vec<u8> {
        BASE64
            .decode(&self.0[SECRET_PREFIX.len()..])
            .expect("a parsed or generated secret decodes")
    }

    /// The `webhook-signature` header of a message: `v1,` and the base64 HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}`.
    pub fn sign(&self, message_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key()).expect("HMAC takes a key of any length");
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A message id: `msg_` and 24 random characters, the same on every attempt.
pub fn message_id() -> String {
    format!("msg_{}", nanoid::nanoid!(24, &super::code::CODE_ALPHABET))
}

/// Standard Webhooks' recommended schedule: the first attempt at once, then retries after
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — about 28 hours in all.
pub const RETRY_DELAYS_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// When the next attempt is due after `failures` failed attempts in a row, the schedule's
/// delays multiplied by `scale`; `None` once the schedule is used up (the endpoint is failing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrySchedule {
    scale: f64,
}

impl RetrySchedule {
    /// A `scale` below 1 shortens every delay (tests); a scale that is not a positive number is 1.
    pub fn scaled(scale: f64) -> RetrySchedule {
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        RetrySchedule { scale }
    }

    pub fn after_failures(&self, failures: u32) -> Option<Duration> {
        let index = usize::try_from(failures).ok()?.checked_sub(1)?;
        RETRY_DELAYS_SECS
            .get(index)
            .map(|secs| Duration::from_secs_f64(*secs as f64 * self.scale))
    }

    /// Attempts a delivery gets before its endpoint is marked failing.
    pub fn attempts(&self) -> u32 {
        RETRY_DELAYS_SECS.len() as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_set_parses_each_known_name_once_and_refuses_others() {
        let set = EventSet::parse(&["click", "share.created", "click"]).unwrap();
        assert_eq!(set.names(), ["share.created", "click"]);
        assert_eq!(set.stored(), ",share.created,click,");
        assert_eq!(EventSet::from_stored(&set.stored()), set);
        assert!(set.contains(EventType::Click) && !set.contains(EventType::LinkDisabled));
        assert_eq!(EventSet::parse::<&str>(&[]), Err(EventSetError::Empty));
        assert!(matches!(EventSet::parse(&["clicks"]), Err(EventSetError::Unknown(n)) if n == "clicks"));
        assert!(
            EventSet::parse(&["webhook.test"]).is_err(),
            "tests are sent on request only"
        );
    }

    #[test]
    fn endpoint_urls_are_http_with_a_host_and_no_credentials() {
        assert!(EndpointUrl::parse("https://hooks.example.com/sharetrail?x=1").is_ok());
        assert_eq!(EndpointUrl::parse("ftp://example.com/"), Err(EndpointUrlError::NotHttp));
        assert_eq!(EndpointUrl::parse("/relative"), Err(EndpointUrlError::NotHttp));
        assert_eq!(
            EndpointUrl::parse("javascript:alert(1)"),
            Err(EndpointUrlError::NotHttp)
        );
        assert_eq!(
            EndpointUrl::parse("https://user:pw@example.com/"),
            Err(EndpointUrlError::Credentials)
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(EndpointUrl::parse(&long), Err(EndpointUrlError::TooLong));
        let literal = EndpointUrl::parse("http://[::1]:8080/hook").unwrap();
        assert_eq!(literal.literal_ip(), Some("::1".parse().unwrap()));
        assert_eq!(literal.port(), 8080);
        assert_eq!(EndpointUrl::parse("https://example.com/").unwrap().literal_ip(), None);
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_signature_is_v1_hmac_sha256_of_id_timestamp_and_body() {
        // The example of the Standard Webhooks specification.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let made = Secret::generate();
        assert!(made.as_str().starts_with("whsec_"));
        assert_eq!(Secret::parse(made.as_str()), Some(made.clone()));
        assert_ne!(made, Secret::generate());
        assert!(Secret::parse("whsec_").is_none() && Secret::parse("abc").is_none());
        assert!(!format!("{made:?}").contains(made.as_str()));
    }

    #[test]
    fn the_schedule_runs_out_after_eight_attempts_and_scales() {
        let schedule = RetrySchedule::scaled(1.0);
        assert_eq!(schedule.after_failures(0), None);
        assert_eq!(schedule.after_failures(1), Some(Duration::from_secs(5)));
        assert_eq!(schedule.after_failures(7), Some(Duration::from_secs(36_000)));
        assert_eq!(schedule.after_failures(8), None);
        assert_eq!(schedule.attempts(), 8);
        let fast = RetrySchedule::scaled(0.001);
        assert_eq!(fast.after_failures(2), Some(Duration::from_millis(300)));
        assert_eq!(RetrySchedule::scaled(-1.0), schedule);
    }
}
