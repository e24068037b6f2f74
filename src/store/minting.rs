//! What a batch of new shares and sends means for the database, decided in plain Rust between
//! the statements of `Store::mint`: which link and parent each new share takes, and what the
//! shares that count from now on add to their links' rollups.

use super::{ShareRecord, StoreResult};
use crate::domain::cascade::{may_have_children, sums_delta_for_growth};
use crate::domain::channel::Channel;
use crate::domain::code::Code;
use crate::domain::destination::Destination;
use crate::domain::webhook::EventType;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A share someone asks for: through the API, the web UI or a site's share buttons.
#[derive(Debug, Clone)]
pub struct NewShare {
    pub link: ShareLink,
    pub code: NewCode,
    pub channel: Channel,
    pub parent: Option<Code>,
    pub label: Option<String>,
    pub expires_at: Option<i64>,
    /// The fragment token of an address-bar reshare: the same token is the same share.
    pub token: Option<String>,
    /// `Some(end)`: only reserve the code until then (the share buttons, on hover or focus). A
    /// reservation counts nowhere until it is sent; `None` mints a share that counts at once.
    pub reserved_until: Option<i64>,
}

/// The code a new share asks for.
#[derive(Debug, Clone)]
pub enum NewCode {
    /// Generated for it: drawn again in the unlikely case it is taken.
    Drawn(Code),
    /// A marketer's custom slug: unique ignoring case, refused when taken.
    Slug(Code),
    /// A generated code handed out before (a reservation that was lost): kept, or refused.
    Kept(Code),
}

impl NewCode {
    pub fn code(&self) -> &Code {
        match self {
            NewCode::Drawn(code) | NewCode::Slug(code) | NewCode::Kept(code) => code,
        }
    }

    pub fn is_slug(&self) -> bool {
        matches!(self, NewCode::Slug(_))
    }
}

/// Which link a new share carries.
#[derive(Debug, Clone)]
pub enum ShareLink {
    /// A link named by id (the API, the web UI): a parent must be a share of it.
    Link(i64),
    /// A page of a site, from its share buttons: the link of the share the visitor arrived
    /// through when that link carries this same page, else the site's own link for the page.
    SitePage(SitePage),
}

#[derive(Debug, Clone)]
pub struct SitePage {
    pub site_id: i64,
    /// The site's `utm_campaign`, given to the page's link when it is created.
    pub campaign: Option<String>,
    /// Already without fragment, `st` and `utm_*` (`Destination::page`).
    pub page: Destination,
    pub title: Option<String>,
}

/// Why one share of a batch was not minted or sent; the rest of the batch goes ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MintRefusal {
    #[error("no link has that id")]
    LinkNotFound,
    #[error("no share has that parent code")]
    ParentNotFound,
    #[error("the parent share belongs to another link")]
    ParentOnOtherLink,
    #[error("the parent share is as deep as a cascade may go")]
    TooDeep,
    #[error("unknown channel")]
    UnknownChannel,
    #[error("that code or slug is already taken")]
    CodeTaken,
    #[error("no reservation has that code, or it has expired")]
    NotReserved,
}

/// New shares and sends of reserved codes, written in one transaction.
#[derive(Debug, Default)]
pub struct MintBatch {
    pub creates: Vec<NewShare>,
    pub sends: Vec<Code>,
}

/// Each request's answer, in the order of the batch.
#[derive(Debug, Default)]
pub struct MintOutcome {
    pub created: Vec<Result<ShareRecord, MintRefusal>>,
    pub sent: Vec<Result<ShareRecord, MintRefusal>>,
}

impl MintOutcome {
    /// What the batch changed for every instance's lookup: generated codes are new (learned),
    /// slugs are forgotten (a miss may be cached under them in another case).
    pub fn announcements(&self, batch: &MintBatch) -> Vec<super::Invalidation> {
        let (mut created, mut slugs) = (Vec::new(), Vec::new());
        for (share, result) in batch.creates.iter().zip(&self.created) {
            if let Ok(record) = result {
                match share.code.is_slug() {
                    true => slugs.push(record.code.clone()),
                    false => created.push(record.code.clone()),
                }
            }
        }
        [super::Invalidation::Created(created), super::Invalidation::Codes(slugs)]
            .into_iter()
            .filter(|change| !matches!(change, super::Invalidation::Created(c) | super::Invalidation::Codes(c) if c.is_empty()))
            .collect()
    }
}

/// A share that may become a parent, with what decides whether a cascade continues under it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParentRow {
    pub id: i64,
    pub code: String,
    pub slug_key: Option<String>,
    pub link_id: i64,
    pub depth: i64,
    pub reserved_until: Option<i64>,
    pub link_url: String,
    pub link_disabled_at: Option<i64>,
    pub link_expires_at: Option<i64>,
}

impl ParentRow {
    /// A share of the same page on a link that still redirects: a reshare continues its cascade.
    fn carries(&self, page: &Destination, now: i64) -> bool {
        self.link_disabled_at.is_none()
            && self.link_expires_at.is_none_or(|at| at > now)
            && Destination::parse(&self.link_url).is_ok_and(|url| url.page() == *page)
    }
}

/// What the database said about the links, parents and channels a batch names.
#[derive(Debug, Default)]
pub struct Known {
    pub parents: Vec<ParentRow>,
    pub links: HashSet<i64>,
    pub channels: HashSet<String>,
}

impl Known {
    /// The share a parent code names: its exact code first, then a custom slug in any case.
    fn parent(&self, code: &Code) -> Option<&ParentRow> {
        let by_code = self.parents.iter().find(|p| p.code == code.as_str());
        let slug_key = code.slug_key();
        by_code.or_else(|| {
            self.parents
                .iter()
                .find(|p| p.slug_key.as_deref() == Some(slug_key.as_str()))
        })
    }
}

/// Where a new share goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// `None`: the site's link for the page, created if need be.
    pub link_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub depth: i64,
}

impl Placement {
    fn root(link_id: Option<i64>) -> Placement {
        Placement {
            link_id,
            parent_id: None,
            depth: 1,
        }
    }

    fn under(parent: &ParentRow) -> Placement {
        Placement {
            link_id: Some(parent.link_id),
            parent_id: Some(parent.id),
            depth: parent.depth + 1,
        }
    }
}

/// Decides the link and parent of `share`. A reservation is never a parent: it was not sent.
pub fn place(share: &NewShare, known: &Known, now: i64) -> Result<Placement, MintRefusal> {
    if let Channel::Custom(name) = &share.channel
        && !known.channels.contains(name)
    {
        return Err(MintRefusal::UnknownChannel);
    }
    let parent = share
        .parent
        .as_ref()
        .map(|code| known.parent(code).filter(|p| p.reserved_until.is_none()));
    match &share.link {
        ShareLink::Link(id) => {
            if !known.links.contains(id) {
                return Err(MintRefusal::LinkNotFound);
            }
            match parent {
                None => Ok(Placement::root(Some(*id))),
                Some(None) => Err(MintRefusal::ParentNotFound),
                Some(Some(p)) if p.link_id != *id => Err(MintRefusal::ParentOnOtherLink),
                Some(Some(p)) if !may_have_children(p.depth) => Err(MintRefusal::TooDeep),
                Some(Some(p)) => Ok(Placement::under(p)),
            }
        }
        // A parent on another page, or on a link that no longer redirects, starts the page's own
        // cascade rather than failing the visitor's share.
        ShareLink::SitePage(site_page) => match parent.flatten() {
            Some(p) if p.carries(&site_page.page, now) => {
                if may_have_children(p.depth) {
                    Ok(Placement::under(p))
                } else {
                    Err(MintRefusal::TooDeep)
                }
            }
            _ => Ok(Placement::root(None)),
        },
    }
}

/// A share that counts from this batch on: newly minted (not reserved), or a reservation sent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CountedShare {
    /// The share's id: what its `share.created` webhook names. Not part of a parked tally.
    #[serde(skip)]
    pub id: i64,
    pub link_id: i64,
    pub parent_id: Option<i64>,
    pub depth: i64,
    pub channel: String,
}

/// How many shares each ancestor gains: one per counted share below it. `chains` maps each
/// parent to itself and its ancestors; `link_of` remembers each ancestor's link for the sums.
pub fn growth(counted: &[CountedShare], chains: &HashMap<i64, Vec<i64>>) -> BTreeMap<i64, (i64, u64)> {
    let mut grows: BTreeMap<i64, (i64, u64)> = BTreeMap::new();
    for share in counted {
        let Some(parent) = share.parent_id else { continue };
        for ancestor in chains.get(&parent).map(Vec::as_slice).unwrap_or_default() {
            grows.entry(*ancestor).or_insert((share.link_id, 0)).1 += 1;
        }
    }
    grows
}

/// What the counted shares of a batch add to each link's rollups.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ShareTally {
    pub links: BTreeMap<i64, LinkShares>,
    pub channels: BTreeMap<(i64, String), i64>,
    pub depths: BTreeMap<(i64, i64), i64>,
    pub days: BTreeMap<(i64, String), i64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct LinkShares {
    pub shares: i64,
    pub child_shares: i64,
    pub max_depth: i64,
    pub sum_sizes: i64,
    pub sum_sq_sizes: i64,
}

impl ShareTally {
    /// `grown` holds every ancestor that grew: its link, by how much, and its size after.
    pub fn new(counted: &[CountedShare], grown: &[(i64, u64, u64)], day: &str) -> ShareTally {
        let mut tally = ShareTally::default();
        for share in counted {
            let link = tally.links.entry(share.link_id).or_default();
            link.shares += 1;
            link.child_shares += i64::from(share.parent_id.is_some());
            link.max_depth = link.max_depth.max(share.depth);
            *tally
                .channels
                .entry((share.link_id, share.channel.clone()))
                .or_default() += 1;
            *tally.depths.entry((share.link_id, share.depth)).or_default() += 1;
            *tally.days.entry((share.link_id, day.to_owned())).or_default() += 1;
        }
        let mut sizes: BTreeMap<i64, Vec<(u64, u64)>> = BTreeMap::new();
        for share in counted {
            // A new share, or a reservation (which never has children), joins at size 1.
            sizes.entry(share.link_id).or_default().push((0, 1));
        }
        for &(link_id, gained, after) in grown {
            sizes
                .entry(link_id)
                .or_default()
                .push((after.saturating_sub(gained), after));
        }
        for (link_id, sizes) in sizes {
            let (sum, sum_sq) = sums_delta_for_growth(sizes);
            let link = tally.links.entry(link_id).or_default();
            link.sum_sizes += i64::try_from(sum).unwrap_or(i64::MAX);
            link.sum_sq_sizes += i64::try_from(sum_sq).unwrap_or(i64::MAX);
        }
        tally
    }

    /// Adds another batch's tally to this one: every figure is a sum but the deepest level.
    pub fn absorb(&mut self, other: ShareTally) {
        for (id, n) in other.links {
            let link = self.links.entry(id).or_default();
            link.shares += n.shares;
            link.child_shares += n.child_shares;
            link.max_depth = link.max_depth.max(n.max_depth);
            link.sum_sizes += n.sum_sizes;
            link.sum_sq_sizes += n.sum_sq_sizes;
        }
        for (key, n) in other.channels {
            *self.channels.entry(key).or_default() += n;
        }
        for (key, n) in other.depths {
            *self.depths.entry(key).or_default() += n;
        }
        for (key, n) in other.days {
            *self.days.entry(key).or_default() += n;
        }
    }

    /// The tally a row of `pending_share_tallies` holds: the shares one PostgreSQL batch
    /// counted with the growth of their ancestors (see `PgMint::count_shares`), or a tally
    /// parked whole by the version before.
    pub fn from_parked(text: &str) -> Result<ShareTally, serde_json::Error> {
        // Not an untagged enum: that buffers every row into an intermediate tree first,
        // most of a fold's time. The old form is the rare one, read only when the new fails.
        match serde_json::from_str::<ParkedBatch>(text) {
            Ok(ParkedBatch { day, counted, grown }) => Ok(ShareTally::new(&counted, &grown, &day)),
            Err(err) => match serde_json::from_str::<ParkedTally>(text) {
                Ok(old) => Ok(ShareTally {
                    links: old.links.into_iter().collect(),
                    channels: old.channels.into_iter().map(|(id, c, n)| ((id, c), n)).collect(),
                    depths: old.depths.into_iter().map(|(id, d, n)| ((id, d), n)).collect(),
                    days: old.days.into_iter().map(|(id, d, n)| ((id, d), n)).collect(),
                }),
                Err(_) => Err(err),
            },
        }
    }
}

/// A row of `pending_share_tallies`: a batch's counted shares, the day they count on, and each
/// grown ancestor as `[link, gained, size after]`.
#[derive(serde::Deserialize)]
struct ParkedBatch {
    day: String,
    counted: Vec<CountedShare>,
    grown: Vec<(i64, u64, u64)>,
}

/// A row parked by the version before: `ShareTally` as JSON can hold it, maps keyed by pairs
/// as lists of rows.
#[derive(serde::Deserialize)]
struct ParkedTally {
    links: Vec<(i64, LinkShares)>,
    channels: Vec<(i64, String, i64)>,
    depths: Vec<(i64, i64, i64)>,
    days: Vec<(i64, String, i64)>,
}

/// How many counted shares each parent gains directly, in parent order: what
/// `PgMint::count_shares` grows along each parent's chain.
pub(super) fn gains_by_parent(counted: &[CountedShare]) -> Vec<(i64, i64)> {
    let mut gains: BTreeMap<i64, i64> = BTreeMap::new();
    for parent in counted.iter().filter_map(|c| c.parent_id) {
        *gains.entry(parent).or_default() += 1;
    }
    gains.into_iter().collect()
}

/// The statements of a batch, one implementation per backend: PostgreSQL sends each as one round
/// trip with its rows as arrays (a fixed text, prepared once), SQLite runs them in-process, row
/// by row, on the transaction's own connection. The batch's logic is `mint_with`, written once.
#[allow(async_fn_in_trait)]
pub(super) trait MintStatements {
    /// The shares the codes name (an exact code, or a custom slug by its key), with their links.
    async fn parents(&mut self, codes: &[&str], slug_keys: &[String]) -> StoreResult<Vec<ParentRow>>;
    /// Which of these link ids exist.
    async fn existing_links(&mut self, ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// Which of these custom channels exist.
    async fn known_channels(&mut self, names: &[&str]) -> StoreResult<Vec<String>>;
    /// The link of each site page, created on its first share (with its site's campaign):
    /// `(link id, site id, url)`.
    async fn site_page_links(&mut self, pages: &[&SitePage], now: i64) -> StoreResult<Vec<(i64, i64, String)>>;
    /// Makes shares of the reservations among `codes`, even those whose time ran out while
    /// their page stayed open (the click is what counts; those counted from now on are
    /// returned), then lists every one of `codes` that is a share now, as `(id, code)`.
    async fn send(&mut self, codes: &[&str], now: i64) -> StoreResult<(Vec<CountedShare>, Vec<(i64, String)>)>;
    /// Shares carrying these address-bar tokens: `(id, link id, token)`.
    async fn token_shares(&mut self, tokens: &[&str]) -> StoreResult<Vec<(i64, i64, String)>>;
    /// Inserts the rows that take no code or slug already taken: `(id, code)` of those inserted.
    async fn insert_shares(&mut self, rows: &[NewRow<'_>], now: i64) -> StoreResult<Vec<(i64, String)>>;
    /// Adds shares that count from now on (none of them a parent of another) to their
    /// ancestors' subtree sizes and to their links' rollups, and raises each `(link, depth)`
    /// of `marks` where the link's deepest level is lower: SQLite in steps, PostgreSQL in one
    /// statement that grows the ancestors and parks the rest for a fold (see
    /// `PgStore::fold_share_tallies`). What the webhooks need comes back with it, so that a
    /// batch pays no round trip for them.
    async fn count_shares(
        &mut self,
        counted: &[CountedShare],
        day: &str,
        marks: &[(i64, i64)],
    ) -> StoreResult<CountingNews>;
    async fn share_records(&mut self, ids: &[i64]) -> StoreResult<Vec<ShareRecord>>;
    /// Queues each event's `data` for the enabled endpoints subscribed to its type, in order.
    async fn enqueue_webhooks(&mut self, events: &[(EventType, String)], now: i64) -> StoreResult<()>;
}

/// What counting a batch's shares tells its webhooks.
#[derive(Debug, Default)]
pub(super) struct CountingNews {
    /// The links whose deepest level rose.
    pub risen: Vec<i64>,
    /// The `events` of every enabled webhook endpoint, as stored.
    pub subscriptions: Vec<String>,
}

/// A share row to insert.
#[derive(Debug)]
pub(super) struct NewRow<'a> {
    pub link_id: i64,
    pub code: &'a str,
    pub slug_key: Option<String>,
    pub channel: &'a str,
    pub parent_id: Option<i64>,
    pub depth: i64,
    pub label: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub token: Option<&'a str>,
    pub reserved_until: Option<i64>,
}

/// `Store::mint`, inside the transaction `sql` runs in: read what the batch names, place every
/// new share, send the reserved codes, insert, then count what counts from now on.
pub(super) async fn mint_with<S: MintStatements>(sql: &mut S, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
    let known = read_known(sql, batch).await?;
    let mut placements: Vec<_> = batch.creates.iter().map(|s| place(s, &known, now)).collect();
    place_on_site_pages(sql, batch, &mut placements, now).await?;
    let mut counted: Vec<CountedShare> = Vec::new();
    let sent = send_reserved(sql, &batch.sends, now, &mut counted).await?;
    let created = insert(sql, batch, &placements, now, &mut counted).await?;
    let deepest = super::webhooks::deepest_shares(&counted);
    let news = count(sql, &counted, &deepest, now).await?;
    // New rows are known whole; shares that existed already (sent, or of a token) are read.
    let mut records: HashMap<i64, ShareRecord> = HashMap::new();
    for ((share, placed), result) in batch.creates.iter().zip(&placements).zip(&created) {
        if let (Ok(placed), Ok(Inserted::New(id, code))) = (placed, result) {
            records.insert(*id, new_record(*id, code, share, placed, &known, now));
        }
    }
    let others: Vec<i64> = sent
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .chain(created.iter().filter_map(|r| match r {
            Ok(Inserted::Existing(id)) => Some(*id),
            _ => None,
        }))
        .collect();
    if !others.is_empty() {
        records.extend(sql.share_records(&others).await?.into_iter().map(|r| (r.id, r)));
    }
    super::webhooks::announce_shares(sql, &counted, &deepest, news, &records, now).await?;
    let answer = |id: i64| records.get(&id).cloned().ok_or(MintRefusal::NotReserved);
    Ok(MintOutcome {
        sent: sent.into_iter().map(|r| r.and_then(answer)).collect(),
        created: created
            .into_iter()
            .map(|r| r.and_then(|inserted| answer(inserted.id())))
            .collect(),
    })
}

async fn read_known<S: MintStatements>(sql: &mut S, batch: &MintBatch) -> StoreResult<Known> {
    let mut known = Known::default();
    let parents: Vec<&str> = batch
        .creates
        .iter()
        .filter_map(|s| s.parent.as_ref())
        .map(Code::as_str)
        .collect();
    if !parents.is_empty() {
        let slug_keys: Vec<String> = batch
            .creates
            .iter()
            .filter_map(|s| s.parent.as_ref())
            .map(Code::slug_key)
            .collect();
        known.parents = sql.parents(&parents, &slug_keys).await?;
    }
    // A parent was read with its link, so the links of parents exist; only the others are asked.
    known.links = known.parents.iter().map(|p| p.link_id).collect();
    let links: BTreeSet<i64> = batch
        .creates
        .iter()
        .filter_map(|s| match s.link {
            ShareLink::Link(id) => Some(id),
            ShareLink::SitePage(_) => None,
        })
        .filter(|id| !known.links.contains(id))
        .collect();
    if !links.is_empty() {
        let existing = sql.existing_links(&links.into_iter().collect::<Vec<_>>()).await?;
        known.links.extend(existing);
    }
    let channels: BTreeSet<&str> = batch
        .creates
        .iter()
        .filter_map(|s| match &s.channel {
            Channel::Custom(name) => Some(name.as_str()),
            Channel::Builtin(_) => None,
        })
        .collect();
    if !channels.is_empty() {
        known.channels = sql
            .known_channels(&channels.into_iter().collect::<Vec<_>>())
            .await?
            .into_iter()
            .collect();
    }
    Ok(known)
}

/// Gives the shares that start a page's own cascade that page's link of its site.
async fn place_on_site_pages<S: MintStatements>(
    sql: &mut S,
    batch: &MintBatch,
    placements: &mut [Result<Placement, MintRefusal>],
    now: i64,
) -> StoreResult<()> {
    let mut pages: BTreeMap<(i64, &str), &SitePage> = BTreeMap::new();
    for (share, placed) in batch.creates.iter().zip(placements.iter()) {
        if let (ShareLink::SitePage(page), Ok(Placement { link_id: None, .. })) = (&share.link, placed) {
            pages.entry((page.site_id, page.page.as_str())).or_insert(page);
        }
    }
    if pages.is_empty() {
        return Ok(());
    }
    let pages: Vec<&SitePage> = pages.into_values().collect();
    let mut links = sql.site_page_links(&pages, now).await?;
    // Another instance may have created a page's link after this statement saw the table; a
    // second look finds it.
    let missing: Vec<&SitePage> = pages
        .into_iter()
        .filter(|p| {
            !links
                .iter()
                .any(|(_, site, url)| *site == p.site_id && url == p.page.as_str())
        })
        .collect();
    if !missing.is_empty() {
        links.extend(sql.site_page_links(&missing, now).await?);
    }
    for (share, placed) in batch.creates.iter().zip(placements.iter_mut()) {
        let (ShareLink::SitePage(page), Ok(placement)) = (&share.link, &mut *placed) else {
            continue;
        };
        if placement.link_id.is_some() {
            continue;
        }
        match links
            .iter()
            .find(|(_, site, url)| *site == page.site_id && url == page.page.as_str())
        {
            Some((id, ..)) => placement.link_id = Some(*id),
            None => *placed = Err(MintRefusal::LinkNotFound),
        }
    }
    Ok(())
}

async fn send_reserved<S: MintStatements>(
    sql: &mut S,
    sends: &[Code],
    now: i64,
    counted: &mut Vec<CountedShare>,
) -> StoreResult<Vec<Result<i64, MintRefusal>>> {
    if sends.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<&str> = sends.iter().map(Code::as_str).collect();
    let (promoted, shares) = sql.send(&codes, now).await?;
    counted.extend(promoted);
    Ok(codes
        .iter()
        .map(|code| {
            shares
                .iter()
                .find(|(_, c)| c == code)
                .map(|(id, _)| *id)
                .ok_or(MintRefusal::NotReserved)
        })
        .collect())
}

/// What became of a new share's row.
#[derive(Debug, Clone)]
enum Inserted {
    /// A new row, under the code it took (a generated code may have been drawn again).
    New(i64, Code),
    /// An address-bar share whose token the link had already: that share.
    Existing(i64),
}

impl Inserted {
    fn id(&self) -> i64 {
        match self {
            Inserted::New(id, _) | Inserted::Existing(id) => *id,
        }
    }
}

/// Inserts the placed shares. A generated code that collides is drawn again; a taken slug is
/// refused; an address-bar token its link has already is that share.
async fn insert<S: MintStatements>(
    sql: &mut S,
    batch: &MintBatch,
    placements: &[Result<Placement, MintRefusal>],
    now: i64,
    counted: &mut Vec<CountedShare>,
) -> StoreResult<Vec<Result<Inserted, MintRefusal>>> {
    const ATTEMPTS: usize = 8;
    let creates = &batch.creates;
    let mut results: Vec<Option<Result<Inserted, MintRefusal>>> = placements
        .iter()
        .map(|p| match p {
            Ok(Placement { link_id: Some(_), .. }) => None,
            Ok(_) => Some(Err(MintRefusal::LinkNotFound)),
            Err(refusal) => Some(Err(*refusal)),
        })
        .collect();
    find_token_shares(sql, creates, placements, &mut results).await?;
    let mut codes: Vec<Code> = creates.iter().map(|s| s.code.code().clone()).collect();
    for attempt in 1..=ATTEMPTS {
        let pending: Vec<usize> = (0..creates.len()).filter(|&i| results[i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        let rows: Vec<NewRow> = pending
            .iter()
            .filter_map(|&i| {
                let (share, placed) = (&creates[i], placements[i].as_ref().ok()?);
                Some(NewRow {
                    link_id: placed.link_id?,
                    code: codes[i].as_str(),
                    slug_key: share.code.is_slug().then(|| codes[i].slug_key()),
                    channel: share.channel.as_str(),
                    parent_id: placed.parent_id,
                    depth: placed.depth,
                    label: share.label.as_deref(),
                    expires_at: share.expires_at,
                    token: share.token.as_deref(),
                    reserved_until: share.reserved_until,
                })
            })
            .collect();
        let inserted = sql.insert_shares(&rows, now).await?;
        for i in pending {
            let share = &creates[i];
            if let Some((id, _)) = inserted.iter().find(|(_, code)| code == codes[i].as_str()) {
                results[i] = Some(Ok(Inserted::New(*id, codes[i].clone())));
                if let (None, Ok(placed)) = (share.reserved_until, &placements[i]) {
                    counted.push(CountedShare {
                        id: *id,
                        link_id: placed.link_id.unwrap_or_default(),
                        parent_id: placed.parent_id,
                        depth: placed.depth,
                        channel: share.channel.as_str().to_owned(),
                    });
                }
            } else if !matches!(share.code, NewCode::Drawn(_)) || share.token.is_some() || attempt == ATTEMPTS {
                results[i] = Some(Err(MintRefusal::CodeTaken));
            } else {
                codes[i] = Code::generate();
            }
        }
    }
    // A token refused above was taken by an arrival written meanwhile: that is its share.
    find_token_shares(sql, creates, placements, &mut results).await?;
    Ok(results
        .into_iter()
        .map(|result| result.unwrap_or(Err(MintRefusal::CodeTaken)))
        .collect())
}

/// Fills in the address-bar shares whose token their link has already.
async fn find_token_shares<S: MintStatements>(
    sql: &mut S,
    creates: &[NewShare],
    placements: &[Result<Placement, MintRefusal>],
    results: &mut [Option<Result<Inserted, MintRefusal>>],
) -> StoreResult<()> {
    let open =
        |result: &Option<Result<Inserted, MintRefusal>>| matches!(result, None | Some(Err(MintRefusal::CodeTaken)));
    let tokens: Vec<&str> = (0..creates.len())
        .filter(|&i| open(&results[i]))
        .filter_map(|i| creates[i].token.as_deref())
        .collect();
    if tokens.is_empty() {
        return Ok(());
    }
    let found = sql.token_shares(&tokens).await?;
    for i in 0..creates.len() {
        let (Some(token), Ok(placed)) = (creates[i].token.as_deref(), &placements[i]) else {
            continue;
        };
        if !open(&results[i]) {
            continue;
        }
        if let Some((id, ..)) = found
            .iter()
            .find(|(_, link, t)| Some(*link) == placed.link_id && t == token)
        {
            results[i] = Some(Ok(Inserted::Existing(*id)));
        }
    }
    Ok(())
}

async fn count<S: MintStatements>(
    sql: &mut S,
    counted: &[CountedShare],
    deepest: &BTreeMap<i64, &CountedShare>,
    now: i64,
) -> StoreResult<CountingNews> {
    if counted.is_empty() {
        return Ok(CountingNews::default());
    }
    let marks: Vec<(i64, i64)> = deepest.iter().map(|(link, s)| (*link, s.depth)).collect();
    sql.count_shares(counted, &crate::clock::day_of(now), &marks).await
}

/// The record of a row just inserted, without reading it back.
fn new_record(id: i64, code: &Code, share: &NewShare, placed: &Placement, known: &Known, now: i64) -> ShareRecord {
    let parent_code = placed
        .parent_id
        .and_then(|parent| known.parents.iter().find(|p| p.id == parent))
        .map(|p| p.code.clone());
    ShareRecord {
        id,
        link_id: placed.link_id.unwrap_or_default(),
        code: code.as_str().to_owned(),
        channel: share.channel.as_str().to_owned(),
        parent_code,
        depth: placed.depth,
        label: share.label.clone(),
        created_at: now,
        disabled_at: None,
        expires_at: share.expires_at,
        inferred_channel: None,
        clicks: 0,
        unfurls: 0,
        bots: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn page(url: &str) -> Destination {
        Destination::parse(url).unwrap().page()
    }

    fn parent(id: i64, code: &str, link_id: i64, depth: i64, url: &str) -> ParentRow {
        ParentRow {
            id,
            code: code.to_owned(),
            slug_key: None,
            link_id,
            depth,
            reserved_until: None,
            link_url: url.to_owned(),
            link_disabled_at: None,
            link_expires_at: None,
        }
    }

    fn share(link: ShareLink, parent: Option<&str>) -> NewShare {
        NewShare {
            link,
            code: NewCode::Drawn(Code::generate()),
            channel: Channel::parse("email").unwrap(),
            parent: parent.map(|p| Code::parse(p).unwrap()),
            label: None,
            expires_at: None,
            token: None,
            reserved_until: None,
        }
    }

    fn site_page(url: &str) -> ShareLink {
        ShareLink::SitePage(SitePage {
            site_id: 1,
            campaign: None,
            page: page(url),
            title: None,
        })
    }

    fn known(parents: Vec<ParentRow>) -> Known {
        Known {
            parents,
            links: HashSet::from([7, 8]),
            channels: HashSet::new(),
        }
    }

    #[test]
    fn a_button_share_continues_the_cascade_of_any_link_of_the_same_page() {
        // A marketer's campaign link (7) for the page, shared on WhatsApp as code Wa2345xy.
        let known = known(vec![parent(70, "Wa2345xy", 7, 1, "https://blog.example/post?ref=x")]);
        let reshare = share(
            site_page("https://blog.example/post?ref=x&utm_source=whatsapp&st=Wa2345xy"),
            Some("Wa2345xy"),
        );
        let placed = place(&reshare, &known, NOW).unwrap();
        assert_eq!(
            placed,
            Placement {
                link_id: Some(7),
                parent_id: Some(70),
                depth: 2
            }
        );
    }

    #[test]
    fn a_button_share_of_another_page_or_a_dead_link_starts_the_pages_own_cascade() {
        let mut dead = parent(71, "Dd2345xy", 8, 1, "https://blog.example/post");
        dead.link_disabled_at = Some(1);
        let known = known(vec![parent(70, "Wa2345xy", 7, 1, "https://blog.example/other"), dead]);
        for parent_code in ["Wa2345xy", "Dd2345xy", "Unknown2"] {
            let placed = place(
                &share(site_page("https://blog.example/post"), Some(parent_code)),
                &known,
                NOW,
            );
            assert_eq!(placed, Ok(Placement::root(None)), "{parent_code}");
        }
    }

    #[test]
    fn a_reservation_is_never_a_parent() {
        let mut reserved = parent(70, "Rr2345xy", 7, 1, "https://blog.example/post");
        reserved.reserved_until = Some(NOW + 1);
        let known = known(vec![reserved]);
        let api = place(&share(ShareLink::Link(7), Some("Rr2345xy")), &known, NOW);
        assert_eq!(api, Err(MintRefusal::ParentNotFound));
        let button = place(
            &share(site_page("https://blog.example/post"), Some("Rr2345xy")),
            &known,
            NOW,
        );
        assert_eq!(button, Ok(Placement::root(None)));
    }

    #[test]
    fn a_parent_at_the_depth_cap_is_refused_on_either_path() {
        let deep = parent(
            70,
            "Dp2345xy",
            7,
            crate::domain::cascade::MAX_DEPTH,
            "https://blog.example/post",
        );
        let known = known(vec![deep]);
        let api = place(&share(ShareLink::Link(7), Some("Dp2345xy")), &known, NOW);
        assert_eq!(api, Err(MintRefusal::TooDeep));
        let button = place(
            &share(site_page("https://blog.example/post"), Some("Dp2345xy")),
            &known,
            NOW,
        );
        assert_eq!(button, Err(MintRefusal::TooDeep));
    }

    #[test]
    fn the_api_refuses_unknown_links_and_parents_on_other_links() {
        let known = known(vec![parent(70, "Wa2345xy", 7, 1, "https://blog.example/post")]);
        assert_eq!(
            place(&share(ShareLink::Link(9), None), &known, NOW),
            Err(MintRefusal::LinkNotFound)
        );
        assert_eq!(
            place(&share(ShareLink::Link(8), Some("Wa2345xy")), &known, NOW),
            Err(MintRefusal::ParentOnOtherLink)
        );
        assert_eq!(
            place(&share(ShareLink::Link(7), Some("Nobody22")), &known, NOW),
            Err(MintRefusal::ParentNotFound)
        );
        let mut custom = share(ShareLink::Link(7), None);
        custom.channel = Channel::parse("newsletter").unwrap();
        assert_eq!(place(&custom, &known, NOW), Err(MintRefusal::UnknownChannel));
    }

    #[test]
    fn a_parent_slug_is_found_in_any_case() {
        let mut slug = parent(70, "Spring-Poster", 7, 1, "https://blog.example/post");
        slug.slug_key = Some("spring-poster".into());
        let known = known(vec![slug]);
        let placed = place(&share(ShareLink::Link(7), Some("SPRING-poster")), &known, NOW).unwrap();
        assert_eq!(placed.parent_id, Some(70));
    }

    #[test]
    fn the_tally_of_a_batch_adds_shares_depths_and_the_virality_sums() {
        // Link 7: a(10, size 2 before: a → c) gets d under it and e under c (c 1 → 2, a 2 → 4).
        let counted = [
            CountedShare {
                id: 0,
                link_id: 7,
                parent_id: Some(10),
                depth: 2,
                channel: "sms".into(),
            },
            CountedShare {
                id: 0,
                link_id: 7,
                parent_id: Some(30),
                depth: 3,
                channel: "email".into(),
            },
            CountedShare {
                id: 0,
                link_id: 8,
                parent_id: None,
                depth: 1,
                channel: "sms".into(),
            },
        ];
        let chains = HashMap::from([(10, vec![10]), (30, vec![30, 10])]);
        let grows = growth(&counted, &chains);
        assert_eq!(grows, BTreeMap::from([(10, (7, 2)), (30, (7, 1))]));
        let tally = ShareTally::new(&counted, &[(7, 2, 4), (7, 1, 2)], "2026-12-06");
        let seven = tally.links[&7];
        assert_eq!((seven.shares, seven.child_shares, seven.max_depth), (2, 2, 3));
        // d 0→1, e 0→1, c 1→2, a 2→4: Σ +5, Σ² +1+1+3+12 = 17.
        assert_eq!((seven.sum_sizes, seven.sum_sq_sizes), (5, 17));
        assert_eq!(
            tally.links[&8],
            LinkShares {
                shares: 1,
                child_shares: 0,
                max_depth: 1,
                sum_sizes: 1,
                sum_sq_sizes: 1
            }
        );
        assert_eq!(tally.channels[&(7, "sms".to_owned())], 1);
        assert_eq!(tally.depths[&(7, 3)], 1);
        assert_eq!(tally.days[&(7, "2026-12-06".to_owned())], 2);
    }

    #[test]
    fn parked_batches_fold_into_what_one_batch_of_all_their_shares_adds() {
        let share = |link_id, parent_id, depth, channel: &str| CountedShare {
            id: 0,
            link_id,
            parent_id,
            depth,
            channel: channel.into(),
        };
        let first = [share(7, None, 1, "sms"), share(7, Some(10), 2, "email")];
        let second = [share(7, Some(11), 3, "sms"), share(8, None, 1, "x")];
        let both: Vec<CountedShare> = first.iter().chain(&second).cloned().collect();
        let grown_first = [(7, 1, 2)];
        let grown_second = [(7, 1, 2), (7, 1, 3)];
        let day = "2026-12-07";
        // The shape `PgMint::count_shares` builds with json_build_object.
        let parked = |counted: &[CountedShare], grown: &[(i64, u64, u64)]| {
            serde_json::json!({ "day": day, "counted": counted, "grown": grown }).to_string()
        };

        let mut folded = ShareTally::default();
        for row in [parked(&first, &grown_first), parked(&second, &grown_second)] {
            folded.absorb(ShareTally::from_parked(&row).expect("a parked batch reads back"));
        }
        let grown_both: Vec<_> = grown_first.iter().chain(&grown_second).copied().collect();
        assert_eq!(folded, ShareTally::new(&both, &grown_both, day));
        assert_eq!(folded.links[&7].max_depth, 3, "the deepest level, not a sum");
        assert_eq!(gains_by_parent(&both), vec![(10, 1), (11, 1)]);
        assert!(ShareTally::from_parked("{\"links\": 3}").is_err());
    }

    #[test]
    fn a_tally_parked_whole_by_the_version_before_still_folds() {
        let old = r#"{"links":[[7,{"shares":2,"child_shares":1,"max_depth":2,"sum_sizes":3,"sum_sq_sizes":5}]],
            "channels":[[7,"sms",2]],"depths":[[7,1,1],[7,2,1]],"days":[[7,"2026-12-07",2]]}"#;
        let tally = ShareTally::from_parked(old).expect("the old form reads");
        assert_eq!(
            tally.links[&7],
            LinkShares {
                shares: 2,
                child_shares: 1,
                max_depth: 2,
                sum_sizes: 3,
                sum_sq_sizes: 5
            }
        );
        assert_eq!(tally.channels[&(7, "sms".to_owned())], 2);
        assert_eq!(tally.depths.len(), 2);
        assert_eq!(tally.days[&(7, "2026-12-07".to_owned())], 2);
    }
}
