//! Browser tests: the share buttons in headless Chromium, on a page of another origin under a
//! strict Content Security Policy, against the real application on SQLite and PostgreSQL.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod support;

mod journeys;
mod latency;
mod pages;
mod share_buttons;
mod truth;
mod web_ui;
