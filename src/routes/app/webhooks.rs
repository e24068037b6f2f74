//! Admin pages for webhooks: the endpoints and their state, one endpoint's delivery log and
//! settings, re-enabling a failing endpoint and sending a test event. The signing secret is
//! shown to admins on the endpoint's page (receivers need it; it cannot be recovered otherwise).

use super::{Admin, UiError, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::webhook::{EventSet, EventType, Secret};
use crate::routes::webhooks::{checked_url, queue_test};
use crate::state::AppState;
use crate::store::{EndpointChange, EndpointRecord};
use crate::web::pages::{FieldErrors, PageOrRedirect, Shown};
use crate::web::webhook_pages::{EventChoice, WebhookPage, WebhooksPage};
use actix_web::http::StatusCode;
use actix_web::{Either, HttpRequest, HttpResponse, Responder, web};
use serde::Deserialize;

/// Deliveries a page of the log shows.
const LOG_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
struct EndpointForm {
    csrf: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

fn read_form(body: &[u8]) -> Result<EndpointForm, UiError> {
    // serde_html_form, unlike actix's `Form`, gathers the repeated `events` checkboxes.
    serde_html_form::from_bytes(body).map_err(|err| UiError::BadForm(format!("the form could not be read: {err}")))
}

/// The address and events of a form, or the errors to show beside its fields.
async fn checked(state: &AppState, form: &EndpointForm) -> Result<(String, EventSet), FieldErrors> {
    let mut errors = FieldErrors::default();
    let url = checked_url(state, &form.url)
        .await
        .map_err(|err| errors.add("url", err))
        .ok();
    let events = EventSet::parse(&form.events)
        .map_err(|err| errors.add("events", err))
        .ok();
    match (url, events) {
        (Some(url), Some(events)) => Ok((url.as_str().to_owned(), events)),
        _ => Err(errors),
    }
}

pub async fn index(state: web::Data<AppState>, Admin(viewer): Admin) -> Result<Shown<WebhooksPage>, UiError> {
    let page = WebhooksPage {
        nav: viewer.nav("webhooks"),
        endpoints: state.store.list_endpoints().await?,
        url: String::new(),
        choices: EventChoice::all(|_| true),
        errors: FieldErrors::default(),
    };
    Ok(page.customize())
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    body: web::Bytes,
) -> Result<PageOrRedirect<WebhooksPage>, UiError> {
    let form = read_form(&body)?;
    check_form(&req, &viewer, form.csrf.as_deref())?;
    match checked(&state, &form).await {
        Ok((url, events)) => {
            let secret = Secret::generate();
            let endpoint = state
                .store
                .create_endpoint(&url, secret.as_str(), &events, now_ms())
                .await?;
            Ok(Either::Right(see_other(&format!(
                "/app/webhooks/{}?created=1",
                endpoint.id
            ))))
        }
        Err(errors) => {
            let page = WebhooksPage {
                nav: viewer.nav("webhooks"),
                endpoints: state.store.list_endpoints().await?,
                choices: EventChoice::all(|e| form.events.iter().any(|n| n == e.as_str())),
                url: form.url,
                errors,
            };
            Ok(Either::Left(
                page.customize().with_status(StatusCode::UNPROCESSABLE_ENTITY),
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct LogQuery {
    after: Option<i64>,
    created: Option<u8>,
    tested: Option<u8>,
}

pub async fn show(
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    id: web::Path<i64>,
    query: web::Query<LogQuery>,
) -> Result<Shown<WebhookPage>, UiError> {
    let endpoint = state.store.endpoint(*id).await?.ok_or(UiError::NotFound)?;
    let notice = match (query.created, query.tested) {
        (Some(_), _) => Some("Endpoint added. Copy its signing secret below into your receiver.".to_owned()),
        (_, Some(_)) => Some("A test event is on its way, behind anything already waiting.".to_owned()),
        _ => None,
    };
    let mut page = endpoint_page(&state, &viewer, endpoint, query.after).await?;
    page.notice = notice;
    if query.created.is_some() {
        // Open, so the new secret is in view.
        page.secret_open = true;
    }
    Ok(page.customize())
}

async fn endpoint_page(
    state: &AppState,
    viewer: &super::Viewer,
    endpoint: EndpointRecord,
    after: Option<i64>,
) -> Result<WebhookPage, UiError> {
    let mut deliveries = state.store.deliveries(endpoint.id, after, LOG_PAGE + 1).await?;
    let older = match deliveries.len() as i64 > LOG_PAGE {
        true => {
            deliveries.truncate(LOG_PAGE as usize);
            deliveries.last().map(|d| d.id)
        }
        false => None,
    };
    let events = endpoint.event_set();
    Ok(WebhookPage {
        nav: viewer.nav("webhooks"),
        url: endpoint.url.clone(),
        choices: EventChoice::all(|e: EventType| events.contains(e)),
        endpoint,
        errors: FieldErrors::default(),
        notice: None,
        secret_open: false,
        deliveries,
        older,
    })
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<PageOrRedirect<WebhookPage>, UiError> {
    let form = read_form(&body)?;
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let endpoint = state.store.endpoint(*id).await?.ok_or(UiError::NotFound)?;
    match checked(&state, &form).await {
        Ok((url, events)) => {
            let change = EndpointChange {
                url: Some(url),
                events: Some(events),
                disabled: None,
            };
            state
                .store
                .update_endpoint(*id, &change, now_ms())
                .await?
                .ok_or(UiError::NotFound)?;
            Ok(Either::Right(see_other(&format!("/app/webhooks/{}", *id))))
        }
        Err(errors) => {
            let mut page = endpoint_page(&state, &viewer, endpoint, None).await?;
            page.choices = EventChoice::all(|e| form.events.iter().any(|n| n == e.as_str()));
            page.url = form.url;
            page.errors = errors;
            Ok(Either::Left(
                page.customize().with_status(StatusCode::UNPROCESSABLE_ENTITY),
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    csrf: Option<String>,
    on: bool,
}

/// Switches an endpoint off, or on again, which also re-enables a failing one.
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    id: web::Path<i64>,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let change = EndpointChange {
        disabled: Some(!form.on),
        ..EndpointChange::default()
    };
    state
        .store
        .update_endpoint(*id, &change, now_ms())
        .await?
        .ok_or(UiError::NotFound)?;
    Ok(see_other(&format!("/app/webhooks/{}", *id)))
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
}

pub async fn send_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    queue_test(&state, *id).await.map_err(|_| UiError::NotFound)?;
    Ok(see_other(&format!("/app/webhooks/{}?tested=1", *id)))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    if !state.store.delete_endpoint(*id).await? {
        return Err(UiError::NotFound);
    }
    Ok(see_other("/app/webhooks"))
}
