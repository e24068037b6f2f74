//! What a request for a short code turned out to be.

use serde::Serialize;

/// Only `Click` counts as a click; the other kinds are kept as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VisitKind {
    /// A person followed the link.
    Click,
    /// A messaging app fetched the link to draw a preview.
    Unfurl,
    /// Any other automated fetch: crawlers, monitors, HEAD requests, prefetches.
    Bot,
}

impl VisitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Click => "click",
            VisitKind::Unfurl => "unfurl",
            VisitKind::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "click" => Some(VisitKind::Click),
            "unfurl" => Some(VisitKind::Unfurl),
            "bot" => Some(VisitKind::Bot),
            _ => None,
        }
    }
}

/// Coarse device family of a visitor, from the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    Unknown,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Bot => "bot",
            DeviceClass::Unknown => "unknown",
        }
    }
}
