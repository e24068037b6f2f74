//! The marketers' web UI under `/app`: server-rendered pages, forms with CSRF tokens, sessions.
//!
//! Every page gets a strict Content-Security-Policy (no inline script or style) and `no-store`.
//! Unsafe requests must carry the session's CSRF token and, when the browser sends one, our
//! Origin. No GET changes anything.

mod account;
mod admin;
mod campaigns;
mod exports;
mod import;
mod link_lifecycle;
mod link_list;
mod links;
mod previews;
mod webhooks;

use crate::accounts::SessionToken;
use crate::accounts::session::constant_time_eq;
use crate::clock::now_ms;
use crate::domain::account::Role;
use crate::state::AppState;
use crate::web::Nav;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::DefaultHeaders;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Name of the double-submit cookie that protects the two forms used before signing in.
const ANON_CSRF_COOKIE: &str = "sharetrail-csrf";

/// A signed-in session is written back at most this often, not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/app")
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CSP))
                    .add((header::CACHE_CONTROL, "no-store"))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "same-origin"))
                    .add((header::X_FRAME_OPTIONS, "DENY")),
            )
            // Raw bodies too (a campaign link's form is read as bytes, for its repeated fields).
            .app_data(web::PayloadConfig::new(MAX_FORM_BODY))
            .app_data(
                web::FormConfig::default()
                    .limit(MAX_FORM_BODY)
                    .error_handler(|err, _| UiError::BadForm(format!("the form could not be read: {err}")).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| UiError::BadForm(format!("the address could not be read: {err}")).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| UiError::NotFound.into()))
            .route("", web::get().to(campaigns::home))
            .route("/", web::get().to(campaigns::home))
            .route("/app.js", web::get().to(app_script))
            .route("/setup", web::get().to(account::setup_form))
            .route("/setup", web::post().to(account::setup))
            .route("/login", web::get().to(account::login_form))
            .route("/login", web::post().to(account::login))
            .route("/logout", web::post().to(account::logout))
            .route("/users", web::get().to(account::users))
            .route("/users", web::post().to(account::create_user))
            .route("/users/{id}/access", web::post().to(account::set_access))
            .route("/campaigns", web::get().to(campaigns::index))
            .route("/campaigns", web::post().to(campaigns::create))
            .route("/campaigns/{id}", web::get().to(campaigns::show))
            .route("/campaigns/{id}/rename", web::post().to(campaigns::rename))
            .route("/campaigns/{id}/archive", web::post().to(campaigns::archive))
            .route("/campaigns/{id}/visits.csv", web::get().to(exports::campaign_visits))
            .route("/campaigns/{id}/shares.csv", web::get().to(exports::campaign_shares))
            .route("/links", web::get().to(link_list::index))
            .route("/links", web::post().to(links::create))
            .route("/links/new", web::get().to(links::new_form))
            .route("/links/{id}", web::get().to(links::show))
            .route("/links/{id}/shares", web::post().to(links::add_share))
            .route("/links/{id}/edit", web::post().to(link_list::edit))
            .route("/links/{id}/switch", web::post().to(link_list::switch))
            .route("/links/{id}/delete", web::post().to(link_list::delete))
            .route("/links/{id}/qr", web::get().to(links::qr_sheet))
            .route("/links/{id}/preview", web::post().to(previews::save))
            .route("/links/{id}/preview/remove", web::post().to(previews::remove))
            .route("/links/{id}/visits.csv", web::get().to(exports::link_visits))
            .route("/links/{id}/shares.csv", web::get().to(exports::link_shares))
            .route("/events", web::get().to(links::events))
            .route("/events/new", web::get().to(links::event_form))
            .route("/events", web::post().to(links::create_event))
            .route("/sites", web::get().to(admin::sites))
            .route("/sites", web::post().to(admin::create_site))
            .route("/sites/{id}", web::get().to(admin::site))
            .route("/sites/{id}", web::post().to(admin::update_site))
            .route("/keys", web::get().to(admin::keys))
            .route("/keys", web::post().to(admin::create_key))
            .route("/keys/{id}/revoke", web::post().to(admin::revoke_key))
            .route("/import", web::get().to(import::form))
            .route("/import", web::post().to(import::preview))
            .route("/import/confirm", web::post().to(import::confirm))
            .route("/webhooks", web::get().to(webhooks::index))
            .route("/webhooks", web::post().to(webhooks::create))
            .route("/webhooks/{id}", web::get().to(webhooks::show))
            .route("/webhooks/{id}", web::post().to(webhooks::update))
            .route("/webhooks/{id}/switch", web::post().to(webhooks::switch))
            .route("/webhooks/{id}/test", web::post().to(webhooks::send_test))
            .route("/webhooks/{id}/delete", web::post().to(webhooks::delete))
            .default_service(web::to(|| async { Err::<HttpResponse, UiError>(UiError::NotFound) })),
    );
}

/// Copy buttons and other small progressive enhancements; the pages work without it.
pub const APP_SCRIPT: &str = include_str!("../../../assets/app.js");

async fn app_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_SCRIPT)
}

/// The person behind a request, from a live session.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub csrf: String,
    token_hash: String,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// What every page's header needs.
    pub fn nav(&self, section: &'static str) -> Nav {
        Nav {
            name: self.name.clone(),
            is_admin: self.is_admin(),
            csrf: self.csrf.clone(),
            section,
        }
    }
}

impl FromRequest for Viewer {
    type Error = UiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, UiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let sign_in = || UiError::SignIn {
                next: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default(),
            };
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or_else(sign_in)?;
            let policy = state.accounts.policy;
            let token = req
                .cookie(policy.cookie_name())
                .and_then(|c| SessionToken::from_cookie(c.value()))
                .ok_or_else(sign_in)?;
            let hash = token.hash();
            let session = state.store.session(&hash).await.map_err(UiError::internal)?;
            let now = now_ms();
            let Some(session) = session.filter(|s| s.disabled_at.is_none()) else {
                return Err(sign_in());
            };
            if !policy.is_live(session.created_at, session.last_seen_at, now) {
                state.store.delete_session(&hash).await.map_err(UiError::internal)?;
                return Err(sign_in());
            }
            if now - session.last_seen_at > TOUCH_EVERY_MS {
                state.store.touch_session(&hash, now).await.map_err(UiError::internal)?;
            }
            Ok(Viewer {
                user_id: session.user_id,
                name: session.name,
                email: session.email,
                role: Role::parse(&session.role).unwrap_or(Role::Member),
                csrf: session.csrf_token,
                token_hash: hash,
            })
        })
    }
}

/// A signed-in admin.
pub struct Admin(pub Viewer);

impl FromRequest for Admin {
    type Error = UiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, UiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer.await?;
            if viewer.is_admin() {
                Ok(Admin(viewer))
            } else {
                Err(UiError::Forbidden(
                    "Only admins manage people, sites, API keys and webhooks. Ask an admin if you need this.".into(),
                ))
            }
        })
    }
}

/// Refuses a form that lacks this session's CSRF token or comes from another origin.
pub fn check_form(req: &HttpRequest, viewer: &Viewer, presented: Option<&str>) -> Result<(), UiError> {
    check_origin(req)?;
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), viewer.csrf.as_bytes()) => Ok(()),
        _ => Err(UiError::Csrf),
    }
}

/// The same for the sign-in and setup forms, which have no session yet: the token must match
/// the cookie set with the form (double submit).
pub fn check_anonymous_form(req: &HttpRequest, presented: Option<&str>) -> Result<(), UiError> {
    check_origin(req)?;
    let cookie = req.cookie(ANON_CSRF_COOKIE).map(|c| c.value().to_owned());
    match (cookie, presented) {
        (Some(cookie), Some(token)) if !token.is_empty() && constant_time_eq(cookie.as_bytes(), token.as_bytes()) => {
            Ok(())
        }
        _ => Err(UiError::Csrf),
    }
}

/// A fresh anonymous CSRF token and the cookie that carries it.
pub fn anonymous_csrf(state: &AppState) -> (String, actix_web::cookie::Cookie<'static>) {
    let token = crate::accounts::session::random_token();
    let cookie = actix_web::cookie::Cookie::build(ANON_CSRF_COOKIE, token.clone())
        .path("/app")
        .http_only(true)
        .secure(state.accounts.policy.secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish();
    (token, cookie)
}

/// Browsers send Origin with every form POST; when present it must be ours.
fn check_origin(req: &HttpRequest) -> Result<(), UiError> {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let state = req.app_data::<web::Data<AppState>>();
    let configured = state.map(|s| s.base_url.as_str()).unwrap_or_default();
    let info = req.connection_info();
    let served = format!("{}://{}", info.scheme(), info.host());
    if origin == configured || origin == served {
        Ok(())
    } else {
        Err(UiError::Csrf)
    }
}

/// Where to go after signing in: only a path inside the UI, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/app") && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/app/campaigns".to_owned(),
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("sign in to continue")]
    SignIn { next: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadForm(String),
    #[error("this form has expired or did not come from this site")]
    Csrf,
    /// Every core is busy hashing passwords.
    #[error("busy")]
    Busy,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl UiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> UiError {
        UiError::Internal(err.into())
    }
}

impl From<crate::accounts::password::Busy> for UiError {
    fn from(_: crate::accounts::password::Busy) -> Self {
        UiError::Busy
    }
}

impl From<crate::store::StoreError> for UiError {
    fn from(err: crate::store::StoreError) -> Self {
        UiError::internal(err)
    }
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::SignIn { .. } => StatusCode::SEE_OTHER,
            UiError::Forbidden(_) | UiError::Csrf => StatusCode::FORBIDDEN,
            UiError::NotFound => StatusCode::NOT_FOUND,
            UiError::BadForm(_) => StatusCode::BAD_REQUEST,
            UiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            UiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            UiError::SignIn { next } => {
                let target = format!(
                    "/app/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return see_other(&target);
            }
            UiError::Forbidden(message) => ("Not allowed", message.clone()),
            UiError::NotFound => (
                "Not found",
                "There is nothing at this address. Go back to your campaigns.".to_owned(),
            ),
            UiError::BadForm(message) => ("That did not work", message.clone()),
            UiError::Csrf => (
                "Form expired",
                "This form has expired or did not come from sharetrail. Go back, reload the page and try again."
                    .to_owned(),
            ),
            UiError::Busy => {
                let mut page = crate::web::pages::message_page(
                    self.status_code(),
                    "Busy",
                    "Too many people are signing in at this moment. Try again in a few seconds.",
                );
                page.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
                return page;
            }
            UiError::Internal(err) => {
                tracing::error!(error = %crate::telemetry::cause_chain(err.as_ref()), "page failed");
                (
                    "Something went wrong",
                    "The page could not be shown. Please try again in a moment.".to_owned(),
                )
            }
        };
        crate::web::pages::message_page(self.status_code(), title, &message)
    }
}

/// The most any of the web UI's forms may send.
const MAX_FORM_BODY: usize = 64 * 1024;

/// How long until the throttle lets the next attempt through, rounded up to whole seconds.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
