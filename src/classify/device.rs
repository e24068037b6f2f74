//! Browser, OS and device class from the uap-core regexes.

use anyhow::Context as _;
use ua_parser::{Extractor, Regexes, device, os, user_agent};

use crate::domain::visit::DeviceClass;

pub(super) const UAP_REGEXES_JSON: &str = include_str!("../../data/uap-core-regexes.json");

/// What uap-core says about one user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Device {
    pub class: DeviceClass,
    /// uap-core tags many crawlers as the "Spider" device.
    pub is_spider: bool,
    pub browser: Option<Box<str>>,
    pub os: Option<Box<str>>,
}

pub(super) struct DeviceParser {
    extractor: Extractor<'static>,
}

impl DeviceParser {
    pub(super) fn from_json(json: &'static str) -> anyhow::Result<Self> {
        let regexes: Regexes<'static> = serde_json::from_str(json).context("parsing the uap-core regexes")?;
        // Only the device parsers that can name a family `device_class` looks at. The other
        // ~500 name phone models sharetrail never reports, and compiled they held some 20 MB.
        let device_parsers = regexes.device_parsers.into_iter().filter(|p| names_a_class(p));
        let extractor = Extractor {
            ua: user_agent::Builder::new()
                .push_all(regexes.user_agent_parsers)?
                .build()?,
            os: os::Builder::new().push_all(regexes.os_parsers)?.build()?,
            dev: device::Builder::new().push_all(device_parsers)?.build()?,
        };
        Ok(Self { extractor })
    }

    pub(super) fn parse(&self, user_agent: &str) -> Device {
        let (browser, os, device) = self.extractor.extract(user_agent);
        let browser = browser.as_ref().and_then(|b| known(&b.family)).map(Box::from);
        let os = os.as_ref().and_then(|o| known(&o.os)).map(Box::from);
        let device = device.as_ref().and_then(|d| known(&d.device));
        let is_spider = device == Some("Spider");
        let class = if is_spider {
            DeviceClass::Bot
        } else {
            device_class(user_agent, device, os.as_deref())
        };
        Device {
            class,
            is_spider,
            browser,
            os,
        }
    }
}

/// Device families `device_class` tells apart; a parser naming none of them cannot change a class.
const CLASS_FAMILIES: &[&str] = &["Spider", "iPad", "Tablet", "Kindle", "iPhone", "iPod", "Generic", "Mac"];

fn names_a_class(parser: &device::Parser<'_>) -> bool {
    // A replacement like `$1` takes the family from the match, so the regex counts too.
    let replacement = parser.device_replacement.as_deref().unwrap_or_default();
    CLASS_FAMILIES
        .iter()
        .any(|family| replacement.contains(family) || parser.regex.contains(family))
}

/// uap-core answers "Other" when it knows nothing, which is no family.
fn known(family: &str) -> Option<&str> {
    (!family.is_empty() && family != "Other").then_some(family)
}

const MOBILE_OSES: &[&str] = &[
    "iOS",
    "Windows Phone",
    "Windows Mobile",
    "BlackBerry OS",
    "KaiOS",
    "Firefox OS",
    "Symbian OS",
    "Tizen",
    "HarmonyOS",
];

const DESKTOP_OSES: &[&str] = &[
    "Windows",
    "Mac OS X",
    "Linux",
    "Chrome OS",
    "Ubuntu",
    "Debian",
    "Fedora",
    "FreeBSD",
    "OpenBSD",
    "NetBSD",
    "Solaris",
    "Mint",
    "Arch Linux",
];

/// Tablets first: an iPad runs iOS and an Android tablet runs Android, so
/// the OS alone would call them phones. Android phones put `Mobile` in the
/// agent and Android tablets leave it out, as Google recommends.
fn device_class(user_agent: &str, device: Option<&str>, os: Option<&str>) -> DeviceClass {
    let device = device.unwrap_or("");
    let os = os.unwrap_or("");
    let mobile_token = user_agent.contains("Mobi");
    if device == "iPad"
        || device.contains("Tablet")
        || device.starts_with("Kindle")
        || (os == "Android" && !mobile_token)
    {
        DeviceClass::Tablet
    } else if mobile_token
        || matches!(
            device,
            "iPhone" | "iPod" | "Generic Smartphone" | "Generic Feature Phone"
        )
        || os == "Android"
        || MOBILE_OSES.contains(&os)
    {
        DeviceClass::Mobile
    } else if device == "Mac" || os.starts_with("Windows") || DESKTOP_OSES.contains(&os) {
        DeviceClass::Desktop
    } else {
        DeviceClass::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_class_rules_need_no_device_family() {
        let phone = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0";
        assert_eq!(device_class(phone, None, Some("Android")), DeviceClass::Mobile);
        let tablet = "Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0";
        assert_eq!(device_class(tablet, None, Some("Android")), DeviceClass::Tablet);
        assert_eq!(device_class("x", None, Some("Windows")), DeviceClass::Desktop);
        assert_eq!(device_class("x", None, None), DeviceClass::Unknown);
    }
}
