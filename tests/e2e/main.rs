//! End-to-end tests: each starts the real `scale-advisor` binary and speaks newline-delimited
//! JSON-RPC to it over stdio, exactly as an MCP client does.

mod harness;

#[path = "../../tools/fixtures/examples.rs"]
mod examples;

#[path = "../../tools/tests/shared/decision_cases.rs"]
mod cases;

mod calculators;
mod decisions;
mod diagnose;
mod http;
mod planning;
mod protocol;
mod reliability;
