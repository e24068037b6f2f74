//! The `sharetrail` command line.

use crate::config::{DatabaseSettings, LogSettings, Settings};
use clap::{Parser, Subcommand};

pub mod link;

#[derive(Debug, Parser)]
#[command(
    name = "sharetrail",
    version,
    about = "Share links that measure dark social",
    long_about = None,
    after_help = "With no command, sharetrail serves, configured like `sharetrail serve` from the \
                  SHARETRAIL_* environment (SHARETRAIL_DATABASE_URL, SHARETRAIL_LISTEN, SHARETRAIL_BASE_URL …);\n\
                  `sharetrail serve --help` lists every setting."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// How to log: `serve`'s logging flags and variables, or for the other commands (which take
    /// no logging flags) the variables alone.
    pub fn log_settings(&self) -> Result<LogSettings, clap::Error> {
        match &self.command {
            Some(Command::Serve(settings)) => Ok(settings.log.clone()),
            _ => LogSettings::from_env(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Box<Settings>),
    /// Apply database migrations and exit.
    Migrate(DatabaseSettings),
    /// Manage API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Manage custom channels (`newsletter`, `podcast`…).
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Manage the people who sign in to the web UI.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the websites that embed the share buttons.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage links: their expiry, click limit, fallback, password and UTM tags.
    #[command(subcommand)]
    Link(link::LinkCommand),
    /// Import short links from another shortener (or sharetrail's own CSV); prints a report.
    Import(ImportArgs),
}

/// Existing short codes keep redirecting to the same destination, as custom slugs on `direct`
/// shares, with their titles, first tag as campaign, creation dates and clicks counted before
/// (shown as imported clicks, apart from sharetrail's). Running the same file again creates
/// nothing new; a code sharetrail has with another destination is reported, never overwritten.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// bitly: a page of API v4 GET /groups/{guid}/bitlinks (JSON). shlink: REST v3 GET
    /// /rest/v3/short-urls (JSON), each short URL optionally with its `visits` (the answer of
    /// /rest/v3/short-urls/{shortCode}/visits, kept as an imported visit history). yourls: the
    /// API's action=stats JSON, or the yourls_url table as CSV. csv: columns
    /// code,url,title,campaign,created_at[,clicks].
    #[arg(value_parser = ["bitly", "shlink", "yourls", "csv"])]
    pub format: String,
    /// The exported file.
    pub file: std::path::PathBuf,
    /// Print the report of what would happen, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub database: DatabaseSettings,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Register a site and print its publishable key (`pk_…`), alone on its line.
    Create {
        /// A name people recognise, e.g. "Company blog".
        #[arg(long)]
        name: String,
        /// A host the site's pages live on (its subdomains are included); repeat for more.
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// A browser origin allowed to call the public API (default: https:// + each domain).
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// `utm_campaign` for links its pages create.
        #[arg(long)]
        campaign: Option<String>,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person who can sign in. Without --password-stdin a strong password is generated
    /// and printed, alone on its line.
    Add {
        #[arg(long)]
        email: String,
        /// How the web UI shows them (default: the e-mail's local part).
        #[arg(long)]
        name: Option<String>,
        /// `admin` (people, sites, API keys) or `member` (campaigns and links).
        #[arg(long, default_value = "member")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it, alone on its line. It is shown only this once.
    Create {
        /// Who or what the key is for.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Define a custom channel that shares may then use.
    Create {
        /// Lower-case slug, e.g. `newsletter`.
        #[arg(long)]
        name: String,
        /// `utm_medium` its redirects carry (`email` for a newsletter).
        #[arg(long, default_value = "referral")]
        medium: String,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}
