//! End-to-end tests: each starts the real `scale-advisor` binary and speaks newline-delimited
//! JSON-RPC to it over stdio, exactly as an MCP client does.

#[path = "../../tools/tests/shared/decision_cases.rs"]
mod cases;
#[path = "../../tools/tests/shared/contract_fields.rs"]
mod contract_fields;
#[path = "../../tools/fixtures/examples.rs"]
mod examples;
mod harness;
// The readers' real servers (PostgreSQL 15, Redis 7), shared with `observe/tests/`; each test
// target uses what it needs of them (the module allows what it leaves unused).
#[path = "../../observe/tests/services/mod.rs"]
mod services;

mod apps;
mod calculators;
mod decisions;
mod diagnose;
mod forecast;
mod http;
mod install;
mod logging;
mod model_reads;
mod observe;
mod observe_databases;
mod piped;
mod planning;
mod protocol;
mod readme;
mod real_systems;
mod reliability;
