//! Structured logs with `tracing`, and the span each HTTP request is answered in.

use crate::config::{LogFormat, LogSettings};
use crate::metrics::method_label;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;
use tracing::Span;
use tracing::field::{Empty, Value};
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

/// Installs the subscriber: `settings.filter` says what is logged, `settings.log_format` how.
pub fn init(settings: &LogSettings) {
    // Settings checked the filter when they were parsed.
    let filter = EnvFilter::new(&settings.filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Ignore the error: a test binary may already have installed a subscriber.
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `outer: middle: root`, so one log line says everything that went wrong.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    use std::fmt::Write;
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

/// The target of the line logged at debug level as each request is answered: the access log,
/// off unless asked for (`SHARETRAIL_LOG=info,sharetrail::requests=debug`).
pub const REQUESTS: &str = "sharetrail::requests";

/// Returned on server errors (5xx), the responses the log may say more about: the id every
/// line logged while answering the request carries.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The span each request is answered in, for `tracing_actix_web::TracingLogger`: its id and
/// method from the start; its route, status and latency from `record_answer` once answered.
/// Whatever is logged while answering carries them, the error lines of a 500 included.
///
/// It costs what the middleware costs (an id, the span and its fields, no lookups): the route is
/// the pattern the front door already knows, never the path, so short codes and ids cannot
/// multiply its values.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!(
            "request",
            request_id = id.map(tracing::field::display),
            method = %method_label(request.method()),
            route = Empty,
            status = Empty,
            latency_us = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        // A response is recorded by the front door; an error no response was made for, here.
        if let Err(err) = outcome {
            span.record("status", err.as_response_error().status_code().as_u16());
        }
        tracing::debug!(target: REQUESTS, "answered");
    }
}

/// Records a request's route (its pattern), status and latency on its span, in one go: each
/// record reformats the span's fields.
pub fn record_answer(span: &Span, route: &str, status: StatusCode, latency: Duration) {
    let Some(metadata) = span.metadata() else {
        return;
    };
    let fields = metadata.fields();
    let (Some(route_field), Some(status_field), Some(latency_field)) = (
        fields.field("route"),
        fields.field("status"),
        fields.field("latency_us"),
    ) else {
        return;
    };
    let route = tracing::field::display(route);
    let status = status.as_u16();
    let latency = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    span.record_all(&fields.value_set(&[
        (&route_field, Some(&route as &dyn Value)),
        (&status_field, Some(&status as &dyn Value)),
        (&latency_field, Some(&latency as &dyn Value)),
    ]));
}

/// Adds `x-request-id` to a server error's headers, so whoever got it can name the request.
pub fn tag_server_error(request: &impl HttpMessage, status: StatusCode, headers: &mut HeaderMap) {
    if !status.is_server_error() {
        return;
    }
    let id = request.extensions().get::<RequestId>().copied();
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}
