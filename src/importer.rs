//! Imports an export from another shortener: the file is parsed and planned in the domain
//! (`domain::import`), and each new code minted here as a custom slug on a `direct` share.
//!
//! `direct` is the channel of a plain short link that no share button made: an imported code
//! was handed out by hand, in a newsletter or on a poster, by whoever used the other tool, and
//! nothing says through which private channel it travelled. Minting it as a share of its link
//! at its original creation date puts it in the share figures and the cascade where a link made
//! here that day would be; its clicks from before are kept apart (`imported_shares`).

use crate::domain::channel::{BuiltinChannel, Channel};
use crate::domain::import::plan::{Decision, ImportReport, PlannedLink, Target, plan};
use crate::domain::import::{FileError, ImportFormat, ImportedLink, parse};
use crate::store::{MintBatch, MintRefusal, NewCode, NewLink, NewShare, ShareLink, Store, StoreError, StoreResult};

/// What an import did: its report, and the codes it created (for the redirect caches).
#[derive(Debug)]
pub struct ImportRun {
    pub report: ImportReport,
    pub created: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("database error")]
    Store(#[from] StoreError),
}

/// Imports `bytes`, an export of `format`; with `dry_run`, reports the same without writing.
pub async fn import(
    store: &dyn Store,
    format: ImportFormat,
    bytes: &[u8],
    dry_run: bool,
    now: i64,
) -> Result<ImportRun, ImportError> {
    let parsed = parse(format, bytes, now)?;
    let codes: Vec<String> = parsed
        .links
        .iter()
        .flat_map(|l| l.codes.iter().map(|c| c.as_str().to_owned()))
        .collect();
    let existing = store.existing_codes(&codes).await?;
    let mut planned = plan(&parsed.links, &existing);
    let mut created = Vec::new();
    if !dry_run {
        for link in planned.iter_mut().filter(|p| p.creates().next().is_some()) {
            created.extend(write(store, format, link, now).await?);
        }
    }
    Ok(ImportRun {
        report: ImportReport::new(format, dry_run, &parsed, &planned),
        created,
    })
}

/// Creates the link when it is new and mints its new codes; returns the codes created. A code
/// another writer took since the plan becomes a conflict.
async fn write(
    store: &dyn Store,
    format: ImportFormat,
    planned: &mut PlannedLink<'_>,
    now: i64,
) -> StoreResult<Vec<String>> {
    let link = planned.link;
    let link_id = match planned.target {
        Target::Existing(id) => id,
        Target::New => create_link(store, link).await?,
    };
    let creates: Vec<usize> = (0..planned.codes.len())
        .filter(|&i| planned.codes[i].1 == Decision::Create)
        .collect();
    let batch = MintBatch {
        creates: creates
            .iter()
            .map(|&i| NewShare {
                link: ShareLink::Link(link_id),
                code: NewCode::Slug(planned.codes[i].0.code().clone()),
                channel: Channel::Builtin(BuiltinChannel::Direct),
                parent: None,
                label: None,
                expires_at: None,
                token: None,
                reserved_until: None,
            })
            .collect(),
        sends: Vec::new(),
    };
    // Minted at the link's own date: its share counts on the day the other tool made it.
    let outcome = store.mint(&batch, link.created_at).await?;
    let mut imported = Vec::new();
    let mut created = Vec::new();
    for (&i, result) in creates.iter().zip(outcome.created) {
        match result {
            Ok(share) => {
                // The clicks the other tool counted belong to its main code, not a back-half.
                let clicks = if i == 0 {
                    i64::try_from(link.clicks).unwrap_or(i64::MAX)
                } else {
                    0
                };
                imported.push((share.id, clicks));
                created.push(share.code);
            }
            Err(MintRefusal::CodeTaken) => {
                planned.codes[i].1 = Decision::Conflict("the code was taken while importing".into());
            }
            Err(refusal) => planned.codes[i].1 = Decision::Conflict(refusal.to_string()),
        }
    }
    if !imported.is_empty() {
        store
            .record_imported_shares(link_id, &imported, format.as_str(), now)
            .await?;
    }
    Ok(created)
}

/// A new link at its original date, in the campaign its first tag names.
async fn create_link(store: &dyn Store, link: &ImportedLink) -> StoreResult<i64> {
    let campaign = match &link.campaign {
        Some(name) => {
            let slug = name.slug();
            match store.create_campaign(&slug, name.as_str(), link.created_at).await {
                Ok(_) | Err(StoreError::CampaignExists) => Some(slug),
                Err(err) => return Err(err),
            }
        }
        None => None,
    };
    let new = NewLink {
        url: link.url.clone(),
        title: link.title.as_ref().map(|t| t.as_str().to_owned()),
        campaign,
    };
    Ok(store.create_link(&new, link.created_at).await?.id)
}
