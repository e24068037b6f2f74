//! The redirect of a link that asks more of its visits: a click limit, a password; and where an
//! ended short link sends people (its link's fallback, or 410).
//!
//! A click limit is decided here, at redirect time, from the lookup's in-memory count
//! (`crate::lookup::budget`): only human clicks take from it, and a click is redirected only
//! when its visit is queued, so the stats count exactly the clicks that were redirected. A
//! protected link shows a password form to everyone; a person who gives the right password
//! (`POST /{code}`) is redirected and counted then, once. Previews and other bots see the form
//! and never the destination; they are recorded as what they are.

use super::client::client_ip;
use super::redirect::visit;
use crate::accounts::password;
use crate::clock::now_ms;
use crate::domain::client::rate_limit_key;
use crate::domain::code::Code;
use crate::domain::visit::VisitKind;
use crate::ingest::VisitRecord;
use crate::lookup::budget::Admission;
use crate::lookup::{Cached, LiveShare};
use crate::state::AppState;
use crate::web::link_password::LinkPasswordPage;
use crate::web::{gone_page, not_found_page, unavailable_page};
use actix_web::http::header::HeaderValue;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::time::Duration;

/// Longer than any password a link may have (128 characters of up to 4 bytes) once encoded.
pub const MAX_FORM_BODY: usize = 4 * 1024;

/// A short link that has ended: its link's fallback, or 410 Gone. A visit of the fallback is
/// not a click: the link's figures count the people its destination got.
pub fn ended(fallback: Option<&HeaderValue>, status: StatusCode) -> HttpResponse {
    match fallback {
        Some(fallback) => redirect_to(fallback, status),
        None => gone_page(),
    }
}

fn redirect_to(location: &HeaderValue, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location.clone()))
        // Never cacheable: a cached redirect is a click nobody records (or a limit ignored).
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .finish()
}

/// A visit of a live, unexpired short link (`GET` or `HEAD`): `None` once it is recorded and
/// may be redirected, as every visit of a link with neither a click limit nor a password is.
/// Otherwise the answer to give instead, where the link has ended (used up), asks for its
/// password, or cannot count a click it would let through.
pub fn intercept(visit: VisitRecord, share: &LiveShare, state: &AppState, status: StatusCode) -> Option<HttpResponse> {
    if share.max_clicks.is_none() && share.password_hash.is_none() {
        state.ingest.record(visit);
        return None;
    }
    if share
        .max_clicks
        .is_some_and(|max| state.lookup.is_used_up(share.target.link_id, max))
    {
        return Some(ended(share.fallback.as_ref(), status));
    }
    if share.password_hash.is_some() {
        // A person counts once the password is right; a preview or a bot is what it is.
        if visit.kind != VisitKind::Click {
            state.ingest.record(visit);
        }
        return Some(password_page(None, StatusCode::OK));
    }
    count(visit, share, state, status)
}

/// Records `visit`, which passed every other test, taking a human click from the link's limit;
/// or the answer to give instead.
fn count(visit: VisitRecord, share: &LiveShare, state: &AppState, status: StatusCode) -> Option<HttpResponse> {
    let link_id = share.target.link_id;
    match (visit.kind, share.max_clicks) {
        (VisitKind::Click, Some(max)) => {
            if state.lookup.admit_click(link_id, max) == Admission::UsedUp {
                return Some(ended(share.fallback.as_ref(), status));
            }
            // A click that would not be counted is not redirected: the limit and the stats
            // must agree. Only a queue full for lack of a database gets here.
            if !state.ingest.try_record(visit) {
                state.lookup.refund_click(link_id);
                return Some(unavailable_page());
            }
        }
        _ => state.ingest.record(visit),
    }
    None
}

fn password_page(error: Option<String>, status: StatusCode) -> HttpResponse {
    let body = LinkPasswordPage { error }
        .render()
        .unwrap_or_else(|_| "This link needs a password.".to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // A password page is a person's own: never stored, indexed, framed or told to the next site.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-robots-tag", "noindex, nofollow"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::app::CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body)
}

#[derive(serde::Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /{code}`: the password form of a protected short link. The right password redirects
/// (303) and the visit counts then; a wrong one shows the form again, and past a few wrong ones
/// from one address the link answers 429 with `Retry-After` for a while.
pub async fn unlock(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(code) = Code::parse(req.match_info().query("code")) else {
        return not_found_page();
    };
    let Ok(entry) = state.lookup.find(&code).await else {
        return unavailable_page();
    };
    let share = match entry.as_ref() {
        Cached::Live(share) => share,
        Cached::Gone { fallback } => return ended(fallback.as_ref(), StatusCode::SEE_OTHER),
        Cached::Missing => return not_found_page(),
    };
    let now = now_ms();
    let used_up = |max| state.lookup.is_used_up(share.target.link_id, max);
    if share.expires_at.is_some_and(|at| at <= now) || share.max_clicks.is_some_and(used_up) {
        return ended(share.fallback.as_ref(), StatusCode::SEE_OTHER);
    }
    let Some(hash) = share.password_hash.clone() else {
        // No password (any more): the short link answers for itself.
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/{}", code.as_str())))
            .finish();
    };
    let link_id = share.target.link_id;
    let ip = rate_limit_key(client_ip(&req, &state.trusted_proxies));
    let throttle = &state.accounts.link_passwords;
    if let Err(wait) = throttle.check(ip, link_id) {
        return too_many(wait);
    }
    let attempt = match read_password(&body) {
        Some(attempt) => attempt,
        None => return password_page(Some("Enter the password.".into()), StatusCode::BAD_REQUEST),
    };
    let Ok(right) = state
        .accounts
        .passwords
        .run(move || password::verify(&hash, &attempt))
        .await
    else {
        return unavailable_page();
    };
    if !right {
        if let Err(wait) = throttle.failed(ip, link_id) {
            return too_many(wait);
        }
        return password_page(
            Some("That password is not right. Check it and try again.".into()),
            StatusCode::UNAUTHORIZED,
        );
    }
    let visit = visit(&req, &share.target, now, &state);
    count(visit, share, &state, StatusCode::SEE_OTHER)
        .unwrap_or_else(|| redirect_to(&share.location, StatusCode::SEE_OTHER))
}

/// The password from a form body, if it holds a non-empty one.
fn read_password(body: &[u8]) -> Option<String> {
    if body.len() > MAX_FORM_BODY {
        return None;
    }
    let form: PasswordForm = serde_html_form::from_bytes(body).ok()?;
    (!form.password.is_empty()).then_some(form.password)
}

fn too_many(wait: Duration) -> HttpResponse {
    let secs = wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0);
    let mut page = password_page(
        Some(format!(
            "Too many wrong passwords. Wait {secs} seconds, then try again."
        )),
        StatusCode::TOO_MANY_REQUESTS,
    );
    if let Ok(value) = HeaderValue::try_from(secs.to_string()) {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    page
}
