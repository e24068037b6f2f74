//! The admins' import page: upload an export, read the preview of what importing it would do,
//! then confirm. The upload is kept in the database between the two steps, so the confirmation
//! may reach any instance.

use super::{Admin, UiError, Viewer, check_form};
use crate::accounts::session::random_token;
use crate::clock::now_ms;
use crate::domain::import::ImportFormat;
use crate::domain::import::plan::Outcome;
use crate::importer::{ImportError, import};
use crate::state::AppState;
use crate::store::imports::ImportUpload;
use crate::web::import::{FormatChoice, ImportPage, ReportView};
use crate::web::pages::Shown;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, Responder, web};
use futures_util::TryStreamExt;
use serde::Deserialize;

/// The largest export the page takes: tens of thousands of links.
pub const MAX_UPLOAD: usize = 8 * 1024 * 1024;
/// The most read of a body before giving up on it: a little more than the largest file, so a
/// browser that sent a too-large one still gets the answer that says so.
const MAX_BODY: usize = MAX_UPLOAD + MAX_UPLOAD / 2;
/// The form's small fields: the CSRF token and the format.
const MAX_FIELD: usize = 1024;

pub async fn form(Admin(viewer): Admin) -> ImportPage {
    page(&viewer, None)
}

fn page(viewer: &Viewer, format: Option<ImportFormat>) -> ImportPage {
    ImportPage {
        nav: viewer.nav("import"),
        formats: FormatChoice::all(format),
        error: None,
        file_name: String::new(),
        report: None,
        confirm_token: None,
        max_upload: format!("{} MB", MAX_UPLOAD / (1024 * 1024)),
    }
}

fn refused(viewer: &Viewer, format: Option<ImportFormat>, status: StatusCode, message: String) -> Shown<ImportPage> {
    let mut page = page(viewer, format);
    page.error = Some(message);
    page.customize().with_status(status)
}

/// The upload form's fields, as far as they were read.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    format: Option<String>,
    file_name: String,
    file: Vec<u8>,
    too_large: bool,
}

/// `POST /app/import`: reads the upload and shows what importing it would do, writing nothing
/// but the upload itself (kept for the confirmation).
pub async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    payload: Multipart,
) -> Result<Shown<ImportPage>, UiError> {
    let upload = read_upload(payload).await?;
    check_form(&req, &viewer, upload.csrf.as_deref())?;
    let format = upload.format.as_deref().and_then(ImportFormat::parse);
    if upload.too_large {
        let message = format!(
            "The file is larger than {} MB. Split it into smaller files and import them one after the other.",
            MAX_UPLOAD / (1024 * 1024)
        );
        return Ok(refused(&viewer, format, StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    let Some(format) = format else {
        let message = "Choose which tool the file was exported from.".to_owned();
        return Ok(refused(&viewer, None, StatusCode::UNPROCESSABLE_ENTITY, message));
    };
    if upload.file.is_empty() {
        let message = "Choose a file to import (the one chosen was empty).".to_owned();
        return Ok(refused(
            &viewer,
            Some(format),
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        ));
    }
    let now = now_ms();
    let run = match import(state.store.as_ref(), format, &upload.file, true, now).await {
        Ok(run) => run,
        Err(ImportError::File(err)) => {
            let message = format!(
                "{} cannot be imported as a {} export: {err}.",
                upload.file_name,
                format.tool_name()
            );
            return Ok(refused(
                &viewer,
                Some(format),
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
            ));
        }
        Err(ImportError::Store(err)) => return Err(err.into()),
    };
    let confirm_token = match run.report.count(Outcome::Created) {
        0 => None,
        _ => {
            let kept = ImportUpload {
                token: random_token(),
                user_id: viewer.user_id,
                format: format.as_str().to_owned(),
                file_name: upload.file_name.clone(),
                // `import` read it as UTF-8 text already.
                body: String::from_utf8_lossy(&upload.file).into_owned(),
                created_at: now,
            };
            state.store.save_import_upload(&kept).await?;
            Some(kept.token)
        }
    };
    let mut page = page(&viewer, Some(format));
    page.file_name = upload.file_name;
    page.report = Some(ReportView::of(&run.report));
    page.confirm_token = confirm_token;
    Ok(page.customize())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: Option<String>,
    upload: String,
}

/// `POST /app/import/confirm`: imports the upload a preview kept, once.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    form: web::Form<ConfirmForm>,
) -> Result<Shown<ImportPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let now = now_ms();
    let Some(upload) = state.store.import_upload(&form.upload, viewer.user_id, now).await? else {
        let message =
            "This preview was imported already, or has expired. Upload the file again to see what is left to import."
                .to_owned();
        return Ok(refused(&viewer, None, StatusCode::UNPROCESSABLE_ENTITY, message));
    };
    let format = ImportFormat::parse(&upload.format).ok_or_else(|| {
        UiError::internal(anyhow::anyhow!(
            "a kept upload has the unknown format {:?}",
            upload.format
        ))
    })?;
    let run = match import(state.store.as_ref(), format, upload.body.as_bytes(), false, now).await {
        Ok(run) => run,
        Err(ImportError::File(err)) => return Err(UiError::internal(err)),
        Err(ImportError::Store(err)) => return Err(err.into()),
    };
    state.store.delete_import_upload(&upload.token).await?;
    if !run.created.is_empty() {
        // The new codes were answered 404 here and elsewhere until now, maybe cached as such.
        state.invalidate(Some(&run.created)).await;
    }
    let mut page = page(&viewer, Some(format));
    page.file_name = upload.file_name;
    page.report = Some(ReportView::of(&run.report));
    Ok(page.customize())
}

/// Reads the form: small fields bounded, the file up to `MAX_UPLOAD` (beyond it, the rest is
/// read and dropped, up to `MAX_BODY`, so the browser sees the answer rather than a reset).
async fn read_upload(mut payload: Multipart) -> Result<Upload, UiError> {
    let unreadable =
        |err: actix_multipart::MultipartError| UiError::BadForm(format!("the upload could not be read: {err}"));
    let mut upload = Upload::default();
    let mut read = 0;
    while let Some(mut field) = payload.try_next().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" { MAX_UPLOAD } else { MAX_FIELD };
        let mut data = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
            read += chunk.len();
            if read > MAX_BODY {
                return Err(UiError::BadForm(format!(
                    "the upload is far larger than the {} MB a file may have",
                    MAX_UPLOAD / (1024 * 1024)
                )));
            }
            over |= data.len() + chunk.len() > limit;
            if !over {
                data.extend_from_slice(&chunk);
            }
        }
        match name.as_str() {
            "csrf" if !over => upload.csrf = Some(String::from_utf8_lossy(&data).into_owned()),
            "format" if !over => upload.format = Some(String::from_utf8_lossy(&data).into_owned()),
            "file" => {
                upload.too_large = over;
                upload.file = data;
                upload.file_name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(|n| n.chars().take(200).collect())
                    .unwrap_or_else(|| "the file".to_owned());
            }
            _ => {}
        }
    }
    Ok(upload)
}
