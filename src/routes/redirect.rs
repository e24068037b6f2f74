//! `GET /{code}`: the hot path. Cache → classify → enqueue → 302, nothing slower. Most redirects
//! are answered before routing (see `short_code_path`), the rest by the router's fallback.

use crate::classify::{VisitSignals, is_prefetch};
use crate::clock::now_ms;
use crate::domain::code::{Code, is_reserved};
use crate::domain::visit::VisitKind;
use crate::ingest::VisitRecord;
use crate::lookup::{Cached, VisitTarget};
use crate::routes::client::client_ip;
use crate::routes::lifecycle;
use crate::routes::preview_card;
use crate::state::AppState;
use crate::web::{not_found_page, unavailable_page};
use actix_web::http::header::HeaderName;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use std::sync::Arc;
use std::time::Instant;

const SEC_PURPOSE: HeaderName = HeaderName::from_static("sec-purpose");
const PURPOSE: HeaderName = HeaderName::from_static("purpose");
const X_MOZ: HeaderName = HeaderName::from_static("x-moz");

/// Marks a request `follow` answered, so the metrics need not match its path against every route.
pub struct ShortCodeRoute;

/// The short code a request asks for, when it can be told before routing: `GET` or `HEAD` of
/// one path segment that could be a code and is none of sharetrail's own words. Every page at
/// the root with a name a code could have (`/healthz`, `/metrics`, `/demo`, `/app`) is reserved,
/// so such a request can only be a redirect and need not walk the route table first.
pub fn short_code_path(req: &HttpRequest) -> Option<Code> {
    short_code(req).filter(|code| !is_reserved(code.as_str()))
}

/// `GET` or `HEAD` of one path segment that could be a code.
fn short_code(req: &HttpRequest) -> Option<Code> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    Code::parse(req.path().strip_prefix('/').filter(|rest| !rest.contains('/'))?)
}

/// Answers a request `short_code_path` accepted, before routing.
pub async fn redirect(req: &HttpRequest, code: &Code, state: &AppState) -> HttpResponse {
    let started = Instant::now();
    let response = answer(req, code, state).await;
    state.metrics.redirect_seconds.observe(started.elapsed().as_secs_f64());
    response
}

/// Whatever reached no route: a short code the redirect door left to the router (a reserved word
/// is never a slug, but a generated code could spell one), or a 404 page.
pub async fn follow(req: HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(ShortCodeRoute);
    // Borrowed rather than extracted: the extractor clones the state's `Arc`, a reference count
    // every worker writes on every redirect.
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return unavailable_page();
    };
    // Malformed and unknown codes get the same 404: nothing to learn from probing.
    match short_code(&req) {
        Some(code) => redirect(&req, &code, state).await,
        None => not_found_page(),
    }
}

async fn answer(req: &HttpRequest, code: &Code, state: &AppState) -> HttpResponse {
    // A code neither cached nor answered for by the database: the lookup has told the log,
    // once for the whole outage, not for every such request.
    let Ok(entry) = state.lookup.find(code).await else {
        return unavailable_page();
    };
    let share = match entry.as_ref() {
        Cached::Live(share) => share,
        Cached::Gone { fallback } => return lifecycle::ended(fallback.as_ref(), StatusCode::FOUND),
        Cached::Missing => return not_found_page(),
    };
    let now = now_ms();
    if share.expires_at.is_some_and(|at| at <= now) {
        return lifecycle::ended(share.fallback.as_ref(), StatusCode::FOUND);
    }
    let visit = visit(req, &share.target, now, state);
    let unfurled_by = visit.app.filter(|_| visit.kind == VisitKind::Unfurl);
    // Recorded there, or answered otherwise where its link has a click limit or a password.
    if let Some(answer) = lifecycle::intercept(visit, share, state, StatusCode::FOUND) {
        return answer;
    }
    // A preview bot gets the link's card for this share, where it has one; everyone else the redirect.
    if let Some(app) = unfurled_by
        && let Some(page) = preview_card::answer(code, share, app, state).await
    {
        return page;
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, share.location.clone()))
        // Never 301 and never cacheable: a cached redirect is a click nobody records.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .finish()
}

/// A visit of `share` by whoever sent `req`: classified, hashed, never holding the address.
pub(crate) fn visit(req: &HttpRequest, share: &Arc<VisitTarget>, now: i64, state: &AppState) -> VisitRecord {
    let headers = req.headers();
    // Typed names: looking a header up by `&str` parses the name on every request.
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let user_agent = text(&header::USER_AGENT).unwrap_or_default();
    let signals = VisitSignals {
        user_agent,
        is_head: req.method() == Method::HEAD,
        is_prefetch: is_prefetch(text(&SEC_PURPOSE), text(&PURPOSE), text(&X_MOZ)),
    };
    let verdict = state.classifier.classify(&signals);
    let ip = client_ip(req, &state.trusted_proxies);
    // Only the country is kept; the address itself is never stored.
    let country = state.geoip.as_ref().and_then(|geo| geo.country(ip));
    VisitRecord {
        share: Arc::clone(share),
        at: now,
        kind: verdict.kind,
        app: verdict.app,
        device: verdict.device,
        visitor: state.salt.visitor_hash(ip, user_agent, share.link_id),
        referrer_host: text(&header::REFERER).and_then(referrer_host),
        software: verdict.software,
        country,
    }
}

/// Only the host: a referrer's path can carry personal data. And only a host: a name is at most
/// 253 bytes, and anything longer would sit in the visit queue and the database as sent.
fn referrer_host(referrer: &str) -> Option<Box<str>> {
    if referrer.len() > MAX_REFERRER_LEN {
        return None;
    }
    let host = url::Url::parse(referrer).ok()?.host_str()?.to_ascii_lowercase();
    (!host.is_empty() && host.len() <= MAX_HOST_LEN).then(|| host.into_boxed_str())
}

const MAX_HOST_LEN: usize = 253;
/// Longer than any real referrer (browsers send the page's URL, and trim it): not parsed at all.
const MAX_REFERRER_LEN: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn code_of(method: Method, path: &str) -> Option<String> {
        let req = TestRequest::default().method(method).uri(path).to_http_request();
        short_code_path(&req).map(|code| code.as_str().to_owned())
    }

    #[test]
    fn a_get_or_head_of_one_segment_that_could_be_a_code_is_a_redirect() {
        assert_eq!(code_of(Method::GET, "/Ab3dEf9x").as_deref(), Some("Ab3dEf9x"));
        assert_eq!(code_of(Method::HEAD, "/launch-day").as_deref(), Some("launch-day"));
        assert_eq!(
            code_of(Method::GET, "/Ab3dEf9x?utm_source=x").as_deref(),
            Some("Ab3dEf9x")
        );
    }

    #[test]
    fn a_referrer_is_kept_as_its_host_when_it_is_one() {
        assert_eq!(
            referrer_host("https://News.Example.com/a?b=c").as_deref(),
            Some("news.example.com")
        );
        let long_label = format!("https://{}.example.com/", "a".repeat(300));
        assert_eq!(referrer_host(&long_label), None, "a label over 63 bytes is no host");
        let long_name = format!("https://{}example.com/", "abcdefghi.".repeat(30));
        assert_eq!(referrer_host(&long_name), None, "a name over 253 bytes is no host");
        let huge = format!("https://example.com/{}", "x".repeat(128 * 1024));
        assert_eq!(referrer_host(&huge), None);
        assert_eq!(referrer_host("android-app://com.slack"), Some("com.slack".into()));
        assert_eq!(referrer_host("not a url"), None);
    }

    #[test]
    fn pages_other_methods_and_other_shapes_are_left_to_the_router() {
        for path in ["/healthz", "/metrics", "/demo", "/app", "/HEALTHZ", "/Settings"] {
            assert_eq!(code_of(Method::GET, path), None, "{path} is reserved");
        }
        for path in [
            "/",
            "/share.js",
            "/demo.js",
            "/app/login",
            "/qr/Ab3dEf9x.svg",
            "/api/v1/links",
        ] {
            assert_eq!(code_of(Method::GET, path), None, "{path} cannot be a code");
        }
        assert_eq!(code_of(Method::POST, "/Ab3dEf9x"), None);
        assert_eq!(code_of(Method::OPTIONS, "/Ab3dEf9x"), None);
    }
}
