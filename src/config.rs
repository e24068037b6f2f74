//! Configuration: command-line flags, each backed by a `SHARETRAIL_*` environment variable.
//!
//! clap gives every setting a `--help` line naming its variable and default, and parses it into
//! its real type (an address, a number, a boolean) so a typo fails at start, not at the first
//! request.

use crate::domain::client::TrustedProxies;
use clap::Args;
use std::net::SocketAddr;

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// Where data lives: `sqlite://FILE` (created on first start) or `postgres://…`.
    /// (Its value is never echoed by `--help`: a PostgreSQL URL may carry a password.)
    #[arg(
        long,
        env = "SHARETRAIL_DATABASE_URL",
        default_value = "sqlite://sharetrail.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Connections in the read pool (SQLite) or the whole pool (PostgreSQL).
    #[arg(long, env = "SHARETRAIL_DATABASE_CONNECTIONS", default_value_t = 8)]
    pub database_connections: u32,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub database: DatabaseSettings,

    /// Address and port to listen on. Port 0 picks a free one.
    #[arg(long, env = "SHARETRAIL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Public origin short links are written with, e.g. `https://go.example.com`.
    /// Default: `http://` and the listen address.
    #[arg(long, env = "SHARETRAIL_BASE_URL")]
    pub base_url: Option<String>,

    /// Proxies whose `Forwarded`/`X-Forwarded-For` headers are believed: addresses and CIDR
    /// blocks, comma- or space-separated (e.g. `10.0.0.0/8,::1`). None by default: the peer is
    /// the client.
    #[arg(long, env = "SHARETRAIL_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// Visits held in memory waiting for the writer; beyond this they are dropped and counted.
    #[arg(long, env = "SHARETRAIL_VISIT_QUEUE", default_value_t = 400_000)]
    pub visit_queue: usize,

    /// Most visits written in one transaction.
    #[arg(long, env = "SHARETRAIL_VISIT_BATCH", default_value_t = 25_000)]
    pub visit_batch: usize,

    /// Longest wait, in milliseconds, for a visit batch to fill before it is written anyway.
    #[arg(long, env = "SHARETRAIL_VISIT_FLUSH_MS", default_value_t = 200)]
    pub visit_flush_ms: u64,

    /// Seconds a code the share buttons reserve ahead of a click (on hover or focus) stays
    /// valid; a reservation nobody sent is deleted after this.
    #[arg(long, env = "SHARETRAIL_RESERVATION_SECONDS", default_value_t = 86_400)]
    pub reservation_seconds: u64,

    /// Short codes kept in the lookup cache (live and unknown ones alike).
    #[arg(long, env = "SHARETRAIL_CACHE_CAPACITY", default_value_t = 100_000)]
    pub cache_capacity: u64,

    /// MaxMind-format country database (GeoLite2-Country or DB-IP country lite `.mmdb`);
    /// without it visits have no country.
    #[arg(long, env = "SHARETRAIL_GEOIP_DB")]
    pub geoip_db: Option<std::path::PathBuf>,

    /// Public API (share buttons) requests allowed per client address per minute.
    #[arg(long, env = "SHARETRAIL_PUBLIC_RATE_PER_IP", default_value_t = 120)]
    pub public_rate_per_ip: u32,

    /// Public API requests allowed per site key per minute, over all its visitors.
    #[arg(long, env = "SHARETRAIL_PUBLIC_RATE_PER_SITE", default_value_t = 6_000)]
    pub public_rate_per_site: u32,

    /// Web UI sessions end after this many minutes without a request.
    #[arg(long, env = "SHARETRAIL_SESSION_IDLE_MINUTES", default_value_t = 240)]
    pub session_idle_minutes: u64,

    /// Web UI sessions end this many hours after signing in, however active.
    #[arg(long, env = "SHARETRAIL_SESSION_MAX_HOURS", default_value_t = 24)]
    pub session_max_hours: u64,

    /// Sign-in attempts allowed per account per minute (then slowed, never locked).
    #[arg(long, env = "SHARETRAIL_SIGNIN_RATE_PER_ACCOUNT", default_value_t = 5)]
    pub signin_rate_per_account: u32,

    /// Sign-in attempts allowed per client address per minute.
    #[arg(long, env = "SHARETRAIL_SIGNIN_RATE_PER_IP", default_value_t = 20)]
    pub signin_rate_per_ip: u32,

    /// The demo page at `/demo`, a sample article with the share buttons: `on`, `off`, or `auto`
    /// (on only when listening on a loopback address, where only this machine can reach it).
    #[arg(long, env = "SHARETRAIL_DEMO", value_enum, default_value_t = DemoMode::Auto)]
    pub demo: DemoMode,

    /// A bearer token `/metrics` then asks for (`Authorization: Bearer …`); without one it is
    /// open, as are most Prometheus endpoints on a private network.
    #[arg(long, env = "SHARETRAIL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "SHARETRAIL_WORKERS")]
    pub workers: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoMode {
    On,
    Off,
    Auto,
}

impl Settings {
    /// Whether `/demo` is served: on a public address only when asked for, since its site lets
    /// anyone who finds the page mint shares.
    pub fn demo_enabled(&self) -> bool {
        match self.demo {
            DemoMode::On => true,
            DemoMode::Off => false,
            DemoMode::Auto => self.listen.ip().is_loopback(),
        }
    }

    /// Defaults for everything but the database: what tests and tools start from.
    pub fn for_database(database_url: &str) -> Settings {
        Settings {
            database: DatabaseSettings {
                database_url: database_url.to_owned(),
                database_connections: 8,
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            trusted_proxies: TrustedProxies::default(),
            visit_queue: 400_000,
            visit_batch: 25_000,
            visit_flush_ms: 200,
            reservation_seconds: 86_400,
            cache_capacity: 100_000,
            geoip_db: None,
            public_rate_per_ip: 120,
            public_rate_per_site: 6_000,
            session_idle_minutes: 240,
            session_max_hours: 24,
            signin_rate_per_account: 5,
            signin_rate_per_ip: 20,
            demo: DemoMode::Auto,
            metrics_token: None,
            workers: None,
        }
    }
}
