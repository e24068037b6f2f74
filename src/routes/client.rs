//! The client address of a request: the one place it is worked out, for the rate limits, the
//! visitor hash and the country alike.

use crate::domain::client::TrustedProxies;
use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};
use std::net::IpAddr;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Who sent `req`: the peer, or behind trusted proxies the address they forwarded it for.
pub fn client_ip(req: &HttpRequest, proxies: &TrustedProxies) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
    if proxies.is_empty() {
        return peer;
    }
    // A header sent several times is one list, in order.
    let joined = |name: &HeaderName| {
        let values: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    proxies.client(
        peer,
        joined(&header::FORWARDED).as_deref(),
        joined(&X_FORWARDED_FOR).as_deref(),
    )
}
