//! The API described: the OpenAPI 3.1 document generated from the handlers' own annotations
//! and body types (`/api/v1/openapi.json`), and a page that shows it to people (`/api/docs`),
//! rendered here from the same document, with nothing fetched from elsewhere.

use super::{campaigns, channels, keys, links, previews, public, shares, sites, stats, webhooks};
use crate::error::ErrorBody;
use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sharetrail API",
        description = "Short links that measure dark social: links, their per-channel shares and cascades, \
campaigns, sites and their public share-button API. Authenticate with `Authorization: Bearer <API key>` \
(`sharetrail api-key create`); the public endpoints carry a site's public key in the body instead. \
Every error has one shape: `{\"error\": {\"code\", \"message\", \"field\"?}}`. Lists page with `limit` \
and the `next` cursor, passed back as `after`."
    ),
    paths(
        public::create_share,
        public::sent,
        public::arrival,
        public::conversion,
        public::heard,
        public::preflight,
        sites::create,
        sites::list,
        sites::show,
        sites::update,
        links::create,
        links::list,
        links::show,
        links::update,
        links::delete,
        stats::show,
        shares::of_link,
        previews::show,
        previews::put_default,
        previews::delete_default,
        previews::show_variant,
        previews::put_variant,
        previews::delete_variant,
        shares::create,
        shares::show,
        shares::update,
        channels::list,
        channels::create,
        keys::list,
        keys::create,
        keys::revoke,
        campaigns::list,
        campaigns::create,
        campaigns::show,
        campaigns::update,
        webhooks::list,
        webhooks::create,
        webhooks::show,
        webhooks::update,
        webhooks::delete,
        webhooks::deliveries,
        webhooks::send_test,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Conventions),
    tags(
        (name = "links", description = "Destinations, and what became of them"),
        (name = "shares", description = "One code carrying one link through one channel"),
        (name = "previews", description = "The card a chat app's preview bot shows for a link, per channel"),
        (name = "campaigns", description = "Groups of links; a campaign's slug is its links' utm_campaign"),
        (name = "sites", description = "Websites that embed the share buttons"),
        (name = "channels", description = "Custom channels beside the built-in ones"),
        (name = "keys", description = "API keys: whoever holds one administers sharetrail"),
        (name = "webhooks", description = "Endpoints that receive signed events, and their delivery logs"),
        (name = "public", description = "What the share buttons call from a site's pages (CORS, site key, rate limited)"),
    )
)]
pub struct ApiDoc;

/// The API's conventions, added to every operation rather than repeated in each: the bearer
/// key (except where an operation says `security(())`), and the errors any request can get.
struct Conventions;

const ERRORS: &[(&str, &str)] = &[
    ("400", "The body or query string could not be read"),
    ("401", "No valid API key"),
    (
        "403",
        "Refused: for the public API, an Origin no site allows, or a disabled site",
    ),
    ("404", "Nothing has that id or code"),
    ("413", "The body is over 16 KiB"),
    ("422", "A value is not acceptable; `field` names it"),
    ("429", "Too many requests: see Retry-After"),
    ("503", "The database is away for a moment: see Retry-After"),
];

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key, `stk_…`"))
                    .build(),
            ),
        );
        for (status, description) in ERRORS {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            components.responses.insert(format!("E{status}"), RefOr::T(response));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                // Handler names repeat across areas (`list`, `show`): the method and path do not.
                operation.operation_id = Some(operation_id(method, path));
                operation.summary = operation.summary.take().map(|s| without_route(&s));
                // `security(())` in an annotation leaves one empty requirement: a public operation.
                let public = operation
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                if public {
                    operation.security = Some(vec![SecurityRequirement::default()]);
                } else {
                    operation.security = Some(vec![SecurityRequirement::new("api_key", Vec::<String>::new())]);
                }
                for (status, _) in ERRORS {
                    if public && *status == "401" {
                        continue;
                    }
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/E{status}"))));
                }
            }
        }
    }
}

/// `get_links_id_stats` for `GET /api/v1/links/{id}/stats`.
fn operation_id(method: &str, path: &str) -> String {
    let segments = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .map(|s| s.trim_matches(|c| c == '{' || c == '}'));
    std::iter::once(method).chain(segments).collect::<Vec<_>>().join("_")
}

/// A handler's first doc line without the "`GET /api/v1/links`: " it may open with, which
/// the document says already.
fn without_route(summary: &str) -> String {
    let rest = match summary.strip_prefix('`').and_then(|s| s.split_once("`: ")) {
        Some((_, rest)) => rest,
        None => summary,
    };
    let mut chars = rest.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The document as JSON, built once: it cannot change while the process runs.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_json().expect("the API document serialises"))
}

/// `GET /api/v1/openapi.json`, for code generators, API clients and schema-driven tests.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(openapi_json())
}

/// `GET /api/docs`: the same document for people to read.
pub async fn page() -> HttpResponse {
    static HTML: OnceLock<String> = OnceLock::new();
    let html = HTML.get_or_init(|| {
        let document: Value = serde_json::from_str(openapi_json()).unwrap_or_default();
        ApiDocsPage::of(&document)
            .render()
            .unwrap_or_else(|_| "the API reference could not be rendered; see /api/v1/openapi.json".into())
    });
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(html.as_str())
}

#[derive(Template)]
#[template(path = "api_docs.html")]
/// Every `description` and `summary` field of these views is HTML made by `prose`.
struct ApiDocsPage {
    title: String,
    description: String,
    groups: Vec<Group>,
    schemas: Vec<SchemaView>,
}

struct Group {
    tag: String,
    description: String,
    operations: Vec<OperationView>,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    public: bool,
    params: Vec<Field>,
    body: Option<String>,
    responses: Vec<(String, String, Option<String>)>,
}

struct SchemaView {
    name: String,
    description: String,
    fields: Vec<Field>,
}

struct Field {
    name: String,
    place: String,
    kind: String,
    required: bool,
    description: String,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Prose of the document as HTML: escaped, with its `code` spans set as code.
fn prose(value: &Value) -> String {
    let mut html = String::new();
    for (i, part) in text(value).split('`').enumerate() {
        let escaped = part
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        match i % 2 {
            1 => html.push_str(&format!("<code>{escaped}</code>")),
            _ => html.push_str(&escaped),
        }
    }
    html
}

/// A schema as people say it: `LinkDocument`, `string (date-time) or null`, `array of ShareDocument`.
fn kind_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
            return options.iter().map(kind_of).collect::<Vec<_>>().join(" or ");
        }
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().map(text).collect(),
        _ => vec!["any".into()],
    };
    let described: Vec<String> = types
        .into_iter()
        .map(|t| match t.as_str() {
            "array" => format!(
                "array of {}",
                schema.get("items").map(kind_of).unwrap_or_else(|| "any".into())
            ),
            "object" if schema.get("additionalProperties").is_some_and(Value::is_object) => {
                format!("map of {}", kind_of(&schema["additionalProperties"]))
            }
            _ => match schema.get("format").and_then(Value::as_str) {
                Some(format) => format!("{t} ({format})"),
                None => t,
            },
        })
        .collect();
    described.join(" or ")
}

fn fields_of(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<Field> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| Field {
                    name: name.clone(),
                    place: "body".into(),
                    kind: kind_of(property),
                    required: required.contains(&name.as_str()),
                    description: prose(&property["description"]),
                })
                .collect()
        })
        .unwrap_or_default();
    // Flattened and combined schemas: their parts' fields, in order.
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        fields.extend(fields_of(part));
    }
    fields
}

impl ApiDocsPage {
    fn of(document: &Value) -> Self {
        let tags: Vec<(String, String)> = document["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .map(|t| (text(&t["name"]), prose(&t["description"])))
                    .collect()
            })
            .unwrap_or_default();
        let mut groups: Vec<Group> = tags
            .into_iter()
            .map(|(tag, description)| Group {
                tag,
                description,
                operations: Vec::new(),
            })
            .collect();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "patch", "delete", "options"] {
                let Some(operation) = item.get(method) else { continue };
                let view = OperationView {
                    anchor: format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-")),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: prose(&operation["summary"]),
                    description: prose(&operation["description"]),
                    public: operation["security"]
                        .as_array()
                        .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty()))),
                    params: operation["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| Field {
                            name: text(&p["name"]),
                            place: text(&p["in"]),
                            kind: kind_of(&p["schema"]),
                            required: p["required"].as_bool().unwrap_or(false),
                            description: prose(&p["description"]),
                        })
                        .collect(),
                    body: operation["requestBody"]["content"]["application/json"]
                        .get("schema")
                        .map(kind_of),
                    responses: operation["responses"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(status, response)| {
                            let response = match response.get("$ref").and_then(Value::as_str) {
                                Some(r) => &document["components"]["responses"][r.rsplit('/').next().unwrap_or(r)],
                                None => response,
                            };
                            let schema = response["content"]["application/json"].get("schema").map(kind_of);
                            (status.clone(), prose(&response["description"]), schema)
                        })
                        .collect(),
                };
                let tag = operation["tags"][0].as_str().unwrap_or("other");
                match groups.iter_mut().find(|g| g.tag == tag) {
                    Some(group) => group.operations.push(view),
                    None => groups.push(Group {
                        tag: tag.to_owned(),
                        description: String::new(),
                        operations: vec![view],
                    }),
                }
            }
        }
        let schemas = document["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| SchemaView {
                name: name.clone(),
                description: prose(&schema["description"]),
                fields: fields_of(schema),
            })
            .collect();
        ApiDocsPage {
            title: text(&document["info"]["title"]),
            description: prose(&document["info"]["description"]),
            groups,
            schemas,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prose_escapes_markup_and_sets_code_spans() {
        assert_eq!(
            prose(&json!("a `<b>` & <i>\"")),
            "a <code>&lt;b&gt;</code> &amp; &lt;i&gt;&quot;"
        );
        assert_eq!(prose(&json!("an `unclosed span")), "an <code>unclosed span</code>");
        assert_eq!(prose(&Value::Null), "");
    }

    #[test]
    fn operation_ids_and_summaries_read_from_method_and_path() {
        assert_eq!(operation_id("get", "/api/v1/links/{id}/stats"), "get_links_id_stats");
        assert_eq!(without_route("`GET /api/v1/links`: a page of links"), "A page of links");
        assert_eq!(without_route("one link"), "One link");
    }
}
