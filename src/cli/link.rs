//! `sharetrail link`: links and their lifecycle from the command line.

use crate::config::DatabaseSettings;
use clap::{Args, Subcommand};
use std::net::SocketAddr;

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Create a link and print its id, alone on its line.
    Create {
        /// The destination people are sent to (http or https).
        #[arg(long)]
        url: String,
        #[arg(long)]
        title: Option<String>,
        /// `utm_campaign` of its short links.
        #[arg(long)]
        campaign: Option<String>,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
        #[command(flatten)]
        origin: OriginSettings,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Change a link's expiry, click limit, fallback, password or UTM tags, and print it as the
    /// API shows it. What is not named stays as it is.
    Update {
        /// The link's id.
        id: i64,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
        #[command(flatten)]
        removals: RemovalArgs,
        #[command(flatten)]
        origin: OriginSettings,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Print a link as the API shows it (JSON): its expiry, click limit and clicks left,
    /// fallback, whether it has a password (never the password) and its UTM tags.
    Show {
        /// The link's id.
        id: i64,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// When its short links stop redirecting: an RFC 3339 time (2027-03-31T18:00:00Z) or a
    /// day (2027-03-31: they work all of it, UTC).
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Human clicks its short links take together before they stop; bots and link previews
    /// never use them up.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_clicks: Option<String>,
    /// Where its short links send people once they have stopped, instead of a "gone" page.
    #[arg(long, value_name = "URL")]
    pub fallback: Option<String>,
    /// Ask on the terminal for a password visitors must give first (typed twice, not shown).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: bool,
    /// Read that password from the first line of standard input instead.
    #[arg(long)]
    pub password_stdin: bool,
    /// A UTM tag its short links carry instead of sharetrail's own, e.g. `source=newsletter`
    /// (source, medium, campaign, term or content; repeat for more).
    #[arg(long = "utm", value_name = "TAG=VALUE")]
    pub utm: Vec<String>,
    /// A UTM tag its short links leave out, e.g. `medium` (repeat for more).
    #[arg(long = "omit-utm", value_name = "TAG")]
    pub omit_utm: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemovalArgs {
    /// Its short links never expire by date.
    #[arg(long, conflicts_with = "expires")]
    pub no_expiry: bool,
    /// No click limit.
    #[arg(long, conflicts_with = "max_clicks")]
    pub no_max_clicks: bool,
    /// No fallback: ended short links answer "gone".
    #[arg(long, conflicts_with = "fallback")]
    pub no_fallback: bool,
    /// No password.
    #[arg(long, conflicts_with_all = ["password", "password_stdin"])]
    pub no_password: bool,
    /// Give a UTM tag back to sharetrail's own value, e.g. `source` (repeat for more; `all`
    /// for every tag).
    #[arg(long = "reset-utm", value_name = "TAG")]
    pub reset_utm: Vec<String>,
}

/// Where sharetrail's own short links live, so that a fallback cannot point back at them.
#[derive(Debug, Args)]
pub struct OriginSettings {
    /// Public origin short links are written with, e.g. `https://go.example.com`.
    /// Default: `http://` and the listen address.
    #[arg(long, env = "SHARETRAIL_BASE_URL")]
    pub base_url: Option<String>,
    /// The address `sharetrail serve` listens on, when no base URL is set.
    #[arg(long, env = "SHARETRAIL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

impl OriginSettings {
    pub fn origin(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}
