//! Who sent a request: the peer, or behind proxies the operator trusts, the address they were
//! asked for by.
//!
//! `X-Forwarded-For` and `Forwarded` are lists every hop appends to, and whatever stands at their
//! left end the client wrote itself. Only the hops the operator declared are believed: the list is
//! read from the right, over trusted proxies, and the first address that is not one of them is the
//! client. A peer that is not a trusted proxy is the client, whatever it claims.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// The proxies the operator trusts to say who their client was (`SHARETRAIL_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an IP address or a CIDR block (like 10.0.0.0/8 or 2001:db8::/32)")]
pub struct ProxyListError(String);

impl FromStr for TrustedProxies {
    type Err = ProxyListError;

    /// Addresses and CIDR blocks, separated by commas or spaces; empty trusts none.
    fn from_str(list: &str) -> Result<TrustedProxies, ProxyListError> {
        list.split([',', ' '])
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| ProxyListError(item.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` that carried these headers.
    pub fn client(&self, peer: IpAddr, forwarded: Option<&str>, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // RFC 7239's header when the proxy sent it, else the de-facto one.
        let hops: Vec<&str> = match (forwarded, forwarded_for) {
            (Some(header), _) => header.split(',').filter_map(forwarded_for_of).collect(),
            (None, Some(header)) => header.split(',').map(str::trim).collect(),
            (None, None) => Vec::new(),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry that is no address ("unknown", garbage) ends the walk: nothing to its left
            // can be believed, and the last trusted hop is who talked to us.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// The `for=` parameter of one `Forwarded` element.
fn forwarded_for_of(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then(|| value.trim())
    })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, quoted or not.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let host = match hop.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.0,
        None => hop.rsplit_once(':')?.0,
    };
    host.parse::<IpAddr>().ok().map(canonical)
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What a rate limit counts an address as: an IPv4 address alone, an IPv6 address by its /64,
/// which one subscriber usually holds whole (so a new address per request buys nothing).
pub fn rate_limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), None, Some("198.51.100.1")),
            ip("203.0.113.9")
        );
        assert_eq!(
            none.client(ip("203.0.113.9"), Some("for=198.51.100.1"), None),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_claims() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            trusted.client(ip("203.0.113.9"), None, Some("10.0.0.1, 1.2.3.4")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_list_is_read_from_the_right_over_trusted_proxies() {
        let trusted = proxies("10.0.0.0/8, 192.0.2.7");
        // The client wrote "1.1.1.1" itself; 198.51.100.4 is who reached our first proxy.
        let chain = "1.1.1.1, 198.51.100.4, 10.1.2.3";
        assert_eq!(trusted.client(ip("192.0.2.7"), None, Some(chain)), ip("198.51.100.4"));
        // Nothing but trusted hops: the leftmost is the best anyone knows.
        assert_eq!(trusted.client(ip("10.9.9.9"), None, Some("10.0.0.5")), ip("10.0.0.5"));
        // No header: the proxy itself.
        assert_eq!(trusted.client(ip("10.9.9.9"), None, None), ip("10.9.9.9"));
    }

    #[test]
    fn garbage_in_the_list_stops_the_walk_at_the_last_trusted_hop() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            trusted.client(ip("10.0.0.1"), None, Some("1.2.3.4, unknown, 10.0.0.2")),
            ip("10.0.0.2")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.1"), None, Some("not-an-address")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_forwarded_header_is_read_with_ports_quotes_and_ipv6() {
        let trusted = proxies("10.0.0.1");
        let header = r#"for=198.51.100.1;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.1"#;
        assert_eq!(
            trusted.client(ip("10.0.0.1"), Some(header), None),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.1"), Some("for=192.0.2.43:8080"), Some("9.9.9.9")),
            ip("192.0.2.43"),
            "Forwarded wins over X-Forwarded-For"
        );
    }

    #[test]
    fn ipv4_written_as_ipv6_is_ipv4() {
        let trusted = proxies("127.0.0.1");
        assert!(trusted.trusts(ip("::ffff:127.0.0.1")));
        assert_eq!(trusted.client(ip("::ffff:203.0.113.9"), None, None), ip("203.0.113.9"));
    }

    #[test]
    fn a_bad_proxy_list_is_an_error_that_names_the_entry() {
        assert_eq!(
            "10.0.0.0/8, nope".parse::<TrustedProxies>(),
            Err(ProxyListError("nope".into()))
        );
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!(proxies("::1 127.0.0.1,10.0.0.0/8").trusts(ip("::1")));
    }

    #[test]
    fn ipv6_addresses_share_a_rate_limit_per_64() {
        assert_eq!(
            rate_limit_key(ip("2001:db8:1:2:aaaa::1")),
            rate_limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            rate_limit_key(ip("2001:db8:1:2::1")),
            rate_limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(rate_limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    proptest! {
        #[test]
        fn no_header_whatsoever_makes_the_walk_panic_or_leave_the_list(header in ".{0,200}") {
            let trusted = proxies("0.0.0.0/0, ::/0");
            let peer = ip("10.0.0.1");
            let _ = trusted.client(peer, Some(&header), None);
            let _ = trusted.client(peer, None, Some(&header));
        }
    }
}
