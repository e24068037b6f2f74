//! `/api/v1/keys`: API keys listed, created (the key is shown once) and revoked.

use super::auth::ApiKeyAuth;
use crate::clock::{iso, now_ms};
use crate::domain::api_key;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ApiKeyRecord;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

/// The longest name a key may have.
const MAX_NAME: usize = 120;

#[derive(Serialize)]
pub struct KeyDocument {
    id: i64,
    name: String,
    /// The key's first characters, to recognise it by; the key itself is never shown again.
    prefix: String,
    created_at: String,
    revoked: bool,
}

impl KeyDocument {
    fn new(key: ApiKeyRecord) -> Self {
        KeyDocument {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: iso(key.created_at),
            revoked: key.revoked_at.is_some(),
        }
    }
}

pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys: Vec<KeyDocument> = state
        .store
        .list_api_keys()
        .await?
        .into_iter()
        .map(KeyDocument::new)
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "keys": keys })))
}

#[derive(Deserialize)]
pub struct CreateKey {
    name: String,
}

/// A new key: its plaintext is in this answer only (the store keeps its hash).
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: web::Json<CreateKey>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            format!("say who or what the key is for (1 to {MAX_NAME} characters)"),
        ));
    }
    let key = api_key::generate();
    let id = state.store.create_api_key(name, &key, now_ms()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/keys/{id}")))
        .json(serde_json::json!({ "id": id, "name": name, "key": key.plaintext })))
}

/// Revokes a key at once on this instance; other instances stop trusting it within their
/// cache's lifetime (seconds). Revoking a revoked key changes nothing and says so the same way.
pub async fn revoke(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let known = state.store.list_api_keys().await?.into_iter().any(|k| k.id == *id);
    if !known {
        return Err(ApiError::NotFound);
    }
    state.store.revoke_api_key(*id, now_ms()).await?;
    state.api_keys.forget_all();
    Ok(HttpResponse::NoContent().finish())
}
