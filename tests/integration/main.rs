//! Integration tests: the real `fairground` binary, started on port 0 against
//! a fresh database. Every backend-dependent test runs on SQLite and on
//! PostgreSQL (modules `sqlite` and `postgres`).

mod builders;
mod helpers;

mod accounts;
mod adoption;
mod affiliation;
mod assets;
mod audit;
mod authz_matrix;
mod backup;
mod cases;
mod catalogue;
mod cross_site;
mod database;
mod error_shape;
mod evaluations;
mod exposure;
mod fail_closed;
mod foundation;
mod gateway;
mod hostile_text;
mod listings;
mod mail;
mod metering;
mod metrics;
mod neutrality;
mod orgs;
mod page_cache;
mod permanent_actions;
mod policy;
mod ranking_weights;
mod recusal;
mod schema_parity;
mod services;
mod sessions;
mod shared_limits;
mod standin;
mod subscriptions;
mod two_step;
