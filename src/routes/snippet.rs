//! `/share.js`, its pinned versions, and the `/demo` page that shows the whole loop.

use crate::clock::now_ms;
use crate::domain::destination::Destination;
use crate::domain::site::{Domains, Origins, SiteKey};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewSite, SiteRecord, SiteUpdate, Store};
use crate::web::DemoPage;
use actix_web::http::header::{self, Encoding, Header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256, Sha384};
use std::io::Write;
use std::sync::LazyLock;

const SHARE_JS: &str = include_str!("../../assets/share.js");
const DEMO_JS: &str = include_str!("../../assets/demo.js");

/// The snippet with its version (a content hash, for the immutable URL), its SRI hash, and its
/// gzip form, compressed once at the best level: a middleware compressing per request uses a
/// fast level and would push the script past its 6 KB budget.
pub struct Snippet {
    version: String,
    integrity: String,
    gzipped: Vec<u8>,
}

static SNIPPET: LazyLock<Snippet> = LazyLock::new(|| {
    let version = hex::encode(&Sha256::digest(SHARE_JS.as_bytes())[..6]);
    let digest = Sha384::digest(SHARE_JS.as_bytes());
    let integrity = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(digest));
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let gzipped = encoder
        .write_all(SHARE_JS.as_bytes())
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    Snippet {
        version,
        integrity,
        gzipped,
    }
});

impl Snippet {
    pub fn get() -> &'static Snippet {
        &SNIPPET
    }

    /// The route of the pinned script: a fixed path, so matching it costs no pattern.
    pub fn pinned_path(&self) -> String {
        format!("/share.{}.js", self.version)
    }

    pub fn url(&self, base_url: &str) -> String {
        format!("{base_url}/share.js")
    }

    pub fn pinned_url(&self, base_url: &str) -> String {
        format!("{base_url}/share.{}.js", self.version)
    }

    pub fn tag(&self, base_url: &str, site_key: &str) -> String {
        format!(
            r#"<script src="{}" data-site="{site_key}" defer></script>"#,
            self.url(base_url)
        )
    }

    pub fn pinned_tag(&self, base_url: &str, site_key: &str) -> String {
        format!(
            r#"<script src="{}" integrity="{}" crossorigin="anonymous" data-site="{site_key}" defer></script>"#,
            self.pinned_url(base_url),
            self.integrity
        )
    }
}

fn javascript(body: &'static [u8], gzipped: bool, cache_control: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept-Encoding"))
        // Anyone may load it, and SRI on a cross-origin script needs a CORS-readable response.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    response.body(body)
}

fn share_js(req: &HttpRequest, cache_control: &'static str) -> HttpResponse {
    // Unreadable or absent: the plain file, which every client takes.
    let accepts_gzip = header::AcceptEncoding::parse(req)
        .ok()
        .and_then(|accepted| accepted.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        == Some(Encoding::gzip());
    let snippet = Snippet::get();
    match accepts_gzip && !snippet.gzipped.is_empty() {
        true => javascript(&snippet.gzipped, true, cache_control),
        false => javascript(SHARE_JS.as_bytes(), false, cache_control),
    }
}

/// The moving `/share.js`: short caching so fixes reach sites within minutes.
pub async fn latest(req: HttpRequest) -> HttpResponse {
    share_js(&req, "public, max-age=300")
}

/// `/share.<version>.js`: never changes, so it may be cached forever and pinned with SRI.
pub async fn pinned(req: HttpRequest) -> HttpResponse {
    share_js(&req, "public, max-age=31536000, immutable")
}

/// The demo page. It changes nothing: its site was made at start (`prepare_demo_site`).
pub async fn demo(state: web::Data<AppState>) -> Result<DemoPage, ApiError> {
    let site_key = state.demo_site_key.clone().ok_or(ApiError::NotFound)?;
    // The page's link exists from its first share on; the page links to its analytics then.
    let page = Destination::parse(&format!("{}/demo", state.base_url.trim_end_matches('/')))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the demo page's address is not valid: {e}")))?;
    let link_id = match state.store.demo_site().await? {
        Some(site) => state.store.find_site_page_link(site.id, &page).await?.map(|l| l.id),
        None => None,
    };
    Ok(DemoPage {
        snippet_url: Snippet::get().url(&state.base_url),
        base_url: state.base_url.clone(),
        site_key,
        link_id,
    })
}

pub async fn demo_script(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.demo_site_key.as_ref().ok_or(ApiError::NotFound)?;
    Ok(javascript(DEMO_JS.as_bytes(), false, "public, max-age=300"))
}

/// The demo's own site, made on the first start with the demo on and kept pointing at this
/// server's origin.
pub async fn prepare_demo_site(store: &dyn Store, base_url: &str) -> Result<SiteRecord, ApiError> {
    let (domains, origins) = demo_scope(base_url)?;
    match store.demo_site().await? {
        Some(site) if site.domains == domains.to_stored() && site.origins == origins.to_stored() => Ok(site),
        Some(site) => {
            let update = SiteUpdate {
                domains: Some(domains),
                origins: Some(origins),
                ..SiteUpdate::default()
            };
            store
                .update_site(site.id, &update, now_ms())
                .await?
                .ok_or(ApiError::NotFound)
        }
        None => {
            let site = NewSite {
                name: "sharetrail demo".to_owned(),
                key: SiteKey::generate(),
                domains,
                origins,
                utm_enabled: true,
                utm_campaign: Some("demo".to_owned()),
                is_demo: true,
            };
            Ok(store.create_site(&site, now_ms()).await?)
        }
    }
}

/// The demo page lives on sharetrail itself; on a loopback address both spellings of it work.
fn demo_scope(base_url: &str) -> Result<(Domains, Origins), ApiError> {
    let url = url::Url::parse(base_url).map_err(ApiError::internal)?;
    let host = url.host_str().unwrap_or("localhost").to_owned();
    let mut hosts = vec![host.clone()];
    let mut origins = vec![url.origin().ascii_serialization()];
    if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        for loopback in ["127.0.0.1", "localhost"] {
            hosts.push(loopback.to_owned());
            origins.push(format!("{}://{loopback}{port}", url.scheme()));
        }
    }
    let domains = Domains::parse(&hosts).map_err(ApiError::internal)?;
    let origins = Origins::parse(&origins).map_err(ApiError::internal)?;
    Ok((domains, origins))
}
