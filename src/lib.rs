//! sharetrail: a self-hosted link shortener that measures dark social.
//!
//! Layout: `domain` is pure logic; `store` is the one storage interface (SQLite and PostgreSQL);
//! `ingest` moves visits from the redirect to the database in batches; `classify` tells people
//! from previews and bots; `routes` are thin HTTP handlers; `web` renders pages; `accounts` signs people in to the web UI.

pub mod accounts;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod domain;
pub mod error;
pub mod gate;
pub mod geo;
pub mod health;
pub mod importer;
pub mod ingest;
pub mod lookup;
pub mod metrics;
pub mod mint;
pub mod privacy;
pub mod render;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhooks;
