//! Benchmark baseline: the cheapest redirect server actix-web can be, and the
//! cheapest JSON API.
//!
//! `scripts/bench-redirect` runs it beside sharetrail on the same short codes, so
//! sharetrail's throughput is judged against what the framework alone reaches on
//! the same machine. It does nothing sharetrail does (no database, no visit
//! recording, no classification): a map lookup and a fixed 302. For
//! `scripts/bench-mint` it answers any POST the way minting does, with none of the
//! work: the JSON body read, a share-shaped JSON document back, 201.
//!
//! Environment: `CODES_FILE` (one code per line, required) and `LISTEN`
//! (default `127.0.0.1:8090`).

use std::collections::HashMap;
use std::io;

use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};

type Targets = web::Data<HashMap<String, String>>;

async fn redirect(targets: Targets, code: web::Path<String>) -> HttpResponse {
    match targets.get(code.as_str()) {
        Some(target) => HttpResponse::Found()
            .insert_header((header::LOCATION, target.as_str()))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .finish(),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn mint(body: web::Json<serde_json::Value>) -> HttpResponse {
    let channel = body.get("channel").cloned().unwrap_or_default();
    HttpResponse::Created().json(serde_json::json!({
        "code": "Ab3dEf9x",
        "short_url": "http://127.0.0.1/Ab3dEf9x",
        "channel": channel,
        "depth": 2,
        "parent": body.get("parent"),
        "link_id": 1,
        "status": "reserved",
    }))
}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let path =
        std::env::var("CODES_FILE").map_err(|_| io::Error::other("CODES_FILE must name a file of short codes"))?;
    let targets: HashMap<String, String> = std::fs::read_to_string(path)?
        .lines()
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(|code| {
            let target = format!("https://example.com/landing?st={code}");
            (code.to_owned(), target)
        })
        .collect();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".to_owned());
    eprintln!("baseline_redirect: {} codes on http://{listen}", targets.len());

    let targets = web::Data::new(targets);
    HttpServer::new(move || {
        App::new()
            .app_data(targets.clone())
            .route("/{code}", web::get().to(redirect))
            // Any content type, as the share buttons post JSON as text/plain.
            .app_data(web::JsonConfig::default().content_type(|_| true))
            .route("/{tail:.*}", web::post().to(mint))
    })
    .bind(listen)?
    .run()
    .await
}
