//! `sharetrail link create | update | show`.

use crate::accounts::password::hash_secret;
use crate::cli::link::{LifecycleArgs, LinkCommand, RemovalArgs};
use crate::clock::now_ms;
use crate::domain::destination::Destination;
use crate::domain::lifecycle::{ClickLimit, Fallback, LinkPassword};
use crate::domain::utm::{UtmOverride, UtmOverrides, UtmTag};
use crate::routes::links::LinkDocument;
use crate::store::{Invalidation, LinkLifecycle, NewLink, Store};
use anyhow::{Context, bail};
use std::io::{BufRead, IsTerminal};

pub async fn run(command: LinkCommand) -> anyhow::Result<()> {
    match command {
        LinkCommand::Create {
            url,
            title,
            campaign,
            lifecycle,
            origin,
            database,
        } => {
            let url = Destination::parse(&url).map_err(|e| anyhow::anyhow!("--url: {e}"))?;
            let text = |flag: &str, value: Option<String>| -> anyhow::Result<Option<String>> {
                let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
                match &value {
                    Some(v) if v.chars().count() > 200 || v.chars().any(char::is_control) => {
                        bail!("{flag}: at most 200 characters, without control characters")
                    }
                    _ => Ok(value),
                }
            };
            let link = NewLink {
                url,
                title: text("--title", title)?,
                campaign: text("--campaign", campaign)?,
            };
            let expires_at = lifecycle.expires.as_deref().map(expiry).transpose()?;
            let lifecycle = apply(&lifecycle, None, LinkLifecycle::default(), &origin.origin())?;
            let store = super::open(&database).await?;
            let created = store.create_link_with(&link, &lifecycle, now_ms()).await?;
            // No short link of it exists yet: nothing can be visited before its expiry is set.
            if expires_at.is_some() {
                store.set_link_expiry(created.id, expires_at).await?;
            }
            println!("{}", created.id);
            Ok(())
        }
        LinkCommand::Update {
            id,
            lifecycle,
            removals,
            origin,
            database,
        } => {
            let expires_at = match (&lifecycle.expires, removals.no_expiry) {
                (Some(raw), _) => Some(Some(expiry(raw)?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let store = super::open(&database).await?;
            let Some(link) = store.get_link(id).await? else {
                bail!("no link has the id {id}");
            };
            let next = apply(&lifecycle, Some(&removals), link.lifecycle.clone(), &origin.origin())?;
            store.set_link_lifecycle(id, &next).await?;
            if let Some(expires_at) = expires_at {
                store.set_link_expiry(id, expires_at).await?;
            }
            announce(store.as_ref(), id).await;
            show(store.as_ref(), id).await
        }
        LinkCommand::Show { id, database } => show(super::open(&database).await?.as_ref(), id).await,
    }
}

async fn show(store: &dyn Store, id: i64) -> anyhow::Result<()> {
    let Some(link) = store.get_link(id).await? else {
        bail!("no link has the id {id}");
    };
    println!("{}", serde_json::to_string_pretty(&LinkDocument::new(link))?);
    Ok(())
}

/// Running instances on PostgreSQL hear of the change at once. A SQLite file has one server,
/// which this process cannot reach: its cached redirects follow within their ten minutes.
async fn announce(store: &dyn Store, id: i64) {
    let codes = match store.codes_of_link(id).await {
        Ok(codes) => codes,
        Err(err) => return eprintln!("warning: could not list the link's short links: {err}"),
    };
    if let Err(err) = store.announce_invalidation(&Invalidation::Codes(codes)).await {
        eprintln!("warning: running instances were not told of the change: {err}");
    }
    if store.backend() == "sqlite" {
        eprintln!(
            "note: a running sharetrail follows this change within 10 minutes; the API and the web UI change a link at once"
        );
    }
}

/// An RFC 3339 time, or a day that its short links work all of (UTC).
fn expiry(raw: &str) -> anyhow::Result<i64> {
    let raw = raw.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(time.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.succ_opt())
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| anyhow::anyhow!("--expires: use a day (2027-03-31) or an RFC 3339 time (2027-03-31T18:00:00Z)"))
}

/// `current` with the flags' changes, every value checked; the password read and hashed.
fn apply(
    args: &LifecycleArgs,
    removals: Option<&RemovalArgs>,
    mut next: LinkLifecycle,
    origin: &str,
) -> anyhow::Result<LinkLifecycle> {
    let removing = |pick: fn(&RemovalArgs) -> bool| removals.is_some_and(pick);
    if let Some(raw) = &args.max_clicks {
        next.max_clicks = Some(
            ClickLimit::parse(raw)
                .map_err(|e| anyhow::anyhow!("--max-clicks: {e}"))?
                .get(),
        );
    } else if removing(|r| r.no_max_clicks) {
        next.max_clicks = None;
    }
    if let Some(raw) = &args.fallback {
        let fallback = Fallback::parse(raw, origin).map_err(|e| anyhow::anyhow!("--fallback: {e}"))?;
        next.fallback_url = Some(fallback.as_str().to_owned());
    } else if removing(|r| r.no_fallback) {
        next.fallback_url = None;
    }
    let mut overrides = next.utm_overrides();
    if let Some(removals) = removals {
        for raw in &removals.reset_utm {
            match raw.trim() {
                "all" => overrides = UtmOverrides::default(),
                name => overrides.set(tag(name, "--reset-utm")?, None),
            }
        }
    }
    for raw in &args.omit_utm {
        overrides.set(tag(raw, "--omit-utm")?, Some(UtmOverride::Omit));
    }
    for raw in &args.utm {
        let Some((name, value)) = raw.split_once('=') else {
            bail!("--utm: write TAG=VALUE, e.g. source=newsletter");
        };
        let value = UtmOverride::value(value).map_err(|e| anyhow::anyhow!("--utm {name}: {e}"))?;
        overrides.set(tag(name, "--utm")?, Some(value));
    }
    next.set_utm_overrides(&overrides);
    if args.password || args.password_stdin {
        let password = read_password(args.password_stdin)?;
        let password = LinkPassword::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
        next.password_hash = Some(hash_secret(password.expose())?);
    } else if removing(|r| r.no_password) {
        next.password_hash = None;
    }
    Ok(next)
}

fn tag(raw: &str, flag: &str) -> anyhow::Result<UtmTag> {
    UtmTag::parse(raw)
        .ok_or_else(|| anyhow::anyhow!("{flag}: '{raw}' is not a UTM tag (source, medium, campaign, term or content)"))
}

/// Never from the command line, where other users and the shell's history would see it.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("could not read the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("--password asks on a terminal; pipe the password in with --password-stdin instead");
    }
    let first = rpassword::prompt_password("Link password: ").context("could not read the password")?;
    let again = rpassword::prompt_password("Once more: ").context("could not read the password")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}
