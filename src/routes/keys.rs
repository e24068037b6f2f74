//! `/api/v1/keys`: API keys listed, created (the key is shown once) and revoked.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::{iso, now_ms};
use crate::domain::api_key;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ApiKeyRecord;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest name a key may have.
const MAX_NAME: usize = 120;

#[derive(Serialize, ToSchema)]
pub struct KeyDocument {
    id: i64,
    name: String,
    /// The key's first characters, to recognise it by; the key itself is never shown again.
    prefix: String,
    #[schema(format = DateTime)]
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

/// Every key, revoked ones included.
#[derive(Serialize, ToSchema)]
pub struct KeyList {
    keys: Vec<KeyDocument>,
}

/// Every API key by its prefix, revoked ones too; a key itself is never shown again.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", responses((status = 200, description = "Every key, by its prefix", body = KeyList)))]
pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys = state
        .store
        .list_api_keys()
        .await?
        .into_iter()
        .map(KeyDocument::new)
        .collect();
    Ok(HttpResponse::Ok().json(KeyList { keys }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateKey {
    /// Who or what the key is for, 1 to 120 characters.
    #[schema(example = "CRM sync")]
    name: String,
}

/// A key just made: the only time `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct NewKeyDocument {
    id: i64,
    name: String,
    /// Send it as `Authorization: Bearer <key>`.
    key: String,
}

/// A new key: its plaintext is in this answer only (the store keeps its hash).
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, description = "The key, shown this once", body = NewKeyDocument)))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateKey>,
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
        .json(NewKeyDocument {
            id,
            name: name.to_owned(),
            key: key.plaintext,
        }))
}

/// Revokes a key at once on this instance; other instances stop trusting it within their
/// cache's lifetime (seconds). Revoking a revoked key changes nothing and says so the same way.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = i64, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked")))]
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
