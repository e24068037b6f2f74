//! The one error type the HTTP layer answers with.
//!
//! Each variant knows its status and its public `code`. Internal failures are logged with their
//! whole cause chain and reach the client as an opaque 500.

use crate::telemetry::cause_chain;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Malformed { message: String },
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// A route that exists, asked with a method it does not answer; `allow` lists those it does.
    #[error("this address answers {allow} only")]
    MethodNotAllowed { allow: String },
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    #[error("the request body is too large")]
    TooLarge,
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Every error the API answers: PRODUCT.md's one shape.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    /// Stable and machine-readable: `malformed_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `conflict`, `payload_too_large`, `invalid_value`, `rate_limited`,
    /// `unavailable` or `internal_error`.
    #[schema(example = "invalid_value")]
    code: &'static str,
    /// For people: what was wrong and how to put it right.
    message: String,
    /// The request field at fault, for `invalid_value` and `conflict`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

impl ApiError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        ApiError::Invalid {
            field,
            message: message.to_string(),
        }
    }

    pub fn malformed(message: impl ToString) -> Self {
        ApiError::Malformed {
            message: message.to_string(),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed { .. } => "malformed_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::TooLarge => "payload_too_large",
            ApiError::Invalid { .. } => "invalid_value",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::Conflict { field, .. } | ApiError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(err) = self {
            tracing::error!(error = %cause_chain(err.as_ref()), "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        };
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if let ApiError::Unavailable = self {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.json(body)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match err {
            S::CodeTaken => ApiError::Conflict {
                field: "slug",
                message: "that slug is already taken".into(),
            },
            S::ChannelExists => ApiError::Conflict {
                field: "name",
                message: "that channel already exists".into(),
            },
            S::EmailTaken => ApiError::Conflict {
                field: "email",
                message: "an account with that e-mail already exists".into(),
            },
            S::CampaignExists => ApiError::Conflict {
                field: "name",
                message: "a campaign with that name already exists".into(),
            },
            S::LinkNotFound => ApiError::invalid("link_id", "no link has that id"),
            S::Database(e) => ApiError::internal(e),
            S::Sqlite(e) => ApiError::internal(e),
            S::Migrate(e) => ApiError::internal(e),
            S::Stalled => ApiError::internal(err),
            S::TimedOut => ApiError::Unavailable,
        }
    }
}

impl From<crate::mint::MintError> for ApiError {
    fn from(err: crate::mint::MintError) -> Self {
        use crate::store::MintRefusal as R;
        match err {
            crate::mint::MintError::Unavailable => ApiError::Unavailable,
            crate::mint::MintError::Refused(refusal) => match refusal {
                R::LinkNotFound => ApiError::invalid("link_id", "no link has that id"),
                R::ParentNotFound => ApiError::invalid("parent", "no share has that code"),
                R::ParentOnOtherLink => ApiError::invalid("parent", "the parent share belongs to another link"),
                R::TooDeep => ApiError::invalid(
                    "parent",
                    format!(
                        "the parent share is {} levels deep, as deep as a cascade may go",
                        crate::domain::cascade::MAX_DEPTH
                    ),
                ),
                R::UnknownChannel => ApiError::invalid("channel", "unknown channel: define a custom channel first"),
                R::CodeTaken => ApiError::Conflict {
                    field: "slug",
                    message: "that slug is already taken".into(),
                },
                R::NotReserved => ApiError::NotFound,
            },
        }
    }
}
