//! Integration tests: every test starts the real server on 127.0.0.1:0 and talks to it over HTTP, once on
//! SQLite and once on PostgreSQL (see `harness::backend_tests!`).

// The tests are the server's clients, on loopback; the guarded egress client is for the server's own calls.
#![allow(clippy::disallowed_methods)]

mod auth;
mod bad_input;
mod chat;
mod clients;
mod ddp;
mod harness;
mod hooks;
mod integrations;
mod lifecycle;
mod outgoing;
mod permissions;
mod receiver;
mod rooms;
mod users;
