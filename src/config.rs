//! Configuration: command-line flags, each backed by a `SHARETRAIL_*` environment variable.
//!
//! clap gives every setting a `--help` line naming its variable and default, and parses it into
//! its real type (an address, a number, a boolean) so a typo fails at start, not at the first
//! request. Every default is in `defaults`, which the flags and `Settings::for_database` share.

use crate::domain::client::TrustedProxies;
use clap::Args;
use secrecy::SecretString;
use std::net::SocketAddr;

/// The value of every setting not given, in one place.
pub mod defaults {
    use super::{DemoMode, LogFormat};
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

    pub const DATABASE_URL: &str = "sqlite://sharetrail.db";
    pub const DATABASE_CONNECTIONS: u32 = 8;
    pub const LOG: &str = "info,sqlx=warn";
    pub const LOG_FORMAT: LogFormat = LogFormat::Text;
    pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    /// None: the peer is the client.
    pub const TRUSTED_PROXIES: &str = "";
    pub const VISIT_QUEUE: usize = 400_000;
    pub const VISIT_BATCH: usize = 25_000;
    pub const VISIT_FLUSH_MS: u64 = 200;
    pub const RESERVATION_SECONDS: u64 = 86_400;
    pub const CACHE_CAPACITY: u64 = 100_000;
    pub const PUBLIC_RATE_PER_IP: u32 = 120;
    pub const PUBLIC_RATE_PER_SITE: u32 = 6_000;
    pub const SESSION_IDLE_MINUTES: u64 = 240;
    pub const SESSION_MAX_HOURS: u64 = 24;
    pub const SIGNIN_RATE_PER_ACCOUNT: u32 = 5;
    pub const SIGNIN_RATE_PER_IP: u32 = 20;
    pub const DEMO: DemoMode = DemoMode::Auto;
    pub const WEBHOOK_TIMEOUT_SECONDS: u64 = 10;
    pub const WEBHOOK_RETRY_SCALE: f64 = 1.0;
    pub const WEBHOOK_LOG_DAYS: u64 = 30;
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// Where data lives: `sqlite://FILE` (created on first start) or `postgres://…`.
    /// (Its value is never echoed by `--help`, nor by `Debug`: a PostgreSQL URL may carry a
    /// password. Only opening the pool reads it.)
    #[arg(
        long,
        env = "SHARETRAIL_DATABASE_URL",
        default_value = defaults::DATABASE_URL,
        hide_env_values = true,
        value_parser = secret
    )]
    pub database_url: SecretString,

    /// Connections in the read pool (SQLite) or the whole pool (PostgreSQL).
    #[arg(long, env = "SHARETRAIL_DATABASE_CONNECTIONS", default_value_t = defaults::DATABASE_CONNECTIONS)]
    pub database_connections: u32,
}

impl DatabaseSettings {
    pub fn new(database_url: &str) -> DatabaseSettings {
        DatabaseSettings {
            database_url: SecretString::from(database_url),
            database_connections: defaults::DATABASE_CONNECTIONS,
        }
    }
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// What is logged, and how.
#[derive(Debug, Clone, Args)]
pub struct LogSettings {
    /// What is logged: a tracing filter (`info`, `sharetrail=debug,sqlx=warn`).
    /// `sharetrail::requests=debug` adds a line per request (method, route, status, latency).
    #[arg(long = "log", env = "SHARETRAIL_LOG", default_value = defaults::LOG, value_parser = log_filter)]
    pub filter: String,

    /// `text` for people; `json` for one JSON object per line, for log shippers.
    #[arg(long, env = "SHARETRAIL_LOG_FORMAT", value_enum, ignore_case = true, default_value_t = defaults::LOG_FORMAT)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A filter that does not parse fails at start, like any other setting, rather than logging
/// something other than what was asked for.
fn log_filter(value: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(value)
        .map(|_| value.to_owned())
        .map_err(|err| err.to_string())
}

impl Default for LogSettings {
    fn default() -> LogSettings {
        LogSettings {
            filter: defaults::LOG.to_owned(),
            log_format: defaults::LOG_FORMAT,
        }
    }
}

impl LogSettings {
    /// `SHARETRAIL_LOG` and `SHARETRAIL_LOG_FORMAT`, for the commands that take no logging flags.
    pub fn from_env() -> Result<LogSettings, clap::Error> {
        use clap::FromArgMatches;
        let command = <LogSettings as Args>::augment_args(clap::Command::new("sharetrail"));
        LogSettings::from_arg_matches(&command.try_get_matches_from(["sharetrail"])?)
    }
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub log: LogSettings,

    /// Address and port to listen on. Port 0 picks a free one.
    #[arg(long, env = "SHARETRAIL_LISTEN", default_value_t = defaults::LISTEN)]
    pub listen: SocketAddr,

    /// Public origin short links are written with, e.g. `https://go.example.com`.
    /// Default: `http://` and the listen address.
    #[arg(long, env = "SHARETRAIL_BASE_URL")]
    pub base_url: Option<String>,

    /// Proxies whose `Forwarded`/`X-Forwarded-For` headers are believed: addresses and CIDR
    /// blocks, comma- or space-separated (e.g. `10.0.0.0/8,::1`). None by default: the peer is
    /// the client.
    #[arg(long, env = "SHARETRAIL_TRUSTED_PROXIES", default_value = defaults::TRUSTED_PROXIES)]
    pub trusted_proxies: TrustedProxies,

    /// Visits held in memory waiting for the writer; beyond this they are dropped and counted.
    #[arg(long, env = "SHARETRAIL_VISIT_QUEUE", default_value_t = defaults::VISIT_QUEUE)]
    pub visit_queue: usize,

    /// Most visits written in one transaction.
    #[arg(long, env = "SHARETRAIL_VISIT_BATCH", default_value_t = defaults::VISIT_BATCH)]
    pub visit_batch: usize,

    /// Longest wait, in milliseconds, for a visit batch to fill before it is written anyway.
    #[arg(long, env = "SHARETRAIL_VISIT_FLUSH_MS", default_value_t = defaults::VISIT_FLUSH_MS)]
    pub visit_flush_ms: u64,

    /// Seconds a code the share buttons reserve ahead of a click (on hover or focus) stays
    /// valid; a reservation nobody sent is deleted after this.
    #[arg(long, env = "SHARETRAIL_RESERVATION_SECONDS", default_value_t = defaults::RESERVATION_SECONDS)]
    pub reservation_seconds: u64,

    /// Short codes kept in the lookup cache (live and unknown ones alike).
    #[arg(long, env = "SHARETRAIL_CACHE_CAPACITY", default_value_t = defaults::CACHE_CAPACITY)]
    pub cache_capacity: u64,

    /// MaxMind-format country database (GeoLite2-Country or DB-IP country lite `.mmdb`);
    /// without it visits have no country.
    #[arg(long, env = "SHARETRAIL_GEOIP_DB")]
    pub geoip_db: Option<std::path::PathBuf>,

    /// Public API (share buttons) requests allowed per client address per minute.
    #[arg(long, env = "SHARETRAIL_PUBLIC_RATE_PER_IP", default_value_t = defaults::PUBLIC_RATE_PER_IP)]
    pub public_rate_per_ip: u32,

    /// Public API requests allowed per site key per minute, over all its visitors.
    #[arg(long, env = "SHARETRAIL_PUBLIC_RATE_PER_SITE", default_value_t = defaults::PUBLIC_RATE_PER_SITE)]
    pub public_rate_per_site: u32,

    /// Web UI sessions end after this many minutes without a request.
    #[arg(long, env = "SHARETRAIL_SESSION_IDLE_MINUTES", default_value_t = defaults::SESSION_IDLE_MINUTES)]
    pub session_idle_minutes: u64,

    /// Web UI sessions end this many hours after signing in, however active.
    #[arg(long, env = "SHARETRAIL_SESSION_MAX_HOURS", default_value_t = defaults::SESSION_MAX_HOURS)]
    pub session_max_hours: u64,

    /// Sign-in attempts allowed per account per minute (then slowed, never locked).
    #[arg(long, env = "SHARETRAIL_SIGNIN_RATE_PER_ACCOUNT", default_value_t = defaults::SIGNIN_RATE_PER_ACCOUNT)]
    pub signin_rate_per_account: u32,

    /// Sign-in attempts allowed per client address per minute.
    #[arg(long, env = "SHARETRAIL_SIGNIN_RATE_PER_IP", default_value_t = defaults::SIGNIN_RATE_PER_IP)]
    pub signin_rate_per_ip: u32,

    /// The demo page at `/demo`, a sample article with the share buttons: `on`, `off`, or `auto`
    /// (on only when listening on a loopback address, where only this machine can reach it).
    #[arg(long, env = "SHARETRAIL_DEMO", value_enum, default_value_t = defaults::DEMO)]
    pub demo: DemoMode,

    /// A bearer token `/metrics` then asks for (`Authorization: Bearer …`); without one it is
    /// open, as are most Prometheus endpoints on a private network. (Never printed, like the
    /// database URL.)
    #[arg(long, env = "SHARETRAIL_METRICS_TOKEN", hide_env_values = true, value_parser = secret)]
    pub metrics_token: Option<SecretString>,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "SHARETRAIL_WORKERS")]
    pub workers: Option<usize>,

    #[command(flatten)]
    pub webhooks: WebhookSettings,
}

/// Outbound webhook deliveries: the one place sharetrail makes requests of its own.
#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Lets webhook endpoints be on loopback, private, link-local and other non-public
    /// addresses (an endpoint on the same host or network). Off by default: the API would
    /// otherwise let anyone with a key make sharetrail probe the internal network.
    #[arg(long, env = "SHARETRAIL_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,

    /// Seconds a webhook request may take, connecting included, before the attempt fails.
    #[arg(long, env = "SHARETRAIL_WEBHOOK_TIMEOUT_SECONDS", default_value_t = defaults::WEBHOOK_TIMEOUT_SECONDS)]
    pub webhook_timeout_seconds: u64,

    /// Multiplies the retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): 0.001 turns
    /// its day into 100 seconds, for tests and trials.
    #[arg(long, env = "SHARETRAIL_WEBHOOK_RETRY_SCALE", default_value_t = defaults::WEBHOOK_RETRY_SCALE)]
    pub webhook_retry_scale: f64,

    /// Days a delivered message stays in its endpoint's delivery log.
    #[arg(long, env = "SHARETRAIL_WEBHOOK_LOG_DAYS", default_value_t = defaults::WEBHOOK_LOG_DAYS)]
    pub webhook_log_days: u64,
}

impl Default for WebhookSettings {
    fn default() -> WebhookSettings {
        WebhookSettings {
            webhook_allow_private: false,
            webhook_timeout_seconds: defaults::WEBHOOK_TIMEOUT_SECONDS,
            webhook_retry_scale: defaults::WEBHOOK_RETRY_SCALE,
            webhook_log_days: defaults::WEBHOOK_LOG_DAYS,
        }
    }
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
            database: DatabaseSettings::new(database_url),
            log: LogSettings::default(),
            listen: defaults::LISTEN,
            base_url: None,
            trusted_proxies: defaults::TRUSTED_PROXIES
                .parse()
                .expect("the default trusted proxies parse"),
            visit_queue: defaults::VISIT_QUEUE,
            visit_batch: defaults::VISIT_BATCH,
            visit_flush_ms: defaults::VISIT_FLUSH_MS,
            reservation_seconds: defaults::RESERVATION_SECONDS,
            cache_capacity: defaults::CACHE_CAPACITY,
            geoip_db: None,
            public_rate_per_ip: defaults::PUBLIC_RATE_PER_IP,
            public_rate_per_site: defaults::PUBLIC_RATE_PER_SITE,
            session_idle_minutes: defaults::SESSION_IDLE_MINUTES,
            session_max_hours: defaults::SESSION_MAX_HOURS,
            signin_rate_per_account: defaults::SIGNIN_RATE_PER_ACCOUNT,
            signin_rate_per_ip: defaults::SIGNIN_RATE_PER_IP,
            demo: defaults::DEMO,
            metrics_token: None,
            workers: None,
            webhooks: WebhookSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use secrecy::ExposeSecret;

    const URL: &str = "postgres://sharetrail:hunter2-secret@db.internal:5432/sharetrail";

    fn served(args: &[&str]) -> Result<Settings, clap::Error> {
        match Cli::try_parse_from([&["sharetrail", "serve"], args].concat())?.command {
            Some(Command::Serve(settings)) => Ok(*settings),
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn debug_never_prints_the_database_password() {
        let parsed = served(&["--database-url", URL]).unwrap();
        let made = Settings::for_database(URL);

        for settings in [parsed, made] {
            let printed = format!("{settings:?}");
            assert!(!printed.contains("hunter2-secret"), "{printed}");
            assert_eq!(settings.database.database_url.expose_secret(), URL);
        }
    }

    #[test]
    fn debug_never_prints_the_metrics_token() {
        let settings = served(&["--metrics-token", "scrape-me-7Hq2"]).unwrap();

        let printed = format!("{settings:?}");
        assert!(!printed.contains("scrape-me-7Hq2"), "{printed}");
        let token = settings.metrics_token.as_ref().map(|t| t.expose_secret());
        assert_eq!(token, Some("scrape-me-7Hq2"));
    }

    #[test]
    fn the_log_settings_are_parsed_and_a_filter_that_does_not_parse_is_refused() {
        let settings = served(&["--log", "sharetrail=debug,sqlx=warn", "--log-format", "JSON"]).unwrap();
        assert_eq!(settings.log.filter, "sharetrail=debug,sqlx=warn");
        assert_eq!(settings.log.log_format, LogFormat::Json);

        let err = served(&["--log", "sharetrail=loud"]).expect_err("an invalid filter");
        assert!(err.to_string().contains("--log"), "{err}");
        assert!(served(&["--log-format", "xml"]).is_err());
    }
}
