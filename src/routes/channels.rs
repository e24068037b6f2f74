//! `/api/v1/channels`: custom channels a marketer defines (`newsletter`, `podcast`).

use super::auth::ApiKeyAuth;
use crate::clock::now_ms;
use crate::domain::channel::{Channel, Medium};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct CreateChannel {
    name: String,
    /// The `utm_medium` its redirects carry; `referral` when not given.
    medium: Option<String>,
}

#[derive(Serialize)]
struct ChannelDocument {
    name: String,
    medium: String,
}

pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: web::Json<CreateChannel>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let name = match Channel::parse(&body.name).map_err(|e| ApiError::invalid("name", e))? {
        Channel::Custom(name) => name,
        Channel::Builtin(_) => return Err(ApiError::invalid("name", "that is a built-in channel")),
    };
    let medium = match body.medium.as_deref() {
        None => Medium::referral(),
        Some(raw) => Medium::parse(raw).map_err(|e| ApiError::invalid("medium", e))?,
    };
    state
        .store
        .create_custom_channel(&name, medium.as_str(), now_ms())
        .await?;
    Ok(HttpResponse::Created().json(ChannelDocument {
        name,
        medium: medium.into_string(),
    }))
}
