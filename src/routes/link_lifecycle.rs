//! What `POST` and `PATCH /api/v1/links` take about a link's lifecycle — its click limit,
//! fallback, password and UTM overrides (its expiry is the link's own field) — and how a link
//! document shows its UTM overrides.

use crate::accounts::password;
use crate::domain::lifecycle::{ClickLimit, Fallback, LinkPassword};
use crate::domain::utm::{UtmOverride, UtmOverrides, UtmTag};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::LinkLifecycle;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A link's lifecycle fields in a request: each one left out stays as it is, each `null`
/// removes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LifecycleFields {
    /// Human clicks (1 or more) its short links take together before they behave as expired.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    max_clicks: Option<Option<i64>>,
    /// Where its ended (expired, used up, switched off) short links send people instead of 410.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    fallback_url: Option<Option<String>>,
    /// Write-only: a visitor must give it before the redirect. Never returned.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<Option<String>>,
    /// Per-tag UTM overrides, merged into the link's: `null` as a whole removes them all.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<UtmFields>)]
    utm: Option<Option<UtmFields>>,
}

/// UTM overrides in a request, tag by tag: a string sets the tag, `false` leaves it out of the
/// redirect, `null` gives it back to sharetrail's per-channel value, and a tag left out stays.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UtmFields {
    #[serde(default, alias = "utm_source", deserialize_with = "given")]
    #[schema(value_type = Option<UtmSetting>)]
    source: Option<Option<UtmSetting>>,
    #[serde(default, alias = "utm_medium", deserialize_with = "given")]
    #[schema(value_type = Option<UtmSetting>)]
    medium: Option<Option<UtmSetting>>,
    #[serde(default, alias = "utm_campaign", deserialize_with = "given")]
    #[schema(value_type = Option<UtmSetting>)]
    campaign: Option<Option<UtmSetting>>,
    #[serde(default, alias = "utm_term", deserialize_with = "given")]
    #[schema(value_type = Option<UtmSetting>)]
    term: Option<Option<UtmSetting>>,
    #[serde(default, alias = "utm_content", deserialize_with = "given")]
    #[schema(value_type = Option<UtmSetting>)]
    content: Option<Option<UtmSetting>>,
}

/// One UTM tag of a link: its value, or `false` for none at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum UtmSetting {
    Value(String),
    Omitted(bool),
}

/// The overridden UTM tags in a link document; a tag not listed gets sharetrail's own value.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct UtmDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<UtmSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    medium: Option<UtmSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign: Option<UtmSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    term: Option<UtmSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<UtmSetting>,
}

impl UtmDocument {
    pub fn new(overrides: &UtmOverrides) -> UtmDocument {
        let setting = |tag| {
            overrides.get(tag).map(|o| match o {
                UtmOverride::Value(value) => UtmSetting::Value(value.clone()),
                UtmOverride::Omit => UtmSetting::Omitted(false),
            })
        };
        UtmDocument {
            source: setting(UtmTag::Source),
            medium: setting(UtmTag::Medium),
            campaign: setting(UtmTag::Campaign),
            term: setting(UtmTag::Term),
            content: setting(UtmTag::Content),
        }
    }
}

/// A field that was given, even as `null` (`Some(None)`), apart from one left out (`None`).
pub fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl LifecycleFields {
    /// Checks every field against `current` and answers the whole lifecycle to store, the
    /// password hashed, when any of it changes. Nothing is stored when a field is refused.
    pub async fn parse(self, current: &LinkLifecycle, state: &AppState) -> Result<Option<LinkLifecycle>, ApiError> {
        let mut next = current.clone();
        let mut changed = false;
        if let Some(max_clicks) = self.max_clicks {
            next.max_clicks = match max_clicks {
                Some(n) => Some(
                    ClickLimit::new(n)
                        .map_err(|e| ApiError::invalid("max_clicks", e))?
                        .get(),
                ),
                None => None,
            };
            changed = true;
        }
        if let Some(fallback) = self.fallback_url {
            next.fallback_url = match fallback {
                Some(raw) => Some(
                    Fallback::parse(&raw, &state.base_url)
                        .map_err(|e| ApiError::invalid("fallback_url", e))?
                        .as_str()
                        .to_owned(),
                ),
                None => None,
            };
            changed = true;
        }
        if let Some(utm) = self.utm {
            let overrides = match utm {
                Some(fields) => fields.merged_into(current.utm_overrides())?,
                None => UtmOverrides::default(),
            };
            next.set_utm_overrides(&overrides);
            changed = true;
        }
        if let Some(password) = self.password {
            next.password_hash = match password {
                Some(raw) => Some(hash(&raw, state).await?),
                None => None,
            };
            changed = true;
        }
        Ok(changed.then_some(next))
    }
}

/// A link password's argon2id hash, made on the password workers.
pub async fn hash(raw: &str, state: &AppState) -> Result<String, ApiError> {
    let password = LinkPassword::parse(raw).map_err(|e| ApiError::invalid("password", e))?;
    state
        .accounts
        .passwords
        .run(move || password::hash_secret(password.expose()))
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(ApiError::internal)
}

impl UtmFields {
    fn merged_into(self, mut overrides: UtmOverrides) -> Result<UtmOverrides, ApiError> {
        let fields = [
            (UtmTag::Source, self.source),
            (UtmTag::Medium, self.medium),
            (UtmTag::Campaign, self.campaign),
            (UtmTag::Term, self.term),
            (UtmTag::Content, self.content),
        ];
        for (tag, setting) in fields {
            let Some(setting) = setting else { continue };
            let value = match setting {
                None => None,
                Some(UtmSetting::Omitted(false)) => Some(UtmOverride::Omit),
                Some(UtmSetting::Omitted(true)) => {
                    return Err(ApiError::invalid(
                        "utm",
                        format!(
                            "{}: a string sets it, false leaves it out, null gives it back",
                            tag.name()
                        ),
                    ));
                }
                Some(UtmSetting::Value(raw)) => Some(
                    UtmOverride::value(&raw).map_err(|e| ApiError::invalid("utm", format!("{}: {e}", tag.name())))?,
                ),
            };
            overrides.set(tag, value);
        }
        Ok(overrides)
    }
}
