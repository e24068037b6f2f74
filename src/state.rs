//! What every handler can reach.

use crate::classify::Classifier;
use crate::ingest::Ingest;
use crate::lookup::ShareLookup;
use crate::metrics::Metrics;
use crate::privacy::DailySalt;
use crate::store::{Invalidation, Store};
use std::sync::Arc;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub lookup: Arc<ShareLookup>,
    pub classifier: Arc<Classifier>,
    pub ingest: Ingest,
    /// Which parts of the work with the database fail now.
    pub health: Arc<crate::health::DatabaseHealth>,
    /// Every share, reservation and send goes through it.
    pub minter: crate::mint::Minter,
    pub salt: Arc<DailySalt>,
    pub metrics: Arc<Metrics>,
    /// Public origin of short links, without a trailing slash.
    pub base_url: String,
    /// Whose forwarding headers say who the client was.
    pub trusted_proxies: crate::domain::client::TrustedProxies,
    /// Country of a visit, when the operator configured a database.
    pub geoip: Option<Arc<crate::geo::GeoIp>>,
    /// Site keys, origins and rate limits of the public API.
    pub gate: Arc<crate::gate::PublicGate>,
    /// API keys known to be active.
    pub api_keys: crate::gate::ActiveKeys,
    /// The demo site's publishable key, when the demo page is on (made once, at start).
    pub demo_site_key: Option<String>,
    /// What `/metrics` asks for, when the operator set it.
    pub metrics_token: Option<secrecy::SecretString>,
    /// QR pictures, drawn a core at a time.
    pub qr: crate::render::QrRenderer,
    /// Sessions, sign-in throttling and first-run setup of the web UI.
    pub accounts: Arc<crate::accounts::Accounts>,
    /// Where webhook endpoints may be: checked when one is created or changed.
    pub webhook_guard: crate::webhooks::AddressGuard,
}

impl AppState {
    pub fn short_url(&self, code: &str) -> String {
        format!("{}/{code}", self.base_url)
    }

    /// Forgets cached lookups here and tells the other instances to do the same.
    pub async fn invalidate(&self, codes: Option<&[String]>) {
        let change = match codes {
            Some(codes) => Invalidation::Codes(codes.to_vec()),
            None => Invalidation::Everything,
        };
        self.lookup.apply(change.clone());
        if let Err(err) = self.store.announce_invalidation(&change).await {
            tracing::warn!(error = %crate::telemetry::cause_chain(&err), "could not announce a cache invalidation");
        }
    }
}
