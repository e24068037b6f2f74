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
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::invalid("body", "the body must be a JSON object").into());
            }
            T::deserialize(value)
                .map(JsonBody)
                .map_err(|e| ApiError::invalid("body", e).into())
        })
    }
}
