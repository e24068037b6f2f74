//! Pure domain logic: no HTTP, no SQL, no I/O.

pub mod account;
pub mod address_bar;
pub mod analytics;
pub mod api_key;
pub mod app;
pub mod attribution;
pub mod campaign;
pub mod cascade;
pub mod channel;
pub mod client;
pub mod code;
pub mod destination;
pub mod import;
pub mod lifecycle;
pub mod preview;
pub mod share_tree;
pub mod site;
pub mod utm;
pub mod visit;
pub mod webhook;
