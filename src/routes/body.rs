//! JSON bodies read by hand where the content type cannot be required: the snippet posts JSON as
//! `text/plain` so that browsers send it without a CORS preflight.

use super::MAX_JSON_BODY;
use crate::error::ApiError;
use actix_web::web;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

pub async fn read_json<T: DeserializeOwned>(mut payload: web::Payload) -> Result<T, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::malformed("the body could not be read"))?;
        if body.len() + chunk.len() > MAX_JSON_BODY {
            return Err(ApiError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            ApiError::Invalid {
                field: "body",
                message: e.to_string(),
            }
        } else {
            ApiError::malformed(format!("the body is not valid JSON: {e}"))
        }
    })
}
