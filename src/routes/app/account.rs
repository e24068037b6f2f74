//! First-run setup, signing in and out, and the people who may.

use super::{
    Admin, UiError, Viewer, anonymous_csrf, check_anonymous_form, check_form, retry_after, safe_next, see_other,
};
use crate::accounts::{SessionToken, password};
use crate::clock::now_ms;
use crate::domain::account::{Email, NewPassword, PersonName, Role};
use crate::state::AppState;
use crate::store::{NewSession, NewUser, StoreError};
use crate::web::NewUserValues;
use crate::web::pages::{FieldErrors, LoginPage, PageOrRedirect, SetupPage, Shown, UsersPage};
use actix_web::http::{StatusCode, header};
use actix_web::{Either, HttpRequest, HttpResponse, Responder, web};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

pub async fn setup_form(
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> Result<Shown<SetupPage>, UiError> {
    let token = query.into_inner().token.unwrap_or_default();
    if !state.accounts.setup_token_matches(&token) {
        return Err(setup_closed());
    }
    let (csrf, cookie) = anonymous_csrf(&state);
    let page = SetupPage {
        csrf,
        token,
        name: String::new(),
        email: String::new(),
        errors: FieldErrors::default(),
    };
    Ok(page.customize().add_cookie(&cookie))
}

fn setup_closed() -> UiError {
    UiError::Forbidden(
        "This setup link is not valid: setup is finished, or the server restarted and printed a new link. \
         Sign in, or use the newest link in the server's log."
            .into(),
    )
}

#[derive(Deserialize)]
pub struct SetupForm {
    csrf: Option<String>,
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> Result<PageOrRedirect<SetupPage>, UiError> {
    let form = form.into_inner();
    check_anonymous_form(&req, form.csrf.as_deref())?;
    if !state.accounts.setup_token_matches(&form.token) {
        return Err(setup_closed());
    }
    let mut errors = FieldErrors::default();
    let name = PersonName::parse(&form.name).map_err(|e| errors.add("name", e)).ok();
    let email = Email::parse(&form.email).map_err(|e| errors.add("email", e)).ok();
    let new_password = NewPassword::parse(&form.password)
        .map_err(|e| errors.add("password", e))
        .ok();
    if form.password != form.password_again {
        errors.add("password_again", "the two passwords differ");
    }
    let (Some(name), Some(email), Some(new_password), true) = (name, email, new_password, errors.is_empty()) else {
        let (csrf, cookie) = anonymous_csrf(&state);
        let page = SetupPage {
            csrf,
            token: form.token,
            name: form.name,
            email: form.email,
            errors,
        };
        return Ok(Either::Left(
            page.customize()
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .add_cookie(&cookie),
        ));
    };
    let password_hash = hash_password(&state, new_password).await?;
    let user = NewUser {
        email,
        name,
        role: Role::Admin,
        password_hash,
    };
    let Some(created) = state.store.create_first_user(&user, now_ms()).await? else {
        state.accounts.close_setup();
        return Err(setup_closed());
    };
    state.accounts.close_setup();
    tracing::info!(user = created.id, "first admin created; the setup link no longer works");
    start_session(&state, created.id, "/app/campaigns")
        .await
        .map(Either::Right)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<Shown<LoginPage>, UiError> {
    let (csrf, cookie) = anonymous_csrf(&state);
    let page = LoginPage {
        csrf,
        next: safe_next(query.next.as_deref()),
        email: String::new(),
        error: None,
        setup_pending: state.accounts.setup_is_open(),
    };
    Ok(page.customize().add_cookie(&cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<PageOrRedirect<LoginPage>, UiError> {
    let form = form.into_inner();
    check_anonymous_form(&req, form.csrf.as_deref())?;
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_lowercase();
    let refuse = |status: StatusCode, message: String| {
        let (csrf, cookie) = anonymous_csrf(&state);
        let page = LoginPage {
            csrf,
            next: next.clone(),
            email: form.email.clone(),
            error: Some(message),
            setup_pending: false,
        };
        page.customize().with_status(status).add_cookie(&cookie)
    };
    let ip = crate::domain::client::rate_limit_key(crate::routes::client::client_ip(&req, &state.trusted_proxies));
    if let Err(wait) = state.accounts.throttle.check(&email, ip) {
        let secs = retry_after(wait);
        let page = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts. Wait {secs} seconds, then try again."),
        );
        return Ok(Either::Left(page.insert_header((header::RETRY_AFTER, secs))));
    }
    let credentials = state.store.user_credentials(&email).await?;
    let attempt = form.password.clone();
    let user_id = match credentials {
        Some(c) if c.disabled_at.is_none() => {
            let stored = c.password_hash.clone();
            let matches = state
                .accounts
                .passwords
                .run(move || password::verify(&stored, &attempt))
                .await?;
            matches.then_some(c.id)
        }
        // Same work whether or not the account exists.
        _ => {
            state
                .accounts
                .passwords
                .run(move || password::verify_against_nobody(&attempt))
                .await?;
            None
        }
    };
    let Some(user_id) = user_id else {
        return Ok(Either::Left(refuse(
            StatusCode::UNAUTHORIZED,
            "Wrong e-mail or password.".into(),
        )));
    };
    // A session planted before sign-in is not carried over: a new token every time.
    if let Some(old) = req
        .cookie(state.accounts.policy.cookie_name())
        .and_then(|c| SessionToken::from_cookie(c.value()))
    {
        state.store.delete_session(&old.hash()).await?;
    }
    start_session(&state, user_id, &next).await.map(Either::Right)
}

async fn start_session(state: &AppState, user_id: i64, next: &str) -> Result<HttpResponse, UiError> {
    let token = SessionToken::generate();
    state
        .store
        .create_session(&NewSession {
            token_hash: token.hash(),
            user_id,
            csrf_token: crate::accounts::session::random_token(),
            now: now_ms(),
        })
        .await?;
    let mut response = see_other(next);
    response
        .add_cookie(&state.accounts.policy.session_cookie(&token))
        .map_err(UiError::internal)?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    state.store.delete_session(&viewer.token_hash).await?;
    let mut response = see_other("/app/login");
    response
        .add_cookie(&state.accounts.policy.removal_cookie())
        .map_err(UiError::internal)?;
    Ok(response)
}

pub async fn users(state: web::Data<AppState>, Admin(viewer): Admin) -> Result<Shown<UsersPage>, UiError> {
    users_page(
        &state,
        &viewer,
        NewUserValues::default(),
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    values: NewUserValues,
    errors: FieldErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Shown<UsersPage>, UiError> {
    let users = state.store.list_users().await?;
    let page = UsersPage {
        nav: viewer.nav("users"),
        me: viewer.user_id,
        users,
        values,
        errors,
        notice,
    };
    Ok(page.customize().with_status(status))
}

#[derive(Deserialize)]
pub struct CreateUserForm {
    csrf: Option<String>,
    #[serde(flatten)]
    values: NewUserValues,
    #[serde(default)]
    password: String,
}

pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    form: web::Form<CreateUserForm>,
) -> Result<Shown<UsersPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let mut errors = FieldErrors::default();
    let name = PersonName::parse(&form.values.name)
        .map_err(|e| errors.add("name", e))
        .ok();
    let email = Email::parse(&form.values.email)
        .map_err(|e| errors.add("email", e))
        .ok();
    let role = Role::parse(&form.values.role);
    if role.is_none() {
        errors.add("role", "choose admin or member");
    }
    let new_password = NewPassword::parse(&form.password)
        .map_err(|e| errors.add("password", e))
        .ok();
    let (Some(name), Some(email), Some(role), Some(new_password)) = (name, email, role, new_password) else {
        return users_page(
            &state,
            &viewer,
            form.values,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let password_hash = hash_password(&state, new_password).await?;
    let user = NewUser {
        email,
        name,
        role,
        password_hash,
    };
    match state.store.create_user(&user, now_ms()).await {
        Ok(created) => {
            let notice = format!("{} can now sign in as {}.", created.name, created.email);
            users_page(
                &state,
                &viewer,
                NewUserValues::default(),
                FieldErrors::default(),
                Some(notice),
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::EmailTaken) => {
            errors.add("email", "an account with that e-mail already exists");
            users_page(&state, &viewer, form.values, errors, None, StatusCode::CONFLICT).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct AccessForm {
    csrf: Option<String>,
    #[serde(default)]
    enabled: String,
}

pub async fn set_access(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    path: web::Path<i64>,
    form: web::Form<AccessForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let id = path.into_inner();
    if id == viewer.user_id {
        return Err(UiError::BadForm("You cannot switch off your own account.".into()));
    }
    let disabled_at = (form.enabled != "1").then(now_ms);
    if !state.store.set_user_disabled(id, disabled_at).await? {
        return Err(UiError::NotFound);
    }
    Ok(see_other("/app/users"))
}

/// Hashing takes tens of milliseconds of CPU: off the async workers, a core at a time.
async fn hash_password(state: &AppState, password: NewPassword) -> Result<String, UiError> {
    state
        .accounts
        .passwords
        .run(move || password::hash(&password))
        .await?
        .map_err(UiError::internal)
}
