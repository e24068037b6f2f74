//! `/api/v1/channels`: custom channels a marketer defines (`newsletter`, `podcast`).

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::now_ms;
use crate::domain::channel::{Channel, Medium};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct CreateChannel {
    /// Lower-case letters, digits, `-` and `_`; not a built-in channel's name.
    #[schema(example = "newsletter")]
    name: String,
    /// The `utm_medium` its redirects carry; `referral` when not given.
    medium: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ChannelDocument {
    name: String,
    medium: String,
}

/// `POST /api/v1/channels`: a custom channel (`newsletter`, `podcast`), usable at once.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = CreateChannel,
    responses(
        (status = 201, description = "The channel", body = ChannelDocument),
        (status = 409, description = "That channel exists already", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateChannel>,
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
