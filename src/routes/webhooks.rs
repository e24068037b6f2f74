//! `/api/v1/webhooks`: endpoints that receive signed events, and their delivery logs.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::{iso, now_ms};
use crate::domain::webhook::{EndpointUrl, EventSet, EventType};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{DeliveryRecord, DeliveryStatus, EndpointChange, EndpointRecord, EndpointStatus};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Deliveries a page holds unless `limit` says otherwise, and the most it may ask for.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// An http(s) URL on a public address.
    #[schema(example = "https://hooks.example.com/sharetrail")]
    url: String,
    /// `share.created`, `click`, `cascade.depth_reached`, `conversion.created`,
    /// `link.disabled`. Left out: every event.
    events: Option<Vec<String>>,
    #[serde(default)]
    disabled: bool,
}

/// Each field given is set; each left out stays. `"disabled": false` also re-enables a
/// failing endpoint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    url: Option<String>,
    events: Option<Vec<String>>,
    disabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointDocument {
    id: i64,
    url: String,
    events: Vec<&'static str>,
    /// `healthy`, `failing` (a delivery used up its retries; nothing is sent until it is
    /// re-enabled) or `disabled`.
    #[schema(value_type = String, pattern = "^(healthy|failing|disabled)$")]
    status: EndpointStatus,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    disabled_at: Option<String>,
    #[schema(format = DateTime)]
    failing_since: Option<String>,
    /// Messages waiting to be delivered.
    pending: i64,
    #[schema(format = DateTime)]
    last_delivered_at: Option<String>,
    deliveries_url: String,
    /// `whsec_…`: in the answer to its creation and to `GET /api/v1/webhooks/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl EndpointDocument {
    pub fn new(endpoint: EndpointRecord, with_secret: bool) -> EndpointDocument {
        EndpointDocument {
            status: endpoint.status(),
            events: endpoint.event_set().names(),
            deliveries_url: format!("/api/v1/webhooks/{}/deliveries", endpoint.id),
            id: endpoint.id,
            url: endpoint.url,
            created_at: iso(endpoint.created_at),
            disabled_at: endpoint.disabled_at.map(iso),
            failing_since: endpoint.failing_since.map(iso),
            pending: endpoint.pending,
            last_delivered_at: endpoint.last_delivered_at.map(iso),
            secret: with_secret.then_some(endpoint.secret),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    webhooks: Vec<EndpointDocument>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryDocument {
    id: i64,
    #[serde(rename = "type")]
    event_type: String,
    /// The `webhook-id` the message is sent with, from its first attempt on.
    message_id: Option<String>,
    /// `pending` (not tried yet), `retrying`, `failed` (out of retries: the endpoint is
    /// failing) or `delivered`.
    #[schema(value_type = String, pattern = "^(pending|retrying|failed|delivered)$")]
    status: DeliveryStatus,
    attempts: i32,
    /// The HTTP status of the last attempt, if the receiver answered.
    response_status: Option<i32>,
    last_error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    delivered_at: Option<String>,
}

impl DeliveryDocument {
    fn new(delivery: DeliveryRecord) -> DeliveryDocument {
        DeliveryDocument {
            status: delivery.status(),
            id: delivery.id,
            event_type: delivery.event_type,
            message_id: delivery.message_id,
            attempts: delivery.attempts,
            response_status: delivery.response_status,
            last_error: delivery.last_error,
            created_at: iso(delivery.created_at),
            last_attempt_at: delivery.last_attempt_at.map(iso),
            next_attempt_at: delivery.next_attempt_at.map(iso),
            delivered_at: delivery.delivered_at.map(iso),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    deliveries: Vec<DeliveryDocument>,
    /// The cursor to pass as `after` for the older deliveries; null after the last page.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct DeliveryQuery {
    limit: Option<String>,
    after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TestQueued {
    queued: bool,
}

/// A URL a person typed, checked the way every endpoint address is: an http(s) URL whose host
/// resolves to allowed addresses only.
pub async fn checked_url(state: &AppState, raw: &str) -> Result<EndpointUrl, ApiError> {
    let url = EndpointUrl::parse(raw).map_err(|err| ApiError::invalid("url", err))?;
    state
        .webhook_guard
        .check_endpoint(&url)
        .await
        .map_err(|refusal| ApiError::invalid("url", refusal))?;
    Ok(url)
}

pub fn events_of(names: Option<&[String]>) -> Result<EventSet, ApiError> {
    match names {
        Some(names) => EventSet::parse(names).map_err(|err| ApiError::invalid("events", err)),
        None => Ok(EventSet::parse(&EventType::SUBSCRIBABLE.map(EventType::as_str)).expect("every event parses")),
    }
}

/// `GET /api/v1/webhooks`: every endpoint with its status (secrets are not listed).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "Every endpoint", body = EndpointList)))]
pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let webhooks = state
        .store
        .list_endpoints()
        .await?
        .into_iter()
        .map(|e| EndpointDocument::new(e, false))
        .collect();
    Ok(HttpResponse::Ok().json(EndpointList { webhooks }))
}

/// `POST /api/v1/webhooks`: a new endpoint; the answer carries its signing secret.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateEndpoint,
    responses((status = 201, description = "The endpoint, with its secret", body = EndpointDocument)))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let events = events_of(body.events.as_deref())?;
    let url = checked_url(&state, &body.url).await?;
    let now = now_ms();
    let secret = crate::domain::webhook::Secret::generate();
    let mut endpoint = state
        .store
        .create_endpoint(url.as_str(), secret.as_str(), &events, now)
        .await?;
    if body.disabled {
        let change = EndpointChange {
            disabled: Some(true),
            ..EndpointChange::default()
        };
        endpoint = state
            .store
            .update_endpoint(endpoint.id, &change, now)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", endpoint.id)))
        .json(EndpointDocument::new(endpoint, true)))
}

/// One endpoint, with its secret.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The endpoint", body = EndpointDocument)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let endpoint = state.store.endpoint(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(EndpointDocument::new(endpoint, true)))
}

/// Changes an endpoint's URL or events, or switches it off and on (on again re-enables a
/// failing endpoint from the message that failed).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path, description = "The endpoint's id")), request_body = UpdateEndpoint,
    responses((status = 200, description = "The endpoint as changed", body = EndpointDocument)))]
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<UpdateEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let events = match &body.events {
        Some(names) => Some(events_of(Some(names))?),
        None => None,
    };
    let url = match &body.url {
        Some(raw) => Some(checked_url(&state, raw).await?.as_str().to_owned()),
        None => None,
    };
    let change = EndpointChange {
        url,
        events,
        disabled: body.disabled,
    };
    let endpoint = state
        .store
        .update_endpoint(*id, &change, now_ms())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(EndpointDocument::new(endpoint, false)))
}

/// Deletes an endpoint and its queue.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    match state.store.delete_endpoint(*id).await? {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound),
    }
}

/// An endpoint's delivery log, newest first; `next` is the cursor to pass as `after` for older ones.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The endpoint's id"),
        ("after" = Option<String>, Query, pattern = "^(-?[0-9]+)?$", description = "The `next` cursor of the previous page"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Deliveries a page holds (default 50)"),
    ),
    responses((status = 200, description = "A page of deliveries", body = DeliveryPage)))]
pub async fn deliveries(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", format!("a whole number from 1 to {MAX_LIMIT}")))?,
    };
    let after = match query.after.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("after", "pass the `next` of the page before"))?,
        ),
    };
    if state.store.endpoint(*id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let mut rows = state.store.deliveries(*id, after, limit + 1).await?;
    let next = match rows.len() as i64 > limit {
        true => {
            rows.truncate(limit as usize);
            rows.last().map(|d| d.id.to_string())
        }
        false => None,
    };
    Ok(HttpResponse::Ok().json(DeliveryPage {
        deliveries: rows.into_iter().map(DeliveryDocument::new).collect(),
        next,
    }))
}

/// Queues a `webhook.test` message for this endpoint, behind what it is already waiting for.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 202, description = "Queued", body = TestQueued)))]
pub async fn send_test(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    queue_test(&state, *id).await?;
    Ok(HttpResponse::Accepted().json(TestQueued { queued: true }))
}

pub async fn queue_test(state: &AppState, id: i64) -> Result<(), ApiError> {
    if state.store.endpoint(id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let now = now_ms();
    let data = serde_json::json!({ "endpoint_id": id, "message": "a test event from sharetrail" });
    state.store.enqueue_test(id, &data.to_string(), now).await?;
    Ok(())
}
