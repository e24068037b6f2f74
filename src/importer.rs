//! Imports an export from another shortener: the file is parsed and planned in the domain
//! (`domain::import`), and each new code minted here as a custom slug on a `direct` share.
//!
//! `direct` is the channel of a plain short link that no share button made: an imported code
//! was handed out by hand, in a newsletter or on a poster, by whoever used the other tool, and
//! nothing says through which private channel it travelled. Minting it as a share of its link
//! at its original creation date puts it in the share figures and the cascade where a link made
//! here that day would be; its clicks from before are kept apart (`imported_shares`), and so is
//! the visit history an export holds (`imported_visits`). Each link is written whole in one
//! transaction: a run that stops anywhere leaves every link imported or untouched.

use crate::domain::import::plan::{Decision, ImportReport, PlannedLink, Target, plan};
use crate::domain::import::{FileError, ImportFormat, parse};
use crate::store::imports::{ImportTarget, ImportWrite, ImportedCodeWrite, NewImportedLink};
use crate::store::{MintRefusal, Store, StoreError, StoreResult};

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

/// Writes the link (when new), its new codes and what they brought in one transaction; returns
/// the codes created. A code another writer took since the plan becomes a conflict.
async fn write(
    store: &dyn Store,
    format: ImportFormat,
    planned: &mut PlannedLink<'_>,
    now: i64,
) -> StoreResult<Vec<String>> {
    let link = planned.link;
    let target = match planned.target {
        Target::Existing(id) => ImportTarget::Existing(id),
        Target::New => ImportTarget::New(NewImportedLink {
            url: link.url.clone(),
            title: link.title.as_ref().map(|t| t.as_str().to_owned()),
            campaign: link
                .campaign
                .as_ref()
                .map(|name| (name.slug(), name.as_str().to_owned())),
        }),
    };
    let creates: Vec<usize> = (0..planned.codes.len())
        .filter(|&i| planned.codes[i].1 == Decision::Create)
        .collect();
    let write = ImportWrite {
        link: target,
        codes: creates
            .iter()
            .map(|&i| {
                // What the other tool counted belongs to its main code, not a back-half.
                let main = i == 0;
                ImportedCodeWrite {
                    code: planned.codes[i].0.code().clone(),
                    clicks: if main {
                        i64::try_from(link.clicks).unwrap_or(i64::MAX)
                    } else {
                        0
                    },
                    history: link.history.clone().filter(|_| main),
                }
            })
            .collect(),
        source: format.as_str(),
        // Minted at the link's own date: its share counts on the day the other tool made it.
        created_at: link.created_at,
    };
    let written = store.import_link(&write, now).await?;
    let mut created = Vec::new();
    for (&i, result) in creates.iter().zip(written.created) {
        match result {
            Ok(share) => created.push(share.code),
            Err(MintRefusal::CodeTaken) => {
                planned.codes[i].1 = Decision::Conflict("the code was taken while importing".into());
            }
            Err(refusal) => planned.codes[i].1 = Decision::Conflict(refusal.to_string()),
        }
    }
    Ok(created)
}
