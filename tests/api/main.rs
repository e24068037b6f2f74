//! API tests: every one runs against SQLite and against PostgreSQL.

mod helpers;

mod links;
mod redirect;
mod restart;
mod shares;
mod stats;
