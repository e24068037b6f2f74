//! The page a password-protected short link shows instead of redirecting: a form, and nothing
//! about where the link goes.

use askama::Template;

#[derive(Template)]
#[template(path = "link_password.html")]
pub struct LinkPasswordPage {
    /// Why the last password was not taken, if one was given.
    pub error: Option<String>,
}
