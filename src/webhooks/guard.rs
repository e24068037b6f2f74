//! Where webhook requests may connect: public addresses only, unless the operator allows others.

use crate::domain::webhook::{EndpointUrl, is_public};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long the check of a new endpoint waits for its name to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks addresses before any connection is made. Also the HTTP client's resolver, so a
/// connection goes only to the addresses that were checked.
#[derive(Debug, Clone, Copy)]
pub struct AddressGuard {
    allow_private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{host} is {ip}, a loopback, private or otherwise non-public address: webhooks go to public addresses only (the operator may allow others with SHARETRAIL_WEBHOOK_ALLOW_PRIVATE)"
    )]
    NotPublic { host: String, ip: IpAddr },
    #[error("{host} does not resolve to any address")]
    Unresolved { host: String },
}

impl AddressGuard {
    pub fn new(allow_private: bool) -> AddressGuard {
        AddressGuard { allow_private }
    }

    /// Refuses the first address that is not public, unless those are allowed.
    pub fn check(&self, host: &str, addresses: &[IpAddr]) -> Result<(), Refusal> {
        if addresses.is_empty() {
            return Err(Refusal::Unresolved { host: host.to_owned() });
        }
        match addresses.iter().find(|ip| !self.allow_private && !is_public(**ip)) {
            Some(ip) => Err(Refusal::NotPublic {
                host: host.to_owned(),
                ip: *ip,
            }),
            None => Ok(()),
        }
    }

    /// A URL whose host is a literal address, which no resolver sees: checked as it is. Names
    /// pass here and are checked when the connection resolves them.
    pub fn check_literal(&self, url: &str) -> Result<(), Refusal> {
        match EndpointUrl::parse(url).ok().and_then(|url| url.literal_ip()) {
            Some(ip) => self.check(&ip.to_string(), &[ip]),
            None => Ok(()),
        }
    }

    /// A new or changed endpoint: its host resolves, to allowed addresses only.
    pub async fn check_endpoint(&self, url: &EndpointUrl) -> Result<(), Refusal> {
        if let Some(ip) = url.literal_ip() {
            return self.check(&ip.to_string(), &[ip]);
        }
        let host = url.host();
        let addresses = resolve(host, url.port()).await;
        self.check(host, &addresses.iter().map(SocketAddr::ip).collect::<Vec<_>>())
    }
}

async fn resolve(host: &str, port: u16) -> Vec<SocketAddr> {
    match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(found)) => found.collect(),
        _ => Vec::new(),
    }
}

impl reqwest::dns::Resolve for AddressGuard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = *self;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses = resolve(&host, 0).await;
            guard.check(&host, &addresses.iter().map(SocketAddr::ip).collect::<Vec<_>>())?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_and_literals_of_non_public_addresses_are_refused_unless_allowed() {
        let strict = AddressGuard::new(false);
        let loopback = EndpointUrl::parse("http://localhost:9/hook").unwrap();
        assert!(matches!(
            strict.check_endpoint(&loopback).await,
            Err(Refusal::NotPublic { .. })
        ));
        let literal = EndpointUrl::parse("http://169.254.169.254/latest/meta-data").unwrap();
        let refused = strict.check_endpoint(&literal).await.unwrap_err();
        assert!(refused.to_string().contains("169.254.169.254"), "{refused}");
        assert!(strict.check_literal("http://[::1]/").is_err());
        assert!(
            strict.check_literal("https://hooks.example.com/").is_ok(),
            "names are checked on connecting"
        );
        assert!(
            strict
                .check(
                    "mixed.example",
                    &["93.184.216.34".parse().unwrap(), "10.0.0.1".parse().unwrap()]
                )
                .is_err()
        );

        let lenient = AddressGuard::new(true);
        assert!(lenient.check_endpoint(&loopback).await.is_ok());
        assert!(lenient.check_literal("http://127.0.0.1:1/").is_ok());
        assert_eq!(
            lenient.check("nowhere.invalid", &[]),
            Err(Refusal::Unresolved {
                host: "nowhere.invalid".to_owned()
            })
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_of_a_loopback_address() {
        use reqwest::dns::Resolve;
        let name = || "localhost".parse::<reqwest::dns::Name>().unwrap();
        let refused = AddressGuard::new(false).resolve(name()).await;
        assert!(refused.is_err());
        let allowed = AddressGuard::new(true).resolve(name()).await.unwrap();
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
