//! Server-rendered pages (askama): a struct per page, all extending `templates/base.html`.

pub mod charts;
pub mod import;
pub mod link_lifecycle;
pub mod link_password;
pub mod link_query;
pub mod pages;
pub mod preview_card;
pub mod preview_section;
pub mod report;
pub mod webhook_pages;

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;
use askama_web::WebTemplate;

/// What every signed-in page's header shows: who is signed in, the admin links, the form
/// token for signing out, and which section is open.
#[derive(Debug, Clone)]
pub struct Nav {
    pub name: String,
    pub is_admin: bool,
    pub csrf: String,
    pub section: &'static str,
}

/// The new-user form as submitted, shown again with its errors.
#[derive(Default, serde::Deserialize)]
pub struct NewUserValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

/// Served at `/static/sharetrail.css`; embedded so the binary is the whole deployment.
pub const STYLESHEET: &str = include_str!("../../static/sharetrail.css");

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub base_url: String,
    /// No account exists yet: the first one is made through the link in the server's log.
    pub setup_pending: bool,
    pub demo: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "demo.html")]
pub struct DemoPage {
    pub base_url: String,
    pub site_key: String,
    pub snippet_url: String,
    /// The demo page's link, once a share made it.
    pub link_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn status_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = StatusPage { title, message }
        .render()
        .unwrap_or_else(|_| title.to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub fn not_found_page() -> HttpResponse {
    status_page(
        StatusCode::NOT_FOUND,
        "Link not found",
        "This short link does not exist. Check it for typos, or ask whoever sent it for a fresh one.",
    )
}

pub fn gone_page() -> HttpResponse {
    status_page(
        StatusCode::GONE,
        "Link no longer available",
        "This short link has been switched off or has expired.",
    )
}

pub fn unavailable_page() -> HttpResponse {
    status_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "This short link cannot be followed right now. Please try again in a moment.",
    )
}

/// The icon browsers show in a tab, served at `/favicon.ico` (which browsers ask for unbidden)
/// and `/static/favicon.svg` (which the pages name); an SVG either way, which every current
/// browser takes from either address.
pub const FAVICON: &str = include_str!("../../static/favicon.svg");

pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(FAVICON)
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
