//! `Authorization: Bearer <key>` for the JSON API.

use crate::domain::api_key::PresentedKey;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

/// Proof that the request carried an active API key. Handlers that take it are API-key only.
pub struct ApiKeyAuth;

impl FromRequest for ApiKeyAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|token| PresentedKey::parse(token.trim()));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(key), Some(state)) = (presented, state) else {
                return Err(ApiError::Unauthorized);
            };
            match state.api_keys.is_active(state.store.as_ref(), &key.hash()).await? {
                true => Ok(ApiKeyAuth),
                false => Err(ApiError::Unauthorized),
            }
        })
    }
}
