//! The route table: used by `main`, by the test harness and by nothing else, so tests can never
//! drift from the real routes. Handlers are thin: parse, call, answer.

pub mod app;
mod auth;
mod campaigns;
mod channels;
pub(crate) mod client;
mod keys;
mod lifecycle;
mod link_lifecycle;
pub(crate) mod links;
mod ops;
mod public;
mod qr;
pub(crate) mod redirect;
mod shares;
mod sites;
pub(crate) mod snippet;
mod stats;

use crate::error::ApiError;
use actix_web::error::{JsonPayloadError, PathError};
use actix_web::{HttpRequest, HttpResponse, web};

/// JSON bodies are small; anything larger is refused before it is read.
pub const MAX_JSON_BODY: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config())
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .route("/", web::get().to(ops::home))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/static/sharetrail.css", web::get().to(crate::web::stylesheet))
        .route("/static/favicon.svg", web::get().to(crate::web::favicon))
        .route("/favicon.ico", web::get().to(crate::web::favicon))
        .route("/share.js", web::get().to(snippet::latest))
        .route("/share.js", web::head().to(snippet::latest))
        .route(&snippet::Snippet::get().pinned_path(), web::get().to(snippet::pinned))
        .route(&snippet::Snippet::get().pinned_path(), web::head().to(snippet::pinned))
        .route("/demo", web::get().to(snippet::demo))
        .route("/demo.js", web::get().to(snippet::demo_script))
        .configure(app::configure)
        .service(
            web::scope("/api/v1")
                .service(
                    web::scope("/public")
                        .app_data(public_json_config())
                        .route("/shares", web::post().to(public::create_share))
                        .route("/sent", web::post().to(public::sent))
                        .route("/arrivals", web::post().to(public::arrival))
                        .route("/conversions", web::post().to(public::conversion))
                        .route("/heard", web::post().to(public::heard))
                        .route(
                            "/{tail:.*}",
                            web::method(actix_web::http::Method::OPTIONS).to(public::preflight),
                        )
                        .default_service(web::to(api_not_found)),
                )
                .route("/sites", web::post().to(sites::create))
                .route("/sites", web::get().to(sites::list))
                .route("/sites/{id}", web::get().to(sites::show))
                .route("/sites/{id}", web::patch().to(sites::update))
                .route("/links", web::post().to(links::create))
                .route("/links", web::get().to(links::list))
                .route("/links/{id}", web::get().to(links::show))
                .route("/links/{id}", web::patch().to(links::update))
                .route("/links/{id}/stats", web::get().to(stats::show))
                .route("/links/{id}/shares", web::get().to(shares::of_link))
                .route("/shares", web::post().to(shares::create))
                .route("/shares/{code}", web::get().to(shares::show))
                .route("/shares/{code}", web::patch().to(shares::update))
                .route("/channels", web::post().to(channels::create))
                .route("/keys", web::get().to(keys::list))
                .route("/keys", web::post().to(keys::create))
                .route("/keys/{id}", web::delete().to(keys::revoke))
                .route("/campaigns", web::get().to(campaigns::list))
                .route("/campaigns", web::post().to(campaigns::create))
                .route("/campaigns/{id}", web::get().to(campaigns::show))
                .route("/campaigns/{id}", web::patch().to(campaigns::update))
                .default_service(web::to(api_not_found)),
        )
        .service(
            web::scope("/qr")
                .route("/{file}", web::get().to(qr::show))
                .route("/{file}", web::head().to(qr::show)),
        )
        // A protected short link's password form. The redirect door leaves POSTs to the router:
        // they are rare, and get the request span and the route's metrics like any form.
        .service(
            web::resource("/{code}")
                .guard(actix_web::guard::Post())
                .app_data(web::PayloadConfig::new(lifecycle::MAX_FORM_BODY))
                .route(web::post().to(lifecycle::unlock)),
        )
        // Short codes are mostly answered before routing (`startup::redirect_door`); whatever no
        // route above claimed may still be one, such as a code that spells a reserved word.
        .default_service(web::to(redirect::follow));
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BODY)
        .error_handler(json_error)
}

/// The share buttons post JSON as `text/plain`, which browsers send cross-origin without a
/// CORS preflight; the public API reads it as JSON whatever its type says.
fn public_json_config() -> web::JsonConfig {
    json_config().content_type_required(false).content_type(|_| true)
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => ApiError::TooLarge,
        JsonPayloadError::ContentType => ApiError::malformed("the body must be JSON (Content-Type: application/json)"),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::Invalid {
            field: "body",
            message: e.to_string(),
        },
        JsonPayloadError::Deserialize(e) => ApiError::malformed(format!("the body is not valid JSON: {e}")),
        _ => ApiError::malformed("the body could not be read"),
    };
    api.into()
}

/// A path that does not parse (`/links/abc`) names nothing: 404, as for an unknown id.
fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::malformed(format!("the query string could not be read: {err}")).into()
}

async fn api_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
