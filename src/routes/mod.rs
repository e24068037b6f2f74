//! The route table: used by `main`, by the test harness and by nothing else, so tests can never
//! drift from the real routes. Handlers are thin: parse, call, answer.

pub mod api_doc;
pub mod app;
mod auth;
mod body;
mod campaigns;
mod channels;
pub(crate) mod client;
mod keys;
mod lifecycle;
mod link_lifecycle;
pub(crate) mod links;
mod ops;
pub(crate) mod preview_card;
pub(crate) mod previews;
mod public;
mod qr;
pub(crate) mod redirect;
mod shares;
mod sites;
pub(crate) mod snippet;
mod stats;
pub(crate) mod webhooks;

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
        .route("/api/v1/openapi.json", web::get().to(api_doc::document))
        .route("/api/docs", web::get().to(api_doc::page))
        .service(
            web::scope("/api/v1")
                .service(
                    public_routes(web::scope("/public").app_data(public_json_config()))
                        .route(
                            "/{tail:.*}",
                            web::method(actix_web::http::Method::OPTIONS).to(public::preflight),
                        )
                        .default_service(web::to(api_not_found)),
                )
                .configure(keyed_routes)
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

/// The API's routes, registered and listed from one table: `API_ROUTES` is what the OpenAPI
/// document is checked against, so a route cannot be added without the check seeing it.
macro_rules! api_routes {
    (public { $($pmethod:ident $ppath:literal => $phandler:path,)* } keyed { $($method:ident $path:literal => $handler:path,)* }) => {
        /// Every API route as (method, full path), the public ones first.
        pub const API_ROUTES: &[(&str, &str)] = &[
            $((stringify!($pmethod), concat!("/api/v1/public", $ppath)),)*
            ("options", "/api/v1/public/{path}"),
            $((stringify!($method), concat!("/api/v1", $path)),)*
        ];

        /// The public routes, then a 405 for any other method on their paths but OPTIONS,
        /// which the scope's preflight answers.
        fn public_routes(scope: actix_web::Scope) -> actix_web::Scope {
            let not_options = || actix_web::guard::Not(actix_web::guard::Options());
            scope$(.route($ppath, web::$pmethod().to($phandler)))*
                $(.route($ppath, web::route().guard(not_options()).to(method_not_allowed)))*
        }

        /// The keyed routes, then a 405 for any other method on their paths.
        fn keyed_routes(cfg: &mut web::ServiceConfig) {
            $(cfg.route($path, web::$method().to($handler));)*
            $(cfg.route($path, web::route().to(method_not_allowed));)*
        }
    };
}

api_routes! {
    public {
        post "/shares" => public::create_share,
        post "/sent" => public::sent,
        post "/arrivals" => public::arrival,
        post "/conversions" => public::conversion,
        post "/heard" => public::heard,
    }
    keyed {
        post "/sites" => sites::create,
        get "/sites" => sites::list,
        get "/sites/{id}" => sites::show,
        patch "/sites/{id}" => sites::update,
        post "/links" => links::create,
        get "/links" => links::list,
        get "/links/{id}" => links::show,
        patch "/links/{id}" => links::update,
        delete "/links/{id}" => links::delete,
        get "/links/{id}/stats" => stats::show,
        get "/links/{id}/shares" => shares::of_link,
        get "/links/{id}/preview" => previews::show,
        put "/links/{id}/preview" => previews::put_default,
        delete "/links/{id}/preview" => previews::delete_default,
        get "/links/{id}/preview/{channel}" => previews::show_variant,
        put "/links/{id}/preview/{channel}" => previews::put_variant,
        delete "/links/{id}/preview/{channel}" => previews::delete_variant,
        post "/shares" => shares::create,
        get "/shares/{code}" => shares::show,
        patch "/shares/{code}" => shares::update,
        get "/channels" => channels::list,
        post "/channels" => channels::create,
        get "/keys" => keys::list,
        post "/keys" => keys::create,
        delete "/keys/{id}" => keys::revoke,
        get "/campaigns" => campaigns::list,
        post "/campaigns" => campaigns::create,
        get "/campaigns/{id}" => campaigns::show,
        patch "/campaigns/{id}" => campaigns::update,
        get "/webhooks" => webhooks::list,
        post "/webhooks" => webhooks::create,
        get "/webhooks/{id}" => webhooks::show,
        patch "/webhooks/{id}" => webhooks::update,
        delete "/webhooks/{id}" => webhooks::delete,
        get "/webhooks/{id}/deliveries" => webhooks::deliveries,
        post "/webhooks/{id}/test" => webhooks::send_test,
    }
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

/// A method an API path does not answer: 405 with the methods it does.
async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pattern = req.match_pattern().unwrap_or_default();
    let mut allow: Vec<String> = API_ROUTES
        .iter()
        .filter(|(_, path)| *path == pattern)
        .map(|(method, _)| method.to_uppercase())
        .collect();
    if pattern.starts_with("/api/v1/public/") {
        allow.push("OPTIONS".into());
    }
    Err(ApiError::MethodNotAllowed {
        allow: allow.join(", "),
    })
}

async fn api_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
