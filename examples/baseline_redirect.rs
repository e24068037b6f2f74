//! Benchmark baseline: the cheapest redirect server actix-web can be.
//!
//! `scripts/bench-redirect` runs it beside sharetrail on the same short codes, so
//! sharetrail's throughput is judged against what the framework alone reaches on
//! the same machine. It does nothing sharetrail does (no database, no visit
//! recording, no classification): a map lookup and a fixed 302.
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
    })
    .bind(listen)?
    .run()
    .await
}
