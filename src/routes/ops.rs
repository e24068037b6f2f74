//! Liveness, metrics and the front page.

use crate::state::AppState;
use crate::web::HomePage;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// Healthy means the database answers: a sharetrail that cannot resolve codes is not alive.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": state.store.backend()})),
        Err(err) => {
            tracing::warn!(error = %crate::error::cause_chain(&err), "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = &state.metrics_token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !crate::accounts::session::constant_time_eq(presented.trim().as_bytes(), token.as_bytes()) {
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
    }
}
