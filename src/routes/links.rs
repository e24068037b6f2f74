//! `/api/v1/links`: the destinations people share.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use super::link_lifecycle::{LifecycleFields, UtmDocument};
use crate::clock::{iso, now_ms};
use crate::domain::destination::Destination;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{LinkChange, LinkDeletion, LinkLifecycle, LinkRecord, LinkSummary, NewLink};
use crate::web::link_query::{self, LinkListQuery};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_TEXT: usize = 200;

#[derive(Deserialize, ToSchema)]
pub struct CreateLink {
    /// Where its short links send people: an absolute http(s) address.
    #[schema(example = "https://example.com/spring-sale")]
    url: String,
    /// At most 200 characters.
    title: Option<String>,
    /// A campaign's slug, its `utm_campaign`; the campaign is made if it does not exist.
    campaign: Option<String>,
    /// RFC 3339: its short links stop redirecting from then on.
    expires_at: Option<String>,
    /// `max_clicks`, `fallback_url`, `password` and `utm`.
    #[serde(flatten)]
    lifecycle: LifecycleFields,
}

/// A link's changes: each field given is set (`""` clears a title or a campaign), each one
/// left out stays.
#[derive(Deserialize, ToSchema)]
pub struct UpdateLink {
    /// Switched off, its short links answer 410 Gone until it is switched on again.
    disabled: Option<bool>,
    /// RFC 3339; `null` removes the expiry. Left out, it stays.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Option<String>>,
    title: Option<String>,
    campaign: Option<String>,
    url: Option<String>,
    /// `max_clicks`, `fallback_url`, `password` and `utm`.
    #[serde(flatten)]
    lifecycle: LifecycleFields,
}

#[derive(Serialize, ToSchema)]
pub struct LinkDocument {
    id: i64,
    url: String,
    title: Option<String>,
    campaign: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    disabled: bool,
    /// When its short links stop redirecting (410 Gone), if ever.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Human clicks its short links take together before they behave as expired, if limited.
    max_clicks: Option<i64>,
    /// Clicks left under `max_clicks`, as stored (the last fraction of a second may be on its way).
    clicks_remaining: Option<i64>,
    /// Where its short links send people once they have ended, instead of 410.
    fallback_url: Option<String>,
    /// Whether a visitor must give a password before the redirect (the password is never shown).
    password_protected: bool,
    /// UTM tags the link sets (a string) or leaves out (`false`) instead of sharetrail's own.
    utm: UtmDocument,
    stats_url: String,
}

/// A field that was given, even as `null` (`Some(None)`), apart from one left out (`None`).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// An RFC 3339 time as Unix milliseconds.
fn instant(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| ApiError::invalid(field, "use an RFC 3339 time, e.g. 2027-03-31T23:59:59Z"))
}

impl LinkDocument {
    pub(crate) fn new(link: LinkRecord) -> Self {
        let lifecycle = &link.lifecycle;
        LinkDocument {
            max_clicks: lifecycle.max_clicks,
            clicks_remaining: lifecycle.max_clicks().map(|limit| limit.remaining(link.clicks)),
            fallback_url: lifecycle.fallback_url.clone(),
            password_protected: lifecycle.password_hash.is_some(),
            utm: UtmDocument::new(&lifecycle.utm_overrides()),
            stats_url: format!("/api/v1/links/{}/stats", link.id),
            id: link.id,
            url: link.url,
            title: link.title,
            campaign: link.campaign,
            created_at: iso(link.created_at),
            disabled: link.disabled_at.is_some(),
            expires_at: link.expires_at.map(iso),
        }
    }
}

/// A link in a list: its document and its running totals.
#[derive(Serialize, ToSchema)]
pub struct LinkListItem {
    #[serde(flatten)]
    link: LinkDocument,
    clicks: i64,
    shares: i64,
    max_depth: i64,
}

impl LinkListItem {
    fn new(link: LinkSummary) -> Self {
        LinkListItem {
            clicks: link.clicks,
            shares: link.share_count,
            max_depth: link.max_depth,
            link: LinkDocument::new(LinkRecord {
                id: link.id,
                url: link.url,
                title: link.title,
                campaign: link.campaign,
                created_at: link.created_at,
                disabled_at: link.disabled_at,
                expires_at: link.expires_at,
                site_id: link.site_id,
                clicks: link.clicks,
                lifecycle: link.lifecycle,
            }),
        }
    }
}

/// Links a page holds unless `limit` says otherwise.
const PAGE: i64 = 50;

/// A page of links and the cursor of the next.
#[derive(Serialize, ToSchema)]
pub struct LinkPage {
    links: Vec<LinkListItem>,
    /// Pass it as `after` for the next page; null after the last page.
    next: Option<String>,
}

/// `GET /api/v1/links`: a page of links, newest first unless `sort` says otherwise, narrowed
/// by `q` (title or address), `campaign`, `channel` and `status` (`on`, `off`). `next` is the
/// cursor to pass as `after` for the page that follows, or null after the last page.
#[utoipa::path(get, path = "/api/v1/links", tag = "links",
    params(
        ("q" = Option<String>, Query, max_length = 200, description = "Words in the title or the address (at most 200 characters)"),
        ("campaign" = Option<String>, Query, description = "A campaign's slug"),
        ("channel" = Option<String>, Query, description = "Links with at least one share of this channel"),
        ("status" = Option<String>, Query, pattern = "^(on|off)?$", description = "`on` or `off`"),
        ("sort" = Option<String>, Query, pattern = "^(newest|clicks|shares|deepest)?$", description = "`newest` (the default), `clicks`, `shares` or `deepest`"),
        ("after" = Option<String>, Query, pattern = "^([0-9]+\\.[0-9]+)?$", description = "The `next` cursor of the previous page"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Links a page holds (default 50)"),
    ),
    responses((status = 200, description = "A page of links", body = LinkPage)))]
pub async fn list(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<LinkListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (link_query, problems) = link_query::parse(&query, PAGE);
    if let Some(problem) = problems.into_iter().next() {
        return Err(ApiError::invalid(problem.field, problem.message));
    }
    let page = (link_query.limit - 1) as usize;
    let mut links = state.store.find_links(&link_query).await?;
    let next = (links.len() > page).then(|| {
        links.truncate(page);
        links.last().map(|last| link_query::cursor_of(last, link_query.order))
    });
    let links = links.into_iter().map(LinkListItem::new).collect();
    Ok(HttpResponse::Ok().json(LinkPage {
        links,
        next: next.flatten(),
    }))
}

/// Trims, turns blank into absent, and bounds the length of free text.
pub fn optional_text(field: &'static str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => {
            Err(ApiError::invalid(field, format!("at most {MAX_TEXT} characters")))
        }
        Some(v) if v.chars().any(char::is_control) => {
            Err(ApiError::invalid(field, "control characters are not allowed"))
        }
        other => Ok(other),
    }
}

/// `POST /api/v1/links`: a new link, without shares yet.
#[utoipa::path(post, path = "/api/v1/links", tag = "links", request_body = CreateLink,
    responses((status = 201, description = "The link", body = LinkDocument)))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateLink>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = Destination::parse(&body.url).map_err(|e| ApiError::invalid("url", e))?;
    let new = NewLink {
        url,
        title: optional_text("title", body.title)?,
        campaign: optional_text("campaign", body.campaign)?,
    };
    let expires_at = body.expires_at.map(|raw| instant("expires_at", &raw)).transpose()?;
    let lifecycle = body.lifecycle.parse(&LinkLifecycle::default(), &state).await?;
    let mut link = state
        .store
        .create_link_with(&new, &lifecycle.unwrap_or_default(), now_ms())
        .await?;
    // No short link of it exists yet: nothing can be visited before its expiry is set.
    if expires_at.is_some() {
        state.store.set_link_expiry(link.id, expires_at).await?;
        link.expires_at = expires_at;
    }
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/links/{}", link.id)))
        .json(LinkDocument::new(link)))
}

/// One link.
#[utoipa::path(get, path = "/api/v1/links/{id}", tag = "links", params(("id" = i64, Path, description = "The link's id")),
    responses((status = 200, description = "The link", body = LinkDocument)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let link = state.store.get_link(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(LinkDocument::new(link)))
}

/// `{"disabled": true}` stops every share of the link redirecting (410), on every instance;
/// `title`, `campaign` and `url` change the link, and its short links follow at once.
#[utoipa::path(patch, path = "/api/v1/links/{id}", tag = "links", params(("id" = i64, Path, description = "The link's id")),
    request_body = UpdateLink,
    responses((status = 200, description = "The link as changed", body = LinkDocument)))]
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<UpdateLink>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let body = body.into_inner();
    let link = state.store.get_link(id).await?.ok_or(ApiError::NotFound)?;
    let url = match (body.url, link.site_id) {
        (None, _) => None,
        // A site's link stands for one page of the site, which its buttons find it by.
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "url",
                "a site's link keeps its page's address: its share buttons find it by it",
            ));
        }
        (Some(url), None) => Some(Destination::parse(&url).map_err(|e| ApiError::invalid("url", e))?),
    };
    let expires_at = match &body.expires_at {
        Some(Some(raw)) => Some(Some(instant("expires_at", raw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let lifecycle = body.lifecycle.parse(&link.lifecycle, &state).await?;
    let changes_fields = url.is_some() || body.title.is_some() || body.campaign.is_some();
    if changes_fields {
        let change = LinkChange {
            title: match body.title {
                Some(title) => optional_text("title", Some(title))?,
                None => link.title.clone(),
            },
            campaign: match body.campaign {
                Some(campaign) => optional_text("campaign", Some(campaign))?,
                None => link.campaign.clone(),
            },
            url: match url {
                Some(url) => url,
                None => {
                    Destination::parse(&link.url).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored url: {e}")))?
                }
            },
        };
        state.store.update_link(id, &change, now_ms()).await?;
    }
    if let Some(disabled) = body.disabled {
        state.store.set_link_disabled(id, disabled.then(now_ms)).await?;
    }
    if let Some(expires_at) = expires_at {
        state.store.set_link_expiry(id, expires_at).await?;
    }
    if let Some(lifecycle) = &lifecycle {
        state.store.set_link_lifecycle(id, lifecycle).await?;
    }
    if changes_fields || body.disabled.is_some() || expires_at.is_some() || lifecycle.is_some() {
        // That link's codes only: every other cached redirect stays warm, here and elsewhere.
        let codes = state.store.codes_of_link(id).await?;
        state.invalidate(Some(&codes)).await;
    }
    let link = state.store.get_link(id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(LinkDocument::new(link)))
}

/// `DELETE /api/v1/links/{id}`: the link is gone from every list, document and campaign, and
/// its short links answer 410 Gone for good; their codes are never handed out again.
#[utoipa::path(delete, path = "/api/v1/links/{id}", tag = "links", params(("id" = i64, Path, description = "The link's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "A site's page link: switch it off instead", body = crate::error::ErrorBody),
    ))]
pub async fn delete(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    match state.store.delete_link(id, now_ms()).await? {
        LinkDeletion::Deleted => {
            let codes = state.store.codes_of_link(id).await?;
            state.invalidate(Some(&codes)).await;
            Ok(HttpResponse::NoContent().finish())
        }
        LinkDeletion::NotFound => Err(ApiError::NotFound),
        LinkDeletion::SitePage => Err(ApiError::Conflict {
            field: "id",
            message: "a site's page link cannot be deleted: the page's share buttons would find it again; switch it off instead".into(),
        }),
    }
}
