//! A link's lifecycle in its edit form: the click limit, the fallback, the password and the UTM
//! tags. A field the form does not send leaves its setting as it is.

use super::UiError;
use crate::accounts::password;
use crate::domain::lifecycle::{ClickLimit, Fallback, LinkPassword};
use crate::domain::utm::{UtmOverride, UtmOverrides, UtmTag};
use crate::state::AppState;
use crate::store::LinkLifecycle;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct LifecycleForm {
    /// Human clicks the short links take together; empty for no limit.
    max_clicks: Option<String>,
    /// Where ended short links send people; empty for the "gone" page.
    fallback_url: Option<String>,
    /// A new password; empty keeps the one there is (it is never shown).
    password: Option<String>,
    /// "1" removes the password.
    remove_password: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    /// "1" leaves the tag out of the redirect.
    omit_utm_source: Option<String>,
    omit_utm_medium: Option<String>,
    omit_utm_campaign: Option<String>,
    omit_utm_term: Option<String>,
    omit_utm_content: Option<String>,
}

fn bad(field: &str, message: impl std::fmt::Display) -> UiError {
    UiError::BadForm(format!("{field}: {message}"))
}

impl LifecycleForm {
    /// The lifecycle to store, if the form changes it.
    pub async fn parse(self, current: &LinkLifecycle, state: &AppState) -> Result<Option<LinkLifecycle>, UiError> {
        let mut next = current.clone();
        if let Some(raw) = &self.max_clicks {
            next.max_clicks = match raw.trim() {
                "" => None,
                raw => Some(ClickLimit::parse(raw).map_err(|e| bad("stops after", e))?.get()),
            };
        }
        if let Some(raw) = &self.fallback_url {
            next.fallback_url = match raw.trim() {
                "" => None,
                raw => Some(
                    Fallback::parse(raw, &state.base_url)
                        .map_err(|e| bad("fallback", e))?
                        .as_str()
                        .to_owned(),
                ),
            };
        }
        next.set_utm_overrides(&self.utm(current.utm_overrides())?);
        if self.remove_password.as_deref() == Some("1") {
            next.password_hash = None;
        } else if let Some(raw) = self.password.as_deref().filter(|p| !p.is_empty()) {
            let password = LinkPassword::parse(raw).map_err(|e| bad("password", e))?;
            let hash = state
                .accounts
                .passwords
                .run(move || password::hash_secret(password.expose()))
                .await?
                .map_err(UiError::internal)?;
            next.password_hash = Some(hash);
        }
        let changed = next.max_clicks != current.max_clicks
            || next.fallback_url != current.fallback_url
            || next.password_hash != current.password_hash
            || next.utm_overrides() != current.utm_overrides();
        Ok(changed.then_some(next))
    }

    fn utm(&self, mut overrides: UtmOverrides) -> Result<UtmOverrides, UiError> {
        let fields = [
            (UtmTag::Source, &self.utm_source, &self.omit_utm_source),
            (UtmTag::Medium, &self.utm_medium, &self.omit_utm_medium),
            (UtmTag::Campaign, &self.utm_campaign, &self.omit_utm_campaign),
            (UtmTag::Term, &self.utm_term, &self.omit_utm_term),
            (UtmTag::Content, &self.utm_content, &self.omit_utm_content),
        ];
        for (tag, value, omit) in fields {
            if value.is_none() && omit.is_none() {
                continue;
            }
            let setting = match (omit.as_deref(), value.as_deref().map(str::trim)) {
                (Some("1"), _) => Some(UtmOverride::Omit),
                (_, None | Some("")) => None,
                (_, Some(raw)) => Some(UtmOverride::value(raw).map_err(|e| bad(tag.key(), e))?),
            };
            overrides.set(tag, setting);
        }
        Ok(overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read as the edit form reads it: `web::Form`, where an empty field is `Some("")`.
    async fn form(body: &'static str) -> LifecycleForm {
        use actix_web::FromRequest;
        let (req, mut payload) = actix_web::test::TestRequest::post()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body)
            .to_http_parts();
        actix_web::web::Form::<LifecycleForm>::from_request(&req, &mut payload)
            .await
            .expect("a form")
            .into_inner()
    }

    #[actix_web::test]
    async fn utm_fields_set_omit_or_give_back_each_tag_and_absent_ones_stay() {
        let mut current = UtmOverrides::default();
        current.set(UtmTag::Term, UtmOverride::value("shoes").ok());
        current.set(UtmTag::Content, Some(UtmOverride::Omit));
        let changed = form("utm_source=Partner&utm_medium=&omit_utm_medium=1&utm_content=")
            .await
            .utm(current)
            .unwrap();
        assert_eq!(changed.get(UtmTag::Source), UtmOverride::value("Partner").ok().as_ref());
        assert_eq!(changed.get(UtmTag::Medium), Some(&UtmOverride::Omit));
        assert_eq!(changed.get(UtmTag::Campaign), None);
        assert_eq!(
            changed.get(UtmTag::Term),
            UtmOverride::value("shoes").ok().as_ref(),
            "not in the form: kept"
        );
        assert_eq!(changed.get(UtmTag::Content), None, "emptied: sharetrail's own again");
        assert!(form("utm_term=a%07b").await.utm(UtmOverrides::default()).is_err());
    }
}
