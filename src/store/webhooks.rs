//! Webhook endpoints and their outbox of deliveries.
//!
//! Every event is written in the transaction of what it reports (a share counted, a visit
//! batch, a conversion, a link switched off), as one delivery row per subscribed endpoint, so
//! nothing reported is lost by a crash and nothing is reported that did not happen. Clicks name
//! a range of the visit log instead of carrying their data: a visit batch adds one row per
//! endpoint and range whatever its size, and the clicks are read when the message is first sent.
//!
//! Each endpoint's queue is sent in id order by one instance at a time: an instance takes the
//! endpoint's lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, where several may share the
//! database) and keeps renewing it while it sends.

use super::minting::{CountedShare, CountingNews, MintStatements};
use super::{Backend, ShareRecord, StoreResult, visits_of};
use crate::domain::webhook::{EventSet, EventType};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Visit ids one click delivery may span: about a megabyte of JSON at most.
pub const MAX_CLICK_SPAN: i64 = 5_000;

/// One event for every enabled endpoint subscribed to its type (`$4`, a `LIKE` pattern).
pub(super) const ENQUEUE_EVENT: &str = "INSERT INTO webhook_deliveries (endpoint_id, event_type, data, created_at) \
     SELECT id, $1, $2, $3 FROM webhook_endpoints WHERE disabled_at IS NULL AND events LIKE $4 ORDER BY id";

/// The same, for SQLite's in-process statements.
pub(super) const ENQUEUE_EVENT_SQLITE: &str = "INSERT INTO webhook_deliveries (endpoint_id, event_type, data, created_at) \
     SELECT id, ?1, ?2, ?3 FROM webhook_endpoints WHERE disabled_at IS NULL AND events LIKE ?4 ORDER BY id";

/// A range of a visit batch's ids for every endpoint that receives clicks (SQLite).
pub(super) const ENQUEUE_CLICKS_SQLITE: &str = "INSERT INTO webhook_deliveries (endpoint_id, event_type, first_visit, last_visit, created_at) \
     SELECT id, 'click', ?1, ?2, ?3 FROM webhook_endpoints \
     WHERE disabled_at IS NULL AND events LIKE '%,click,%' ORDER BY id";

/// Which events the enabled endpoints receive, as stored.
pub(super) const SUBSCRIPTIONS: &str = "SELECT events FROM webhook_endpoints WHERE disabled_at IS NULL";

/// Raises a link's deepest level; returns the row when it grew (`$1` link, `$2` depth).
pub(super) const RAISE_DEPTH_MARK: &str = "INSERT INTO webhook_depth_marks (link_id, depth) VALUES ($1, $2) \
     ON CONFLICT (link_id) DO UPDATE SET depth = excluded.depth WHERE webhook_depth_marks.depth < excluded.depth \
     RETURNING link_id";

/// Splits a batch's block of visit ids into the ranges its click deliveries name.
pub fn click_ranges(first_id: i64, visits: i64) -> Vec<(i64, i64)> {
    let end = first_id + visits;
    (first_id..end)
        .step_by(MAX_CLICK_SPAN as usize)
        .map(|start| (start, (start + MAX_CLICK_SPAN).min(end) - 1))
        .collect()
}

/// Queues `share.created` for every share a mint batch made count (minted at once, or a
/// reservation sent or first visited) and `cascade.depth_reached` for every link whose deepest
/// level it raised; inside the batch's transaction. Nothing is written for types no enabled
/// endpoint receives, but the links' deepest levels are kept whether or not anyone listens, so
/// an endpoint added later hears only of levels that are new.
pub(super) async fn announce_shares<S: MintStatements>(
    sql: &mut S,
    counted: &[CountedShare],
    deepest: &BTreeMap<i64, &CountedShare>,
    news: CountingNews,
    records: &HashMap<i64, ShareRecord>,
    now: i64,
) -> StoreResult<()> {
    if counted.is_empty() {
        return Ok(());
    }
    let CountingNews { risen, subscriptions } = news;
    let subscribed = subscribed(&subscriptions);
    let mut events = Vec::new();
    if subscribed.contains(&EventType::ShareCreated) {
        for share in counted {
            if let Some(record) = records.get(&share.id) {
                events.push((EventType::ShareCreated, share_created_data(record)));
            }
        }
    }
    if subscribed.contains(&EventType::DepthReached) {
        for link in risen {
            let share = deepest[&link];
            let data = serde_json::json!({
                "link_id": link,
                "depth": share.depth,
                "code": records.get(&share.id).map(|r| r.code.as_str()),
                "reached_at": crate::clock::iso(now),
            });
            events.push((EventType::DepthReached, data.to_string()));
        }
    }
    if !events.is_empty() {
        sql.enqueue_webhooks(&events, now).await?;
    }
    Ok(())
}

/// The first share of each link to reach its deepest level in a batch, from the depth a
/// cascade is reported at: what may raise the link's mark.
pub(super) fn deepest_shares(counted: &[CountedShare]) -> BTreeMap<i64, &CountedShare> {
    let mut deepest: BTreeMap<i64, &CountedShare> = BTreeMap::new();
    for share in counted.iter().filter(|s| s.depth >= MIN_REPORTED_DEPTH) {
        let best = deepest.entry(share.link_id).or_insert(share);
        if share.depth > best.depth {
            *best = share;
        }
    }
    deepest
}

/// A cascade is reported from its first reshare on: depth 1 is the link's first share, which
/// `share.created` reports already.
pub const MIN_REPORTED_DEPTH: i64 = 2;

/// The `data` of `share.created` (the dispatcher adds `short_url`).
fn share_created_data(share: &ShareRecord) -> String {
    serde_json::json!({
        "code": share.code,
        "link_id": share.link_id,
        "channel": share.channel,
        "depth": share.depth,
        "parent": share.parent_code,
        "label": share.label,
        "created_at": crate::clock::iso(share.created_at),
    })
    .to_string()
}

/// The `data` of `link.disabled`.
pub(super) fn link_disabled_data(link: &super::LinkRecord) -> String {
    serde_json::json!({
        "link_id": link.id,
        "url": link.url,
        "title": link.title,
        "campaign": link.campaign,
        "disabled_at": link.disabled_at.map(crate::clock::iso),
    })
    .to_string()
}

/// The `data` of `conversion.created`: `code` is the share the visitor arrived through.
pub(super) fn conversion_data(id: i64, conversion: &super::NewConversion, code: Option<&str>) -> String {
    serde_json::json!({
        "id": id,
        "name": conversion.name,
        "value": conversion.value,
        "site_id": conversion.site_id,
        "link_id": conversion.link_id,
        "code": code,
        "at": crate::clock::iso(conversion.at),
    })
    .to_string()
}

/// The event types any enabled endpoint receives.
pub(super) fn subscribed(rows: &[String]) -> Vec<EventType> {
    let mut types: Vec<EventType> = EventType::SUBSCRIBABLE
        .into_iter()
        .filter(|t| rows.iter().any(|events| EventSet::from_stored(events).contains(*t)))
        .collect();
    types.dedup();
    types
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRecord {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub failing_since: Option<i64>,
    /// Deliveries not yet delivered.
    pub pending: i64,
    pub last_delivered_at: Option<i64>,
}

/// How an endpoint is doing, as lists show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    Healthy,
    /// A delivery used up its retries: nothing is sent until it is re-enabled.
    Failing,
    /// Switched off: it receives no new events.
    Disabled,
}

impl EndpointRecord {
    pub fn status(&self) -> EndpointStatus {
        match (self.disabled_at, self.failing_since) {
            (Some(_), _) => EndpointStatus::Disabled,
            (None, Some(_)) => EndpointStatus::Failing,
            (None, None) => EndpointStatus::Healthy,
        }
    }

    pub fn event_set(&self) -> EventSet {
        EventSet::from_stored(&self.events)
    }
}

/// A change to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub events: Option<EventSet>,
    /// `Some(false)` also clears a failing endpoint, whose queue then resumes at once.
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: i64,
    pub event_type: String,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub attempts: i32,
    pub last_attempt_at: Option<i64>,
    pub response_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Retrying,
    Failed,
    Delivered,
}

impl DeliveryRecord {
    pub fn status(&self) -> DeliveryStatus {
        match (self.delivered_at, self.attempts, self.next_attempt_at) {
            (Some(_), ..) => DeliveryStatus::Delivered,
            (None, 0, _) => DeliveryStatus::Pending,
            (None, _, Some(_)) => DeliveryStatus::Retrying,
            (None, _, None) => DeliveryStatus::Failed,
        }
    }
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Delivered => "delivered",
        }
    }
}

/// An endpoint this instance holds the lease of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEndpoint {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub failures: i32,
    pub last_click_at: i64,
}

/// The head of an endpoint's queue, or one of the click deliveries behind it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedDelivery {
    pub id: i64,
    pub event_type: String,
    pub data: Option<String>,
    pub first_visit: Option<i64>,
    pub last_visit: Option<i64>,
    pub message_id: Option<String>,
    pub body: Option<String>,
    pub created_at: i64,
    pub attempts: i32,
}

/// One click as a `click` delivery carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClickItem {
    pub code: String,
    pub channel: String,
    pub link_id: i64,
    pub depth: i64,
    /// Milliseconds since the epoch; the message writes it as RFC 3339.
    #[serde(skip)]
    pub at_ms: i64,
    pub at: String,
    pub device: String,
    pub country: Option<String>,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub delivered: bool,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub at: i64,
    /// When the queue tries again after a failure; `None` with `delivered == false` marks the
    /// endpoint failing.
    pub retry_at: Option<i64>,
    pub click: bool,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_endpoint(
        &self,
        url: &str,
        secret: &str,
        events: &EventSet,
        now: i64,
    ) -> StoreResult<EndpointRecord>;
    async fn list_endpoints(&self) -> StoreResult<Vec<EndpointRecord>>;
    async fn endpoint(&self, id: i64) -> StoreResult<Option<EndpointRecord>>;
    /// `None` when no endpoint has that id.
    async fn update_endpoint(&self, id: i64, change: &EndpointChange, now: i64) -> StoreResult<Option<EndpointRecord>>;
    /// Deletes the endpoint and its deliveries; false when it did not exist.
    async fn delete_endpoint(&self, id: i64) -> StoreResult<bool>;
    /// Deliveries of an endpoint, newest first, those with an id below `before`.
    async fn deliveries(&self, endpoint: i64, before: Option<i64>, limit: i64) -> StoreResult<Vec<DeliveryRecord>>;
    /// Queues a `webhook.test` message for this endpoint alone.
    async fn enqueue_test(&self, endpoint: i64, data: &str, now: i64) -> StoreResult<()>;

    /// Whether any endpoint may have something to send now: a cheap read before claiming.
    async fn webhooks_due(&self, now: i64) -> StoreResult<bool>;
    /// Takes the lease of up to `limit` endpoints with something to send now.
    async fn claim_endpoints(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedEndpoint>>;
    /// Extends a lease this instance holds; false when it has lost it.
    async fn renew_lease(&self, endpoint: i64, owner: &str, lease_until: i64) -> StoreResult<bool>;
    /// Gives the lease up; the queue waits until `not_before`.
    async fn release_endpoint(&self, endpoint: i64, owner: &str, not_before: i64) -> StoreResult<()>;
    /// The oldest undelivered delivery of an endpoint and, when it is a click range never sent,
    /// the click ranges never sent right behind it (at most `limit` rows in all).
    async fn queue_head(&self, endpoint: i64, limit: i64) -> StoreResult<Vec<QueuedDelivery>>;
    /// Fixes a message for good: its id and body, and for clicks the range it covers now that
    /// the deliveries `merged` joined it (they are deleted).
    async fn fix_message(&self, fixed: &FixedMessage) -> StoreResult<()>;
    /// A click range that turned out to hold no click (its batch's clicks were in another
    /// range): removed from the queue.
    async fn drop_empty_delivery(&self, delivery: i64) -> StoreResult<()>;
    /// The human clicks among the visits `first..=last`, in id order.
    async fn clicks_between(&self, first: i64, last: i64) -> StoreResult<Vec<ClickItem>>;
    async fn record_attempt(&self, endpoint: i64, delivery: i64, result: &AttemptResult) -> StoreResult<()>;
    /// Deletes delivered messages delivered before `before`.
    async fn prune_deliveries(&self, before: i64) -> StoreResult<u64>;
}

#[derive(Debug, Clone)]
pub struct FixedMessage {
    pub delivery: i64,
    pub message_id: String,
    pub body: String,
    pub last_visit: Option<i64>,
    pub merged: Vec<i64>,
}

const ENDPOINT_RECORD: &str = "SELECT e.id, e.url, e.secret, e.events, e.created_at, e.disabled_at, e.failing_since, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.delivered_at IS NULL) AS pending, \
     (SELECT MAX(d.delivered_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id) AS last_delivered_at \
     FROM webhook_endpoints e";

const DUE: &str = "e.disabled_at IS NULL AND e.failing_since IS NULL AND e.not_before <= $1 \
     AND (e.lease_until IS NULL OR e.lease_until < $1) \
     AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.delivered_at IS NULL)";

#[derive(sqlx::FromRow)]
struct RunRow {
    first_id: i64,
    link_id: i64,
    data: String,
}

#[derive(sqlx::FromRow)]
struct ShareFacts {
    id: i64,
    code: String,
    channel: String,
    depth: i64,
}

#[async_trait]
impl WebhookStore for Backend {
    async fn create_endpoint(
        &self,
        url: &str,
        secret: &str,
        events: &EventSet,
        now: i64,
    ) -> StoreResult<EndpointRecord> {
        let id: i64 = with_pool!(self.writer(), |pool| {
            sqlx::query_scalar(
                "INSERT INTO webhook_endpoints (url, secret, events, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(url)
            .bind(secret)
            .bind(events.stored())
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        self.endpoint(id)
            .await?
            .ok_or(super::StoreError::Database(sqlx::Error::RowNotFound))
    }

    async fn list_endpoints(&self) -> StoreResult<Vec<EndpointRecord>> {
        self.reader()
            .rows(sqlx::AssertSqlSafe(format!("{ENDPOINT_RECORD} ORDER BY e.id")))
            .await
    }

    async fn endpoint(&self, id: i64) -> StoreResult<Option<EndpointRecord>> {
        self.reader()
            .row(sqlx::AssertSqlSafe(format!("{ENDPOINT_RECORD} WHERE e.id = $1")), id)
            .await
    }

    async fn update_endpoint(&self, id: i64, change: &EndpointChange, now: i64) -> StoreResult<Option<EndpointRecord>> {
        let events = change.events.as_ref().map(EventSet::stored);
        let changed = with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let found = sqlx::query(
                "UPDATE webhook_endpoints SET url = COALESCE($2, url), events = COALESCE($3, events) WHERE id = $1",
            )
            .bind(id)
            .bind(change.url.as_deref())
            .bind(events.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            match change.disabled {
                Some(true) => {
                    sqlx::query("UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL")
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                // Enabled again, failing or not: the head of the queue is tried at once, from
                // the start of the schedule.
                Some(false) => {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET disabled_at = NULL, failing_since = NULL, failures = 0, \
                         not_before = 0 WHERE id = $1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE webhook_deliveries SET next_attempt_at = $2 \
                         WHERE endpoint_id = $1 AND delivered_at IS NULL AND attempts > 0",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {}
            }
            tx.commit().await?;
            found
        });
        match changed {
            0 => Ok(None),
            _ => self.endpoint(id).await,
        }
    }

    async fn delete_endpoint(&self, id: i64) -> StoreResult<bool> {
        Ok(with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted == 1
        }))
    }

    async fn deliveries(&self, endpoint: i64, before: Option<i64>, limit: i64) -> StoreResult<Vec<DeliveryRecord>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT id, event_type, message_id, created_at, attempts, last_attempt_at, response_status, \
                 last_error, next_attempt_at, delivered_at FROM webhook_deliveries \
                 WHERE endpoint_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            )
            .bind(endpoint)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    async fn enqueue_test(&self, endpoint: i64, data: &str, now: i64) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query(
                "INSERT INTO webhook_deliveries (endpoint_id, event_type, data, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(endpoint)
            .bind(EventType::Test.as_str())
            .bind(data)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn webhooks_due(&self, now: i64) -> StoreResult<bool> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE {DUE})"));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_scalar::<_, bool>(sql).bind(now).fetch_one(pool).await?
        }))
    }

    async fn claim_endpoints(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedEndpoint>> {
        // Instances that claim at once skip each other's rows rather than wait for them, and
        // the lease keeps an endpoint theirs once this statement's row lock is gone.
        let lock = match self {
            Backend::Sqlite(_) => "",
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_endpoints SET lease_owner = $2, lease_until = $3 WHERE id IN \
             (SELECT e.id FROM webhook_endpoints e WHERE {DUE} ORDER BY e.not_before, e.id LIMIT $4{lock}) \
             RETURNING id, url, secret, failures, last_click_at"
        ));
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query_as(sql)
                .bind(now)
                .bind(owner)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn renew_lease(&self, endpoint: i64, owner: &str, lease_until: i64) -> StoreResult<bool> {
        let renewed = with_pool!(self.writer(), |pool| {
            sqlx::query("UPDATE webhook_endpoints SET lease_until = $3 WHERE id = $1 AND lease_owner = $2")
                .bind(endpoint)
                .bind(owner)
                .bind(lease_until)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(renewed == 1)
    }

    async fn release_endpoint(&self, endpoint: i64, owner: &str, not_before: i64) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query(
                "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL, not_before = $3 \
                 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(endpoint)
            .bind(owner)
            .bind(not_before)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn queue_head(&self, endpoint: i64, limit: i64) -> StoreResult<Vec<QueuedDelivery>> {
        let rows: Vec<QueuedDelivery> = with_pool!(self.writer(), |pool| {
            sqlx::query_as(
                "SELECT id, event_type, data, first_visit, last_visit, message_id, body, created_at, attempts \
                 FROM webhook_deliveries WHERE endpoint_id = $1 AND delivered_at IS NULL ORDER BY id LIMIT $2",
            )
            .bind(endpoint)
            .bind(limit.max(1))
            .fetch_all(pool)
            .await?
        });
        let mut rows = rows.into_iter();
        let Some(head) = rows.next() else {
            return Ok(Vec::new());
        };
        let unsent_clicks = |d: &QueuedDelivery| d.event_type == EventType::Click.as_str() && d.body.is_none();
        let mut queue = vec![head.clone()];
        if unsent_clicks(&head) {
            queue.extend(rows.take_while(unsent_clicks));
        }
        Ok(queue)
    }

    async fn fix_message(&self, fixed: &FixedMessage) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET message_id = $2, body = $3, last_visit = COALESCE($4, last_visit) \
                 WHERE id = $1",
            )
            .bind(fixed.delivery)
            .bind(&fixed.message_id)
            .bind(&fixed.body)
            .bind(fixed.last_visit)
            .execute(&mut *tx)
            .await?;
            for merged in &fixed.merged {
                sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1 AND body IS NULL")
                    .bind(merged)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn drop_empty_delivery(&self, delivery: i64) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1 AND body IS NULL")
                .bind(delivery)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn clicks_between(&self, first: i64, last: i64) -> StoreResult<Vec<ClickItem>> {
        // A run holds at most MAX_VISITS_PER_RUN visits, so one that reaches `first` starts at
        // most that far before it: the primary key bounds the scan on both sides.
        let runs: Vec<RunRow> = with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT first_id, link_id, data FROM visit_runs \
                 WHERE first_id > $1 - $3 AND first_id <= $2 AND first_id + visits > $1 ORDER BY first_id",
            )
            .bind(first)
            .bind(last)
            .bind(super::MAX_VISITS_PER_RUN as i64)
            .fetch_all(pool)
            .await?
        });
        let mut clicks: Vec<(i64, i64, super::StoredVisit)> = Vec::new();
        for run in runs {
            let visits = match visits_of(&run.data) {
                Ok(visits) => visits,
                Err(err) => {
                    tracing::error!(first_id = run.first_id, error = %err, "a visit run that does not parse: its clicks are not sent");
                    continue;
                }
            };
            for (offset, visit) in visits.into_iter().enumerate() {
                let id = run.first_id + offset as i64;
                if (first..=last).contains(&id) && visit.kind == "click" {
                    clicks.push((id, run.link_id, visit));
                }
            }
        }
        clicks.sort_by_key(|(id, ..)| *id);
        let mut share_ids: Vec<i64> = clicks.iter().map(|(_, _, v)| v.share_id).collect();
        share_ids.sort_unstable();
        share_ids.dedup();
        let mut shares: BTreeMap<i64, ShareFacts> = BTreeMap::new();
        for chunk in share_ids.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            // Integers only, formatted here: nothing a client sent is in this text.
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT id, code, channel, depth FROM shares WHERE id IN ({})",
                ids.join(",")
            ));
            let rows: Vec<ShareFacts> = self.reader().rows(sql).await?;
            shares.extend(rows.into_iter().map(|s| (s.id, s)));
        }
        Ok(clicks
            .into_iter()
            .filter_map(|(_, link_id, visit)| {
                let share = shares.get(&visit.share_id)?;
                Some(ClickItem {
                    code: share.code.clone(),
                    channel: share.channel.clone(),
                    link_id,
                    depth: share.depth,
                    at_ms: visit.at,
                    at: crate::clock::iso(visit.at),
                    device: visit.device,
                    country: visit.country,
                })
            })
            .collect())
    }

    async fn record_attempt(&self, endpoint: i64, delivery: i64, result: &AttemptResult) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, response_status = $3, \
                 last_error = $4, next_attempt_at = $5, delivered_at = $6 WHERE id = $1",
            )
            .bind(delivery)
            .bind(result.at)
            .bind(result.status)
            .bind(result.error.as_deref())
            .bind(if result.delivered { None } else { result.retry_at })
            .bind(result.delivered.then_some(result.at))
            .execute(&mut *tx)
            .await?;
            let (endpoint_sql, retry_at) = match (result.delivered, result.retry_at) {
                (true, _) => (
                    "UPDATE webhook_endpoints SET failures = 0, not_before = 0, \
                     last_click_at = CASE WHEN $3 THEN $2 ELSE last_click_at END WHERE id = $1",
                    None,
                ),
                (false, Some(retry_at)) => (
                    "UPDATE webhook_endpoints SET failures = failures + 1, not_before = $4, \
                     last_click_at = CASE WHEN $3 THEN $2 ELSE last_click_at END WHERE id = $1",
                    Some(retry_at),
                ),
                (false, None) => (
                    "UPDATE webhook_endpoints SET failures = failures + 1, failing_since = $2, \
                     last_click_at = CASE WHEN $3 THEN $2 ELSE last_click_at END WHERE id = $1",
                    None,
                ),
            };
            let mut update = sqlx::query(endpoint_sql)
                .bind(endpoint)
                .bind(result.at)
                .bind(result.click);
            if let Some(retry_at) = retry_at {
                update = update.bind(retry_at);
            }
            update.execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn prune_deliveries(&self, before: i64) -> StoreResult<u64> {
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM webhook_deliveries WHERE delivered_at IS NOT NULL AND delivered_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_visit_ids_is_split_into_ranges_of_at_most_the_span() {
        assert_eq!(click_ranges(10, 3), [(10, 12)]);
        assert_eq!(click_ranges(1, MAX_CLICK_SPAN), [(1, MAX_CLICK_SPAN)]);
        assert_eq!(
            click_ranges(1, MAX_CLICK_SPAN + 1),
            [(1, MAX_CLICK_SPAN), (MAX_CLICK_SPAN + 1, MAX_CLICK_SPAN + 1)]
        );
        assert!(click_ranges(5, 0).is_empty());
    }
}
