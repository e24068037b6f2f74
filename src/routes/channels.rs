//! `/api/v1/channels`: custom channels a marketer defines (`newsletter`, `podcast`).

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::now_ms;
use crate::domain::channel::{BuiltinChannel, Channel, Medium};
use crate::domain::utm::UtmTags;
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
    /// The `utm_medium` its redirects carry.
    medium: String,
}

/// A channel in the list: built-in ones with the name the web UI shows.
#[derive(Serialize, ToSchema)]
struct ChannelListItem {
    name: String,
    /// `utm_medium` of its redirects; for a copied link the medium depends on the app it was
    /// pasted into, when that is known.
    medium: String,
    /// What people call it: `WhatsApp`, `Address bar`; a custom channel's own name.
    display_name: String,
    builtin: bool,
    /// Counted as dark social: shared privately, invisible to web analytics.
    dark: bool,
}

/// Every channel a share can be minted for.
#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    channels: Vec<ChannelListItem>,
}

/// `GET /api/v1/channels`: the built-in channels, then the custom ones.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, description = "Every channel", body = ChannelList)))]
pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let builtin = BuiltinChannel::ALL.into_iter().map(|c| ChannelListItem {
        name: c.as_str().to_owned(),
        medium: UtmTags::for_channel(&Channel::Builtin(c), None, None).medium,
        display_name: c.display_name().to_owned(),
        builtin: true,
        dark: c.is_dark(),
    });
    let custom = state
        .store
        .list_custom_channels()
        .await?
        .into_iter()
        .map(|c| ChannelListItem {
            dark: Channel::Custom(c.name.clone()).is_dark(Some(&c.utm_medium)),
            display_name: c.name.clone(),
            name: c.name,
            medium: c.utm_medium,
            builtin: false,
        });
    Ok(HttpResponse::Ok().json(ChannelList {
        channels: builtin.chain(custom).collect(),
    }))
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
