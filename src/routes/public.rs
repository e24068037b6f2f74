//! `/api/v1/public/*`: what the share-button snippet calls from a site's pages, with a
//! publishable key. CORS for the site's allowed origins only, never with credentials.

use super::body::JsonBody;
use crate::clock::now_ms;
use crate::domain::address_bar::AddressBarToken;
use crate::domain::attribution::{ConversionName, channel_named_in, parse_answer, parse_value};
use crate::domain::channel::{BuiltinChannel, Channel};
use crate::domain::code::Code;
use crate::domain::destination::Destination;
use crate::domain::site::SiteKey;
use crate::error::ApiError;
use crate::gate::Throttled;
use crate::lookup::VisitTarget;
use crate::routes::client::client_ip;
use crate::state::AppState;
use crate::store::{
    LinkRecord, NewCode, NewConversion, NewSelfReport, NewShare, ShareLink, ShareRecord, SitePage, SiteRecord,
};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use utoipa::ToSchema;

/// Every public body names its site.
trait SiteBody: DeserializeOwned {
    fn site(&self) -> &str;
}

#[derive(Deserialize, ToSchema)]
pub struct ShareBody {
    /// The site's public key.
    site: String,
    /// The page shared, on one of the site's domains.
    url: String,
    channel: String,
    /// The code the visitor arrived through: the share continues its cascade.
    parent: Option<String>,
    /// The page's title, for a link made on first share.
    title: Option<String>,
    /// Only reserve the code (the buttons do so on hover or focus): it counts once sent.
    #[serde(default)]
    reserve: bool,
}

/// The click's report. With the page, channel and parent it was reserved for, a reservation
/// that is gone is minted again under its code.
#[derive(Deserialize, ToSchema)]
pub struct SentBody {
    site: String,
    code: String,
    url: Option<String>,
    channel: Option<String>,
    parent: Option<String>,
    title: Option<String>,
}

/// A visitor who opened an address copied from another visitor's address bar.
#[derive(Deserialize, ToSchema)]
pub struct ArrivalBody {
    site: String,
    url: String,
    token: String,
    parent: Option<String>,
}

/// A conversion (a sign-up, a purchase) of a visitor, credited to the share they arrived by.
#[derive(Deserialize, ToSchema)]
pub struct ConversionBody {
    site: String,
    url: Option<String>,
    code: Option<String>,
    name: String,
    value: Option<f64>,
}

/// A "how did you hear about us?" answer.
#[derive(Deserialize, ToSchema)]
pub struct HeardBody {
    site: String,
    url: Option<String>,
    code: Option<String>,
    answer: String,
    channel: Option<String>,
}

impl SiteBody for ShareBody {
    fn site(&self) -> &str {
        &self.site
    }
}
impl SiteBody for SentBody {
    fn site(&self) -> &str {
        &self.site
    }
}
impl SiteBody for ArrivalBody {
    fn site(&self) -> &str {
        &self.site
    }
}
impl SiteBody for ConversionBody {
    fn site(&self) -> &str {
        &self.site
    }
}
impl SiteBody for HeardBody {
    fn site(&self) -> &str {
        &self.site
    }
}

/// What a conversion or an answer gets back.
#[derive(Serialize, ToSchema)]
struct Recorded {
    #[schema(example = "recorded")]
    status: &'static str,
}

const RECORDED: Recorded = Recorded { status: "recorded" };

#[derive(Serialize, ToSchema)]
struct MintedShare {
    code: String,
    short_url: String,
    channel: String,
    depth: i64,
    parent: Option<String>,
    link_id: i64,
    /// `sent` (a share, counted) or `reserved` (counted once sent).
    status: &'static str,
    /// Seconds a reservation stays valid; absent for a share.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
}

impl MintedShare {
    fn sent(state: &AppState, share: ShareRecord) -> Self {
        MintedShare {
            short_url: state.short_url(&share.code),
            code: share.code,
            channel: share.channel,
            depth: share.depth,
            parent: share.parent_code,
            link_id: share.link_id,
            status: "sent",
            expires_in: None,
        }
    }

    fn reserved(state: &AppState, share: ShareRecord) -> Self {
        MintedShare {
            status: "reserved",
            expires_in: Some(state.minter.reservation_lifetime().as_secs()),
            ..MintedShare::sent(state, share)
        }
    }
}

/// A share of the page, or with `reserve` only a reservation of a code for it. The share
/// continues the cascade of the share the visitor arrived through (`parent`) when that one
/// carries the same page, whoever made its link; otherwise it starts the page's own.
#[utoipa::path(post, path = "/api/v1/public/shares", tag = "public", request_body = ShareBody, security(()),
    responses((status = 201, description = "The share or reservation", body = MintedShare)))]
pub async fn create_share(req: HttpRequest, body: JsonBody<ShareBody>, state: web::Data<AppState>) -> HttpResponse {
    guarded(
        &req,
        body.into_inner(),
        &state.clone(),
        |site, body: ShareBody| async move {
            let channel = Channel::parse(&body.channel).map_err(|e| ApiError::invalid("channel", e))?;
            let reserve = body.reserve;
            let new = NewShare {
                link: site_page(&site, &body.url, body.title.as_deref())?,
                code: NewCode::Drawn(Code::generate()),
                channel,
                parent: body.parent.as_deref().and_then(Code::parse),
                label: None,
                expires_at: None,
                token: None,
                reserved_until: reserve.then(|| state.minter.reservation_end(now_ms())),
            };
            let share = state.minter.create(new).await?;
            let minted = match reserve {
                true => MintedShare::reserved(&state, share),
                false => MintedShare::sent(&state, share),
            };
            Ok(HttpResponse::Created().json(minted))
        },
    )
    .await
}

/// The click on a button sends its reservation: from now on it is a share, and counts. Knowing
/// the code is the proof: only the page that reserved it was told it.
#[utoipa::path(post, path = "/api/v1/public/sent", tag = "public", request_body = SentBody, security(()),
    responses((status = 200, description = "The share, counted from now on", body = MintedShare)))]
pub async fn sent(req: HttpRequest, body: JsonBody<SentBody>, state: web::Data<AppState>) -> HttpResponse {
    guarded(
        &req,
        body.into_inner(),
        &state.clone(),
        |site, body: SentBody| async move {
            let code = Code::parse(body.code.trim()).ok_or(ApiError::NotFound)?;
            // Only a code of the generated shape: a lost reservation, never a word someone picks.
            let lost = match (&body.url, &body.channel) {
                (Some(url), Some(channel)) if code.looks_generated() => Some(NewShare {
                    link: site_page(&site, url, body.title.as_deref())?,
                    code: NewCode::Kept(code.clone()),
                    channel: Channel::parse(channel).map_err(|e| ApiError::invalid("channel", e))?,
                    parent: body.parent.as_deref().and_then(Code::parse),
                    label: None,
                    expires_at: None,
                    token: None,
                    reserved_until: None,
                }),
                _ => None,
            };
            let share = state.minter.send(code, lost).await?;
            Ok(HttpResponse::Ok().json(MintedShare::sent(&state, share)))
        },
    )
    .await
}

/// Someone opened a URL copied out of another visitor's address bar: the token names an
/// `address_bar` share (created on first sight), and this visitor counts as a click on it.
#[utoipa::path(post, path = "/api/v1/public/arrivals", tag = "public", request_body = ArrivalBody, security(()),
    responses((status = 201, description = "The address-bar share the visitor arrived by", body = MintedShare)))]
pub async fn arrival(req: HttpRequest, body: JsonBody<ArrivalBody>, state: web::Data<AppState>) -> HttpResponse {
    let request = req.clone();
    guarded(
        &req,
        body.into_inner(),
        &state.clone(),
        |site, body: ArrivalBody| async move {
            let token = AddressBarToken::parse(&body.token)
                .ok_or_else(|| ApiError::invalid("token", "a token is 8 to 32 letters and digits"))?;
            let new = NewShare {
                link: site_page(&site, &body.url, None)?,
                code: NewCode::Drawn(Code::generate()),
                channel: Channel::Builtin(BuiltinChannel::AddressBar),
                parent: body.parent.as_deref().and_then(Code::parse),
                label: None,
                expires_at: None,
                token: Some(token.into_string()),
                reserved_until: None,
            };
            let share = state.minter.create(new).await?;
            let target = Arc::new(VisitTarget {
                share_id: share.id,
                link_id: share.link_id,
                channel: Arc::from(share.channel.as_str()),
                depth: share.depth,
                infers_channel: share.inferred_channel.is_none(),
            });
            state
                .ingest
                .record(super::redirect::visit(&request, &target, now_ms(), &state));
            Ok(HttpResponse::Created().json(MintedShare::sent(&state, share)))
        },
    )
    .await
}

/// A visitor converted: credited to the share they arrived by and the chain before it.
#[utoipa::path(post, path = "/api/v1/public/conversions", tag = "public", request_body = ConversionBody, security(()),
    responses((status = 202, description = "Recorded", body = Recorded)))]
pub async fn conversion(req: HttpRequest, body: JsonBody<ConversionBody>, state: web::Data<AppState>) -> HttpResponse {
    guarded(
        &req,
        body.into_inner(),
        &state.clone(),
        |site, body: ConversionBody| async move {
            let name = ConversionName::parse(&body.name).map_err(|e| ApiError::invalid("name", e))?;
            let value = parse_value(body.value).map_err(|e| ApiError::invalid("value", e))?;
            let (link, share) = attribution_target(&state, &site, body.url.as_deref(), body.code.as_deref()).await?;
            let conversion = NewConversion {
                site_id: site.id,
                link_id: link.map(|l| l.id),
                share_id: share.map(|s| s.id),
                name: name.as_str().to_owned(),
                value,
                at: now_ms(),
            };
            state.store.record_conversion(&conversion).await?;
            Ok(HttpResponse::Accepted().json(RECORDED))
        },
    )
    .await
}

/// A "how did you hear about us?" answer, set beside what was measured.
#[utoipa::path(post, path = "/api/v1/public/heard", tag = "public", request_body = HeardBody, security(()),
    responses((status = 202, description = "Recorded", body = Recorded)))]
pub async fn heard(req: HttpRequest, body: JsonBody<HeardBody>, state: web::Data<AppState>) -> HttpResponse {
    guarded(
        &req,
        body.into_inner(),
        &state.clone(),
        |site, body: HeardBody| async move {
            let answer = parse_answer(&body.answer).map_err(|e| ApiError::invalid("answer", e))?;
            let channel = match body.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(raw) => Some(Channel::parse(raw).map_err(|e| ApiError::invalid("channel", e))?),
                None => channel_named_in(&answer),
            };
            let (link, share) = attribution_target(&state, &site, body.url.as_deref(), body.code.as_deref()).await?;
            let report = NewSelfReport {
                site_id: site.id,
                link_id: link.map(|l| l.id),
                share_id: share.map(|s| s.id),
                answer,
                channel: channel.map(|c| c.to_string()),
                at: now_ms(),
            };
            state.store.record_self_report(&report).await?;
            Ok(HttpResponse::Accepted().json(RECORDED))
        },
    )
    .await
}

/// CORS preflight. It carries no key, so it can only be told whether any site allows the origin.
#[utoipa::path(options, path = "/api/v1/public/{path}", tag = "public", security(()),
    params(("path" = String, Path, description = "Any public endpoint")),
    responses(
        (status = 204, description = "Some site allows the request's Origin"),
        (status = 403, description = "No site allows it, or there is no Origin"),
    ))]
pub async fn preflight(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(origin) = origin_of(&req) else {
        return HttpResponse::Forbidden().finish();
    };
    match state.gate.any_site_allows(state.store.as_ref(), &origin).await {
        Ok(true) => {
            let mut response = HttpResponse::NoContent();
            response
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"));
            with_cors(response.finish(), &origin)
        }
        Ok(false) => HttpResponse::Forbidden().finish(),
        Err(err) => ApiError::from(err).error_response(),
    }
}

/// Origin, rate limits and key, in that order: the cheapest refusals first. The body was read
/// (as JSON, whatever its content type: see `json_config`) before.
async fn guarded<B, F, Fut>(req: &HttpRequest, body: B, state: &AppState, handle: F) -> HttpResponse
where
    B: SiteBody,
    F: FnOnce(Arc<SiteRecord>, B) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(origin) = origin_of(req) else {
        return ApiError::Forbidden("the public API answers browsers only: an Origin header is required".into())
            .error_response();
    };
    if let Err(throttled) = state.gate.check_ip(client_ip(req, &state.trusted_proxies)) {
        return throttled_response(throttled);
    }
    let site = match resolve_site(state, body.site()).await {
        Ok(site) => site,
        Err(err) => return err.error_response(),
    };
    if !site.origins().allow(&origin) {
        return ApiError::Forbidden(format!("the origin {origin} is not allowed for this site")).error_response();
    }
    // From here on the origin is allowed, so even refusals carry CORS headers the page can read.
    let response = match state.gate.check_site(site.id) {
        Err(throttled) => throttled_response(throttled),
        Ok(()) => handle(site, body).await.unwrap_or_else(|err| err.error_response()),
    };
    with_cors(response, &origin)
}

async fn resolve_site(state: &AppState, raw_key: &str) -> Result<Arc<SiteRecord>, ApiError> {
    let unknown = || ApiError::Forbidden("unknown or disabled site key".into());
    let key = SiteKey::parse(raw_key.trim()).ok_or_else(unknown)?;
    state.gate.site(state.store.as_ref(), &key).await?.ok_or_else(unknown)
}

/// Where a share of the page at `raw_url` goes: the URL must be on one of the site's domains.
fn site_page(site: &SiteRecord, raw_url: &str, title: Option<&str>) -> Result<ShareLink, ApiError> {
    let title = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(200).collect::<String>());
    Ok(ShareLink::SitePage(SitePage {
        site_id: site.id,
        campaign: site.utm_campaign.clone(),
        page: page_url(site, raw_url)?,
        title,
    }))
}

fn page_url(site: &SiteRecord, raw_url: &str) -> Result<Destination, ApiError> {
    let url = Destination::parse(raw_url)
        .map_err(|e| ApiError::invalid("url", e))?
        .page();
    if !site.domains().contain(&url) {
        return Err(ApiError::invalid(
            "url",
            "the page is not on one of this site's domains",
        ));
    }
    if !site.origins().serve(&url) {
        return Err(ApiError::invalid(
            "url",
            "the page is not served on the scheme and port of this site's origins",
        ));
    }
    Ok(url)
}

/// The share a visitor arrived through and its link, else the page's link. The share counts when
/// its link is this site's or leads to one of its domains: a marketer's campaign link for the
/// site's pages is credited like the buttons' own.
async fn attribution_target(
    state: &AppState,
    site: &SiteRecord,
    raw_url: Option<&str>,
    raw_code: Option<&str>,
) -> Result<(Option<LinkRecord>, Option<ShareRecord>), ApiError> {
    if let Some(code) = raw_code.and_then(Code::parse)
        && let Some(share) = state.store.get_share(&code).await?
        && let Some(link) = state.store.get_link(share.link_id).await?
        && (link.site_id == Some(site.id)
            || Destination::parse(&link.url).is_ok_and(|url| site.domains().contain(&url)))
    {
        return Ok((Some(link), Some(share)));
    }
    let link = match raw_url {
        Some(raw) => state.store.find_site_page_link(site.id, &page_url(site, raw)?).await?,
        None => None,
    };
    Ok((link, None))
}

fn origin_of(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn throttled_response(Throttled(wait): Throttled) -> HttpResponse {
    ApiError::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    }
    .error_response()
}

fn with_cors(mut response: HttpResponse, origin: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}
