//! What each `sharetrail` subcommand does.

use crate::cli::{ApiKeyCommand, ChannelCommand, Cli, Command, SiteCommand, UserCommand};
use crate::clock::now_ms;
use crate::config::{DatabaseSettings, Settings};
use crate::domain::api_key;
use crate::domain::channel::{Channel, Medium};
use crate::domain::site::{Domains, Origins, SiteKey};
use crate::startup::Application;
use crate::store::NewSite;
use crate::store::{self, Store};
use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use std::sync::Arc;

mod link;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            // `sharetrail` alone serves, configured from the environment like `sharetrail serve`.
            let settings = <Settings as clap::FromArgMatches>::from_arg_matches(
                &<Settings as clap::Args>::augment_args(clap::Command::new("serve")).get_matches_from(["serve"]),
            )?;
            serve(settings).await
        }
        Some(Command::Serve(settings)) => serve(*settings).await,
        Some(Command::Migrate(database)) => {
            open(&database).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::ApiKey(ApiKeyCommand::Create { name, database })) => {
            let name = name.trim();
            if name.is_empty() {
                bail!("--name must not be empty");
            }
            let store = open(&database).await?;
            let key = api_key::generate();
            store.create_api_key(name, &key, now_ms()).await?;
            println!("{}", key.plaintext);
            Ok(())
        }
        Some(Command::User(UserCommand::Add {
            email,
            name,
            role,
            password_stdin,
            database,
        })) => add_user(&email, name.as_deref(), &role, password_stdin, &database).await,
        Some(Command::Channel(ChannelCommand::Create { name, medium, database })) => {
            let Ok(Channel::Custom(name)) = Channel::parse(&name) else {
                bail!("'{name}' is not a valid custom channel name (or is a built-in channel)");
            };
            let medium = Medium::parse(&medium).map_err(|e| anyhow::anyhow!("--medium: {e}"))?;
            open(&database)
                .await?
                .create_custom_channel(&name, medium.as_str(), now_ms())
                .await?;
            println!("{name}");
            Ok(())
        }
        Some(Command::Link(command)) => link::run(command).await,
        Some(Command::Site(SiteCommand::Create {
            name,
            domains,
            origins,
            campaign,
            database,
        })) => {
            let name = name.trim().to_owned();
            if name.is_empty() {
                bail!("--name must not be empty");
            }
            let domains = Domains::parse(&domains).map_err(|e| anyhow::anyhow!("--domain: {e}"))?;
            let origins = match origins.is_empty() {
                true => domains.default_origins(),
                false => Origins::parse(&origins).map_err(|e| anyhow::anyhow!("--origin: {e}"))?,
            };
            let site = NewSite {
                name,
                key: SiteKey::generate(),
                domains,
                origins,
                utm_enabled: true,
                utm_campaign: campaign.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
                is_demo: false,
            };
            let site = open(&database).await?.create_site(&site, now_ms()).await?;
            println!("{}", site.public_key);
            Ok(())
        }
        Some(Command::Import(args)) => import(args).await,
    }
}

async fn import(args: crate::cli::ImportArgs) -> anyhow::Result<()> {
    use crate::domain::import::ImportFormat;
    let Some(format) = ImportFormat::parse(&args.format) else {
        bail!("the format must be bitly, shlink, yourls or csv");
    };
    let bytes = std::fs::read(&args.file).with_context(|| format!("could not read {}", args.file.display()))?;
    let store = open(&args.database).await?;
    let run = crate::importer::import(store.as_ref(), format, &bytes, args.dry_run, now_ms())
        .await
        .with_context(|| format!("could not import {}", args.file.display()))?;
    print!("{}", run.report);
    if !run.created.is_empty() {
        let change = crate::store::Invalidation::Codes(run.created);
        store.announce_invalidation(&change).await?;
        if store.backend() == "sqlite" {
            eprintln!(
                "A sharetrail already serving this SQLite file redirects the new codes once restarted \
                 (an import through the web UI needs no restart)."
            );
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    Application::build(settings).await?.run_until_stopped().await
}

async fn open(database: &DatabaseSettings) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect(database.database_url.expose_secret(), database.database_connections)
        .await
        .context("could not open the database")?;
    store.migrate().await.context("could not migrate the database")?;
    Ok(store)
}

async fn add_user(
    email: &str,
    name: Option<&str>,
    role: &str,
    password_stdin: bool,
    database: &DatabaseSettings,
) -> anyhow::Result<()> {
    use crate::domain::account::{Email, NewPassword, PersonName, Role};
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = name.unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default());
    let name = PersonName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let Some(role) = Role::parse(role) else {
        bail!("--role must be admin or member");
    };
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("could not read the password from stdin")?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (crate::accounts::session::random_token()[..24].to_owned(), true)
    };
    let password = NewPassword::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let password_hash = crate::accounts::password::hash(&password)?;
    let store = open(database).await?;
    let user = crate::store::NewUser {
        email,
        name,
        role,
        password_hash,
    };
    match store.create_user(&user, now_ms()).await {
        Ok(_) => {}
        Err(crate::store::StoreError::EmailTaken) => bail!("an account with that e-mail already exists"),
        Err(err) => return Err(err.into()),
    }
    if generated {
        println!("{}", password.expose());
    }
    Ok(())
}
