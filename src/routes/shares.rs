//! `/api/v1/shares`: one short code carrying one link through one channel.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use super::links::optional_text;
use crate::clock::iso;
use crate::domain::channel::Channel;
use crate::domain::code::{Code, Slug};
use crate::domain::share_tree::depth_first;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewCode, NewShare, ShareLink, ShareRecord};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Children listed inline in a share document; the stats endpoint has the aggregate.
const MAX_CHILDREN: i64 = 500;

#[derive(Deserialize, ToSchema)]
pub struct CreateShare {
    link_id: i64,
    /// A built-in channel (`whatsapp`, `email`, `slack`, `qr`…) or a custom one.
    #[schema(example = "whatsapp")]
    channel: String,
    /// The code of the share this one reshares: the new share is one level deeper.
    parent: Option<String>,
    /// Where it was placed, e.g. a QR code's poster; at most 200 characters.
    label: Option<String>,
    /// A custom code instead of a drawn one; never reused once taken.
    slug: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShareDocument {
    code: String,
    short_url: String,
    link_id: i64,
    channel: String,
    depth: i64,
    parent: Option<String>,
    label: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    /// Switched off: its code answers 410 Gone.
    disabled: bool,
    clicks: i64,
    unfurls: i64,
    bots: i64,
    inferred_channel: Option<String>,
    qr_svg: String,
    qr_png: String,
    /// Its reshares (in a share's own document only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    children: Option<Vec<ShareDocument>>,
}

impl ShareDocument {
    fn new(state: &AppState, s: ShareRecord) -> Self {
        ShareDocument {
            short_url: state.short_url(&s.code),
            qr_svg: format!("{}/qr/{}.svg", state.base_url, s.code),
            qr_png: format!("{}/qr/{}.png", state.base_url, s.code),
            code: s.code,
            link_id: s.link_id,
            channel: s.channel,
            depth: s.depth,
            parent: s.parent_code,
            label: s.label,
            created_at: iso(s.created_at),
            disabled: s.disabled_at.is_some(),
            clicks: s.clicks,
            unfurls: s.unfurls,
            bots: s.bots,
            inferred_channel: s.inferred_channel,
            children: None,
        }
    }
}

/// `POST /api/v1/shares`: a share minted on purpose, counted at once.
#[utoipa::path(post, path = "/api/v1/shares", tag = "shares", request_body = CreateShare,
    responses(
        (status = 201, description = "The share", body = ShareDocument),
        (status = 409, description = "That slug is taken", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateShare>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let channel = Channel::parse(&body.channel).map_err(|e| ApiError::invalid("channel", e))?;
    let parent = body
        .parent
        .map(|p| Code::parse(&p).ok_or_else(|| ApiError::invalid("parent", "no share has that code")))
        .transpose()?;
    let code = match body.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => NewCode::Slug(Code::from(Slug::parse(raw).map_err(|e| ApiError::invalid("slug", e))?)),
        None => NewCode::Drawn(Code::generate()),
    };
    let new = NewShare {
        link: ShareLink::Link(body.link_id),
        code,
        channel,
        parent,
        label: optional_text("label", body.label)?,
        expires_at: None,
        token: None,
        reserved_until: None,
    };
    let share = state.minter.create(new).await?;
    Ok(HttpResponse::Created().json(ShareDocument::new(&state, share)))
}

/// One share, with its figures and its reshares.
#[utoipa::path(get, path = "/api/v1/shares/{code}", tag = "shares", params(("code" = String, Path, description = "The share's code or custom slug")),
    responses((status = 200, description = "The share and its reshares", body = ShareDocument)))]
pub async fn show(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = Code::parse(&code).ok_or(ApiError::NotFound)?;
    let share = state.store.get_share(&code).await?.ok_or(ApiError::NotFound)?;
    let children = state.store.share_children(share.id, MAX_CHILDREN).await?;
    let mut doc = ShareDocument::new(&state, share);
    doc.children = Some(children.into_iter().map(|c| ShareDocument::new(&state, c)).collect());
    Ok(HttpResponse::Ok().json(doc))
}

/// A page of a link's shares and the cursor of the next.
#[derive(Serialize, ToSchema)]
pub struct SharePage {
    shares: Vec<ShareDocument>,
    /// Pass it as `after` for the next page; null after the last page.
    next: Option<String>,
}

/// Shares a page holds unless `limit` says otherwise, and the most it may hold.
const SHARES_PAGE: i64 = 100;
const MAX_SHARES_PAGE: i64 = 500;

/// The most shares tree order arranges: it reads all of a link's shares for every page.
const MAX_TREE: i64 = 100_000;

#[derive(Deserialize)]
pub struct SharesQuery {
    limit: Option<String>,
    after: Option<String>,
    /// `flat` (the order they were made, the default) or `tree` (depth first: each share, then
    /// the subtrees of its reshares).
    order: Option<String>,
}

/// A query parameter's number: `default` when absent or blank, `None` when it is not a
/// number in `range`.
fn number(raw: &Option<String>, default: i64, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Some(default),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| range.contains(n)),
    }
}

/// `GET /api/v1/links/{id}/shares`: a page of the link's shares, in the order they were made
/// (so every share after its parent) or depth first with `order=tree`; `next` is the cursor
/// to pass as `after`, or null after the last page.
#[utoipa::path(get, path = "/api/v1/links/{id}/shares", tag = "shares",
    params(
        ("id" = i64, Path, description = "The link's id"),
        ("order" = Option<String>, Query, pattern = "^(flat|tree)?$", description = "`flat` (the order they were made; the default) or `tree` (depth first)"),
        ("after" = Option<String>, Query, pattern = "^([0-9]+)?$", description = "The `next` cursor of the previous page"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Shares a page holds (default 100)"),
    ),
    responses((status = 200, description = "A page of the link's shares", body = SharePage)))]
pub async fn of_link(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<SharesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = number(&query.limit, SHARES_PAGE, 1..=MAX_SHARES_PAGE)
        .ok_or_else(|| ApiError::invalid("limit", format!("a page holds 1 to {MAX_SHARES_PAGE} shares")))?;
    let after = number(&query.after, 0, 0..=i64::MAX)
        .ok_or_else(|| ApiError::invalid("after", "that cursor is not one a page ended with"))?;
    let tree = match query.order.as_deref().map(str::trim) {
        None | Some("") | Some("flat") => false,
        Some("tree") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "order",
                format!("'{other}' is not an order: flat or tree"),
            ));
        }
    };
    let link = state.store.get_link(*id).await?.ok_or(ApiError::NotFound)?;
    let mut shares = match tree {
        false => state.store.shares_page(link.id, after, limit + 1).await?,
        true => tree_page(&state, link.id, after, limit + 1).await?,
    };
    let next = match shares.len() as i64 > limit {
        true => {
            shares.truncate(limit as usize);
            shares.last().map(|s| s.id.to_string())
        }
        false => None,
    };
    let shares = shares.into_iter().map(|s| ShareDocument::new(&state, s)).collect();
    Ok(HttpResponse::Ok().json(SharePage { shares, next }))
}

/// Up to `limit` of a link's shares depth first, after the share with id `after` (0: from the
/// start).
async fn tree_page(state: &AppState, link_id: i64, after: i64, limit: i64) -> Result<Vec<ShareRecord>, ApiError> {
    let all = state.store.shares_page(link_id, 0, MAX_TREE + 1).await?;
    if all.len() as i64 > MAX_TREE {
        return Err(ApiError::invalid(
            "order",
            format!("tree order arranges at most {MAX_TREE} shares; use order=flat for this link"),
        ));
    }
    let nodes: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|s| (s.code.as_str(), s.parent_code.as_deref()))
        .collect();
    let order = depth_first(&nodes);
    let start = match after {
        0 => 0,
        after => match order.iter().position(|&i| all[i].id == after) {
            Some(at) => at + 1,
            None => return Err(ApiError::invalid("after", "that cursor is not one a page ended with")),
        },
    };
    let picked: Vec<usize> = order.into_iter().skip(start).take(limit as usize).collect();
    let mut slots: Vec<Option<ShareRecord>> = all.into_iter().map(Some).collect();
    Ok(picked.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// A share's changes: `label` (`""` clears it) and `disabled` (its code answers 410 Gone while
/// it is switched off); what is left out stays.
#[derive(Deserialize, ToSchema)]
pub struct UpdateShare {
    label: Option<String>,
    disabled: Option<bool>,
}

/// Changes a share's label, or switches it off (its code alone answers 410 Gone) and on.
#[utoipa::path(patch, path = "/api/v1/shares/{code}", tag = "shares", params(("code" = String, Path, description = "The share's code or custom slug")),
    request_body = UpdateShare,
    responses((status = 200, description = "The share as changed", body = ShareDocument)))]
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: JsonBody<UpdateShare>,
) -> Result<HttpResponse, ApiError> {
    let code = Code::parse(&code).ok_or(ApiError::NotFound)?;
    let share = state.store.get_share(&code).await?.ok_or(ApiError::NotFound)?;
    let body = body.into_inner();
    let label = match body.label {
        Some(label) => optional_text("label", Some(label))?,
        None => share.label.clone(),
    };
    let disabled_at = match body.disabled {
        Some(true) => share.disabled_at.or(Some(crate::clock::now_ms())),
        Some(false) => None,
        None => share.disabled_at,
    };
    if !state
        .store
        .update_share(share.id, label.as_deref(), disabled_at)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    state.invalidate(Some(std::slice::from_ref(&share.code))).await;
    let share = state.store.get_share(&code).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(ShareDocument::new(&state, share)))
}
