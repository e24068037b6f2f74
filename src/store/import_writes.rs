//! An imported link written whole, in one transaction on either backend: the link when it is
//! new (with its campaign), its codes as custom slugs on `direct` shares minted the way every
//! share is (`minting::mint_with`), where each came from with the clicks counted there, and the
//! visit history its export held. A failure anywhere leaves nothing of it behind, so a run that
//! stopped half-way is finished by running it again; and a new link none of whose codes could
//! be minted (another writer took them since the plan) is not kept empty.

use super::minting::{MintStatements, mint_with};
use super::postgres::PgStore;
use super::postgres_mint::{BEGIN, PgMint};
use super::sqlite::SqliteStore;
use super::sqlite_mint::SqliteMint;
use super::{MintBatch, MintOutcome, MintRefusal, NewCode, NewShare, ShareLink, ShareRecord, StoreError, StoreResult};
use crate::domain::channel::{BuiltinChannel, Channel};
use crate::domain::code::Code;
use crate::domain::destination::Destination;
use crate::domain::import::history::VisitHistory;

/// One imported link's writes.
#[derive(Debug, Clone)]
pub struct ImportWrite {
    pub link: ImportTarget,
    /// The codes to mint, in the row's order.
    pub codes: Vec<ImportedCodeWrite>,
    /// Where they come from: `bitly`, `shlink`, `yourls`, `csv`.
    pub source: &'static str,
    /// When the other tool made the link: its shares count on that day.
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub enum ImportTarget {
    New(NewImportedLink),
    /// A link that has one of the row's codes already: a code added there since joins it.
    Existing(i64),
}

#[derive(Debug, Clone)]
pub struct NewImportedLink {
    pub url: Destination,
    pub title: Option<String>,
    /// `(slug, name)`: created with the link when no campaign has that slug.
    pub campaign: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct ImportedCodeWrite {
    pub code: Code,
    /// Clicks the other tool counted on it.
    pub clicks: i64,
    /// The visits it logged on it, where the export held them.
    pub history: Option<VisitHistory>,
}

/// What was written: each code's share or why it was refused, in the order of `codes`.
#[derive(Debug)]
pub struct ImportWritten {
    pub link_id: Option<i64>,
    pub created: Vec<Result<ShareRecord, MintRefusal>>,
}

/// The statements an import adds to a share batch's, on the same transaction.
#[allow(async_fn_in_trait)]
pub(super) trait ImportStatements: MintStatements {
    async fn insert_link(&mut self, link: &NewImportedLink, now: i64) -> StoreResult<i64>;
    async fn record_share(
        &mut self,
        share_id: i64,
        link_id: i64,
        source: &str,
        clicks: i64,
        now: i64,
    ) -> StoreResult<()>;
    async fn record_history(&mut self, share_id: i64, link_id: i64, history: &VisitHistory) -> StoreResult<()>;
}

/// The writes of `write`, inside the transaction `sql` runs in, and the batch its shares were
/// minted in (for the announcements). No share minted: nothing worth keeping, roll back.
async fn import_with<S: ImportStatements>(
    sql: &mut S,
    write: &ImportWrite,
    now: i64,
) -> StoreResult<(MintBatch, ImportWritten)> {
    let link_id = match &write.link {
        ImportTarget::New(link) => sql.insert_link(link, write.created_at).await?,
        ImportTarget::Existing(id) => *id,
    };
    let batch = MintBatch {
        creates: write
            .codes
            .iter()
            .map(|c| NewShare {
                link: ShareLink::Link(link_id),
                code: NewCode::Slug(c.code.clone()),
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
    let outcome = mint_with(sql, &batch, write.created_at).await?;
    for (code, result) in write.codes.iter().zip(&outcome.created) {
        if let Ok(share) = result {
            sql.record_share(share.id, link_id, write.source, code.clicks, now)
                .await?;
            if let Some(history) = code.history.as_ref().filter(|h| !h.is_empty()) {
                sql.record_history(share.id, link_id, history).await?;
            }
        }
    }
    let minted = outcome.created.iter().any(Result::is_ok);
    let written = ImportWritten {
        link_id: minted.then_some(link_id),
        created: outcome.created,
    };
    Ok((batch, written))
}

const INSERT_CAMPAIGN: &str =
    "INSERT INTO campaigns (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING";
const INSERT_LINK: &str = "INSERT INTO links (url, title, campaign, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
const INSERT_IMPORTED_SHARE: &str = "INSERT INTO imported_shares (share_id, link_id, source, clicks, imported_at) \
     VALUES ($1, $2, $3, $4, $5)";
const INSERT_IMPORTED_VISITS: &str =
    "INSERT INTO imported_visits (share_id, link_id, day, country, clicks, bots) VALUES ($1, $2, $3, $4, $5, $6)";

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ImportStatements for SqliteMint<'_> {
    async fn insert_link(&mut self, link: &NewImportedLink, now: i64) -> StoreResult<i64> {
        if let Some((slug, name)) = &link.campaign {
            self.conn.execute(INSERT_CAMPAIGN, (slug, name, now))?;
        }
        let campaign = link.campaign.as_ref().map(|(slug, _)| slug);
        Ok(self
            .conn
            .query_row(INSERT_LINK, (link.url.as_str(), &link.title, campaign, now), |row| {
                row.get(0)
            })?)
    }

    async fn record_share(
        &mut self,
        share_id: i64,
        link_id: i64,
        source: &str,
        clicks: i64,
        now: i64,
    ) -> StoreResult<()> {
        self.conn
            .execute(INSERT_IMPORTED_SHARE, (share_id, link_id, source, clicks, now))?;
        Ok(())
    }

    async fn record_history(&mut self, share_id: i64, link_id: i64, history: &VisitHistory) -> StoreResult<()> {
        let mut insert = self.conn.prepare(INSERT_IMPORTED_VISITS)?;
        for (day, country, tally) in history.tallies() {
            insert.execute((share_id, link_id, day, country, count(tally.clicks), count(tally.bots)))?;
        }
        Ok(())
    }
}

impl ImportStatements for PgMint<'_, '_> {
    async fn insert_link(&mut self, link: &NewImportedLink, now: i64) -> StoreResult<i64> {
        if let Some((slug, name)) = &link.campaign {
            sqlx::query(INSERT_CAMPAIGN)
                .bind(slug)
                .bind(name)
                .bind(now)
                .execute(&mut **self.tx)
                .await?;
        }
        Ok(sqlx::query_scalar(INSERT_LINK)
            .bind(link.url.as_str())
            .bind(&link.title)
            .bind(link.campaign.as_ref().map(|(slug, _)| slug))
            .bind(now)
            .fetch_one(&mut **self.tx)
            .await?)
    }

    async fn record_share(
        &mut self,
        share_id: i64,
        link_id: i64,
        source: &str,
        clicks: i64,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(INSERT_IMPORTED_SHARE)
            .bind(share_id)
            .bind(link_id)
            .bind(source)
            .bind(clicks)
            .bind(now)
            .execute(&mut **self.tx)
            .await?;
        Ok(())
    }

    async fn record_history(&mut self, share_id: i64, link_id: i64, history: &VisitHistory) -> StoreResult<()> {
        let rows: Vec<_> = history.tallies().collect();
        sqlx::query(
            "INSERT INTO imported_visits (share_id, link_id, day, country, clicks, bots) \
             SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::int8[], $6::int8[])",
        )
        .bind(share_id)
        .bind(link_id)
        .bind(rows.iter().map(|(day, _, _)| *day).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, country, _)| *country).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, t)| count(t.clicks)).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, t)| count(t.bots)).collect::<Vec<_>>())
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }
}

impl SqliteStore {
    pub(super) async fn write_import(&self, write: &ImportWrite, now: i64) -> StoreResult<ImportWritten> {
        use futures_util::FutureExt;
        self.in_process_transaction(|conn| {
            let mut statements = SqliteMint { conn };
            // Every statement runs to completion when called: the flow never waits.
            let (_, written) = import_with(&mut statements, write, now)
                .now_or_never()
                .unwrap_or(Err(StoreError::Stalled))?;
            let keep = written.link_id.is_some();
            Ok((written, keep))
        })
        .await
    }
}

impl PgStore {
    pub(super) async fn write_import(&self, write: &ImportWrite, now: i64) -> StoreResult<ImportWritten> {
        let mut tx = self.pool().begin_with(BEGIN).await?;
        let (batch, mut written) = import_with(&mut PgMint { tx: &mut tx }, write, now).await?;
        if written.link_id.is_none() {
            tx.rollback().await?;
            return Ok(written);
        }
        let outcome = MintOutcome {
            created: written.created,
            sent: Vec::new(),
        };
        // With the commit, as a share batch's: running instances learn the codes at once.
        for change in outcome.announcements(&batch) {
            self.notify_on(&mut tx, &change).await?;
        }
        tx.commit().await?;
        written.created = outcome.created;
        Ok(written)
    }
}
