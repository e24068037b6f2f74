//! Webhook deliveries: the outbox's sender, and the guard on where it may connect.
//!
//! Each instance runs one dispatcher. It looks for endpoints with something due (a cheap read
//! when there is none), takes their leases, and sends each endpoint's queue in order: the head
//! is retried on the schedule until it is delivered, and what is behind it waits, so a receiver
//! gets every event in order once it is back. A message's id and body are fixed at its first
//! attempt, so a retry (or a resend after an instance died holding the lease) is the same
//! message, which receivers deduplicate by `webhook-id`.
//!
//! Outbound requests go only to public addresses unless the operator allows others: the
//! resolver that connections use checks every address a name resolves to and hands the
//! connection only those it checked, so a name cannot resolve to one address for the check and
//! another for the connection. Redirects are never followed, no proxy is used, and every
//! request has a timeout.

mod guard;

pub use guard::{AddressGuard, Refusal};

use crate::clock::{iso, now_ms};
use crate::config::WebhookSettings;
use crate::domain::webhook::{EventType, RetrySchedule, Secret, message_id};
use crate::health::{DatabaseHealth, Part};
use crate::store::{AttemptResult, ClaimedEndpoint, FixedMessage, QueuedDelivery, Store, StoreResult};
use crate::telemetry::cause_chain;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How often an idle dispatcher looks for due deliveries.
const POLL: Duration = Duration::from_millis(250);
/// How long a claimed endpoint stays this instance's without a renewal.
const LEASE: Duration = Duration::from_secs(60);
/// Endpoints worked on at once by one instance.
const PARALLEL_ENDPOINTS: usize = 8;
/// Messages sent to one endpoint before its lease is given back (others may then take a turn).
const MESSAGES_PER_LEASE: usize = 100;
/// Click deliveries queued back to back that one message may gather.
const MERGE_ROWS: i64 = 200;
/// At most one click message a second per endpoint: clicks in between wait and travel together.
pub const CLICK_PACE: Duration = Duration::from_secs(1);
/// How much of a response's body the delivery log keeps, for a failure's explanation.
const ERROR_BODY_CHARS: usize = 200;

pub struct WebhookWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WebhookWorker {
    /// Stops claiming; messages being sent get up to `deadline` to finish.
    pub async fn shutdown(self, deadline: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::warn!("webhook deliveries under way did not finish in {deadline:?}; they are sent again later");
        }
    }
}

struct Dispatcher {
    store: Arc<dyn Store>,
    /// A database outage is logged once for the dispatcher, not once per poll.
    health: Arc<DatabaseHealth>,
    client: reqwest::Client,
    guard: AddressGuard,
    schedule: RetrySchedule,
    base_url: String,
    /// This instance's name on the leases it holds.
    owner: String,
    log_retention: Duration,
}

/// The HTTP client every delivery goes through: checked addresses only, no redirects, no proxy.
pub fn client(guard: &AddressGuard, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .dns_resolver(Arc::new(*guard))
        .user_agent(concat!("sharetrail-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

pub fn start(
    store: Arc<dyn Store>,
    health: Arc<DatabaseHealth>,
    settings: &WebhookSettings,
    base_url: &str,
) -> anyhow::Result<WebhookWorker> {
    let guard = AddressGuard::new(settings.webhook_allow_private);
    let dispatcher = Dispatcher {
        store,
        health,
        client: client(&guard, Duration::from_secs(settings.webhook_timeout_seconds.max(1)))?,
        guard,
        schedule: RetrySchedule::scaled(settings.webhook_retry_scale),
        base_url: base_url.to_owned(),
        owner: nanoid::nanoid!(12, &nanoid::alphabet::SAFE),
        log_retention: Duration::from_secs(settings.webhook_log_days.max(1) * 86_400),
    };
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(Arc::new(dispatcher).run(stopped));
    Ok(WebhookWorker { stop, task })
}

impl Dispatcher {
    async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut working: JoinSet<()> = JoinSet::new();
        let mut pruned_at = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stopped.changed() => break,
            }
            while working.try_join_next().is_some() {}
            let room = PARALLEL_ENDPOINTS - working.len();
            if room > 0 {
                match self.claim(room).await {
                    Ok(claimed) => {
                        self.health.answered(Part::Webhooks);
                        for endpoint in claimed {
                            let me = self.clone();
                            working.spawn(async move { me.work(endpoint).await });
                        }
                    }
                    Err(err) => self.health.failed(Part::Webhooks, &cause_chain(&err)),
                }
            }
            if pruned_at.elapsed() > Duration::from_secs(3_600) {
                pruned_at = tokio::time::Instant::now();
                let before = now_ms() - self.log_retention.as_millis() as i64;
                if let Err(err) = self.store.prune_deliveries(before).await {
                    self.health.failed(Part::Webhooks, &cause_chain(&err));
                }
            }
        }
        // Messages being sent are finished (or time out); nothing new is started.
        while working.join_next().await.is_some() {}
    }

    async fn claim(&self, room: usize) -> StoreResult<Vec<ClaimedEndpoint>> {
        let now = now_ms();
        if !self.store.webhooks_due(now).await? {
            return Ok(Vec::new());
        }
        let lease_until = now + LEASE.as_millis() as i64;
        self.store
            .claim_endpoints(&self.owner, now, lease_until, room as i64)
            .await
    }

    async fn work(&self, endpoint: ClaimedEndpoint) {
        let not_before = match self.send_queue(&endpoint).await {
            Ok(not_before) => not_before,
            Err(err) => {
                self.health.failed(Part::Webhooks, &cause_chain(&err));
                now_ms() + POLL.as_millis() as i64 * 4
            }
        };
        // Not released, the lease runs out by itself and the queue resumes then.
        if let Err(err) = self.store.release_endpoint(endpoint.id, &self.owner, not_before).await {
            self.health.failed(Part::Webhooks, &cause_chain(&err));
        }
    }

    /// Sends the endpoint's queue in order while it is delivered; returns when the queue may be
    /// tried next (0: whenever something is due).
    async fn send_queue(&self, endpoint: &ClaimedEndpoint) -> StoreResult<i64> {
        let Some(secret) = Secret::parse(&endpoint.secret) else {
            tracing::error!(
                endpoint = endpoint.id,
                "a webhook endpoint's secret does not parse; nothing is sent to it"
            );
            return Ok(now_ms() + LEASE.as_millis() as i64);
        };
        let mut failures = u32::try_from(endpoint.failures).unwrap_or(0);
        let mut last_click_at = endpoint.last_click_at;
        for _ in 0..MESSAGES_PER_LEASE {
            let now = now_ms();
            if !self
                .store
                .renew_lease(endpoint.id, &self.owner, now + LEASE.as_millis() as i64)
                .await?
            {
                tracing::warn!(
                    endpoint = endpoint.id,
                    "lost a webhook endpoint's lease; another instance goes on"
                );
                return Ok(0);
            }
            let queue = self.store.queue_head(endpoint.id, MERGE_ROWS).await?;
            let Some(head) = queue.first() else {
                return Ok(0);
            };
            let click = head.event_type == EventType::Click.as_str();
            let pace_until = last_click_at + CLICK_PACE.as_millis() as i64;
            if click && now < pace_until {
                return Ok(pace_until);
            }
            let (message_id, body) = match (&head.message_id, &head.body) {
                (Some(id), Some(body)) => (id.clone(), body.clone()),
                _ => match self.fix_message(&queue).await? {
                    Some(fixed) => fixed,
                    None => continue,
                },
            };
            let outcome = self.send(&endpoint.url, &secret, &message_id, &body).await;
            let at = now_ms();
            if click {
                last_click_at = at;
            }
            let result = match outcome {
                Ok(status) => {
                    failures = 0;
                    AttemptResult {
                        delivered: true,
                        status: Some(status),
                        error: None,
                        at,
                        retry_at: None,
                        click,
                    }
                }
                Err(failure) => {
                    failures += 1;
                    AttemptResult {
                        delivered: false,
                        status: failure.status,
                        error: Some(failure.error),
                        at,
                        retry_at: self
                            .schedule
                            .after_failures(failures)
                            .map(|delay| at + delay.as_millis() as i64),
                        click,
                    }
                }
            };
            self.store.record_attempt(endpoint.id, head.id, &result).await?;
            if !result.delivered {
                match result.retry_at {
                    Some(retry_at) => {
                        tracing::info!(
                            endpoint = endpoint.id,
                            delivery = head.id,
                            status = result.status,
                            failures,
                            "webhook delivery failed; retrying later"
                        );
                        return Ok(retry_at);
                    }
                    None => {
                        tracing::warn!(
                            endpoint = endpoint.id,
                            delivery = head.id,
                            "webhook endpoint is failing: a delivery used up its retries"
                        );
                        return Ok(0);
                    }
                }
            }
        }
        Ok(0)
    }

    /// Fixes the head's message: its id, and its body, which for clicks gathers the click
    /// deliveries queued right behind it. `None` when the clicks turned out to be none (the
    /// rows are dropped).
    async fn fix_message(&self, queue: &[QueuedDelivery]) -> StoreResult<Option<(String, String)>> {
        let head = &queue[0];
        let mut merged = Vec::new();
        let data = if head.event_type == EventType::Click.as_str() {
            let mut clicks = Vec::new();
            let mut span = 0;
            for (i, delivery) in queue.iter().enumerate() {
                let (Some(first), Some(last)) = (delivery.first_visit, delivery.last_visit) else {
                    break;
                };
                span += last - first + 1;
                if i > 0 && span > crate::store::MAX_CLICK_SPAN {
                    break;
                }
                clicks.extend(self.store.clicks_between(first, last).await?);
                if i > 0 {
                    merged.push(delivery.id);
                }
            }
            if clicks.is_empty() {
                for delivery in std::iter::once(head.id).chain(merged) {
                    self.store.drop_empty_delivery(delivery).await?;
                }
                return Ok(None);
            }
            serde_json::json!({ "count": clicks.len(), "clicks": clicks })
        } else {
            let mut data: serde_json::Value = head
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(serde_json::Value::Null);
            if head.event_type == EventType::ShareCreated.as_str()
                && let Some(code) = data.get("code").and_then(|c| c.as_str())
            {
                let short_url = format!("{}/{code}", self.base_url);
                data["short_url"] = serde_json::Value::String(short_url);
            }
            data
        };
        let body = serde_json::json!({
            "type": head.event_type,
            "timestamp": iso(head.created_at),
            "data": data,
        })
        .to_string();
        let fixed = FixedMessage {
            delivery: head.id,
            message_id: message_id(),
            body,
            last_visit: None,
            merged,
        };
        self.store.fix_message(&fixed).await?;
        Ok(Some((fixed.message_id, fixed.body)))
    }

    /// One attempt: the response's status when it is a success (2xx).
    async fn send(&self, url: &str, secret: &Secret, message_id: &str, body: &str) -> Result<i32, Failure> {
        self.guard.check_literal(url).map_err(|refusal| Failure {
            status: None,
            error: refusal.to_string(),
        })?;
        let timestamp = now_ms() / 1000;
        let signature = secret.sign(message_id, timestamp, body.as_bytes());
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Ok(i32::from(response.status().as_u16())),
            Ok(response) => {
                let status = response.status();
                let said: String = match tokio::time::timeout(Duration::from_secs(2), response.text()).await {
                    Ok(Ok(text)) => text.chars().take(ERROR_BODY_CHARS).collect(),
                    _ => String::new(),
                };
                let error = match status.is_redirection() {
                    true => format!("answered {status}: redirects are not followed"),
                    false if said.trim().is_empty() => format!("answered {status}"),
                    false => format!("answered {status}: {}", said.trim()),
                };
                Err(Failure {
                    status: Some(i32::from(status.as_u16())),
                    error,
                })
            }
            Err(err) => Err(Failure {
                status: None,
                error: match err.is_timeout() {
                    true => "timed out".to_owned(),
                    false => cause_chain(&err),
                },
            }),
        }
    }
}

struct Failure {
    status: Option<i32>,
    error: String,
}
