//! JSON request bodies that must be objects.
//!
//! serde reads a struct from a JSON array too, field by field in order, so `[null, null]`
//! would pass as a body that sets nothing: every API body goes through `JsonBody`, which
//! refuses anything but an object before the fields are read. Limits, content types and the
//! errors of unreadable JSON stay those of `web::Json` (see `json_config`).

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::future::Future;
use std::pin::Pin;

pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read as raw JSON (checked, not built into a tree), so the shape test costs one byte
        // and the fields are read once, straight into `T`.
        let json = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = json.await?.into_inner();
            if !raw.get().trim_start().starts_with('{') {
                return Err(ApiError::invalid("body", "the body must be a JSON object").into());
            }
            serde_json::from_str(raw.get())
                .map(JsonBody)
                .map_err(|e| ApiError::invalid("body", e).into())
        })
    }
}
