//! API tests: every one runs against SQLite and against PostgreSQL.

mod helpers;

mod analytics;
mod batches;
mod campaigns;
mod crash;
mod deletion;
mod exports;
mod first_run;
mod geo;
mod imports;
mod instances;
mod keys;
mod lifecycle;
mod link_list;
mod links;
mod logs;
mod openapi;
mod ops;
mod outage;
mod previews;
mod process;
mod proxies;
mod public;
mod qr;
mod redirect;
mod reservations;
mod restart;
mod shares;
mod sites;
mod stats;
mod upgrade;
mod web_ui;
mod webhooks;
