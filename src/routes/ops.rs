//! Liveness, metrics and the front page.

use crate::health::Part;
use crate::state::AppState;
use crate::web::HomePage;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

/// `ok`, or `degraded` with what fails and since when. Always 200 while the process serves: a
/// degraded instance still answers every cached redirect and keeps visits for later, and one
/// taken out of rotation or restarted for it would lose both. Monitoring alerts on `degraded`.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(PING_WAIT, state.store.ping()).await {
        Ok(Ok(())) => state.health.answered(Part::Ping),
        Ok(Err(err)) => state.health.failed(Part::Ping, &crate::telemetry::cause_chain(&err)),
        Err(_) => state
            .health
            .failed(Part::Ping, "no answer within the health check's wait"),
    }
    let m = &state.metrics;
    let waiting = m
        .visits_queued
        .get()
        .saturating_sub(m.visits_written.get() + m.visits_dropped.get());
    let failures = state.health.failures();
    let reasons: Vec<serde_json::Value> = failures
        .iter()
        .map(|(part, for_how_long)| {
            serde_json::json!({"problem": part.describe(), "for_seconds": for_how_long.as_secs()})
        })
        .collect();
    let status = if reasons.is_empty() { "ok" } else { "degraded" };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "status": status,
            "database": state.store.backend(),
            "visits_waiting": waiting,
            "reasons": reasons,
        }))
}

/// How long the health check waits for the database's answer.
const PING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = &state.metrics_token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !crate::accounts::session::constant_time_eq(presented.trim().as_bytes(), token.expose_secret().as_bytes()) {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .finish();
        }
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

pub async fn home(state: web::Data<AppState>) -> HomePage {
    HomePage {
        base_url: state.base_url.clone(),
        setup_pending: state.accounts.setup_is_open(),
        demo: state.demo_site_key.is_some(),
    }
}
