//! The web UI's webhook pages: the endpoints with their state, and one endpoint's delivery log.

use crate::domain::webhook::EventType;
use crate::store::{DeliveryRecord, DeliveryStatus, EndpointRecord, EndpointStatus};
use crate::web::Nav;
use crate::web::pages::FieldErrors;
use crate::web::pages::filters;
use askama::Template;
use askama_web::WebTemplate;

/// An event type as a checkbox of the form.
pub struct EventChoice {
    pub name: &'static str,
    pub about: &'static str,
    pub checked: bool,
}

impl EventChoice {
    /// Every type an endpoint may receive, ticked where `checked` says.
    pub fn all(checked: impl Fn(EventType) -> bool) -> Vec<EventChoice> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .map(|event| EventChoice {
                name: event.as_str(),
                about: match event {
                    EventType::ShareCreated => "a share was sent (never a code only reserved)",
                    EventType::Click => "people's clicks, gathered: at most one request a second",
                    EventType::DepthReached => "a link's cascade reached a new deepest level",
                    EventType::ConversionCreated => "a visitor converted",
                    EventType::LinkDisabled => "a link was switched off",
                    EventType::Test => "",
                },
                checked: checked(event),
            })
            .collect()
    }
}

/// What a person sees of an endpoint's state.
pub fn status_label(endpoint: &EndpointRecord) -> &'static str {
    match endpoint.status() {
        EndpointStatus::Healthy => "healthy",
        EndpointStatus::Failing => "failing",
        EndpointStatus::Disabled => "disabled",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "app/webhooks.html")]
pub struct WebhooksPage {
    pub nav: Nav,
    pub endpoints: Vec<EndpointRecord>,
    pub url: String,
    pub choices: Vec<EventChoice>,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/webhook.html")]
pub struct WebhookPage {
    pub nav: Nav,
    pub endpoint: EndpointRecord,
    pub url: String,
    pub choices: Vec<EventChoice>,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    /// The secret's section starts open (right after the endpoint was added).
    pub secret_open: bool,
    pub deliveries: Vec<DeliveryRecord>,
    /// The cursor of the older deliveries, if any.
    pub older: Option<i64>,
}

impl WebhookPage {
    pub fn delivery_status(&self, delivery: &DeliveryRecord) -> &'static str {
        match (delivery.status(), self.endpoint.status()) {
            // A retry pending on an endpoint that is switched off waits for it to be switched on.
            (DeliveryStatus::Retrying | DeliveryStatus::Pending, EndpointStatus::Disabled) => "waiting (endpoint off)",
            (DeliveryStatus::Failed, _) => "failed (out of retries)",
            (status, _) => status.as_str(),
        }
    }
}
