//! Integration tests: every test starts the real server on 127.0.0.1:0 and talks to it over HTTP, once on
//! SQLite and once on PostgreSQL (see `harness::backend_tests!`).

mod auth;
mod bad_input;
mod chat;
mod harness;
mod lifecycle;
mod permissions;
mod rooms;
mod users;
