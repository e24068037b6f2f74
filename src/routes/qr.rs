//! `/qr/{code}.svg` and `/qr/{code}.png`: the short link as a QR code.

use crate::domain::code::Code;
use crate::error::ApiError;
use crate::lookup::Cached;
use crate::render::qr::{QrOptions, QrParams};
use crate::render::{QrFormat, RenderError};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

pub async fn show(
    state: web::Data<AppState>,
    file: web::Path<String>,
    params: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    let (raw_code, format) = match file.rsplit_once('.') {
        Some((code, "svg")) => (code, QrFormat::Svg),
        Some((code, "png")) => (code, QrFormat::Png),
        _ => return Err(ApiError::NotFound),
    };
    let code = Code::parse(raw_code).ok_or(ApiError::NotFound)?;
    // Only codes that exist get a picture: a QR code of a dead link is a misprint waiting to happen.
    let live = match state.lookup.peek(&code).await?.as_ref() {
        Cached::Live(share) => share.expires_at.is_none_or(|at| at > crate::clock::now_ms()),
        Cached::Gone { .. } | Cached::Missing => false,
    };
    if !live {
        return Err(ApiError::NotFound);
    }
    let options = QrOptions::from_params(&params).map_err(|e| ApiError::invalid(e.field(), e.message()))?;
    let url = state.short_url(code.as_str());
    let content_type = match format {
        QrFormat::Svg => "image/svg+xml",
        QrFormat::Png => "image/png",
    };
    let body = match state.qr.render(&url, format, options).await {
        Ok(picture) => picture,
        Err(RenderError::Busy) => return Err(ApiError::Unavailable),
        Err(RenderError::Failed(err)) => return Err(ApiError::internal(err)),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // The picture of a code never changes; a day of caching spares re-rendering print sheets.
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body.to_vec()))
}
