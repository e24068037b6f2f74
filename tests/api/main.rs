//! API tests: every one runs against SQLite and against PostgreSQL.

mod helpers;

mod links;
mod redirect;
mod shares;
mod stats;
