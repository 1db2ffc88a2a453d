//! The integration tests: one binary, one module per area.

mod registry;
mod support;

mod bad_input;
mod build_env;
mod cli;
mod config;
mod crash;
mod deb;
mod docs;
mod fix;
mod fuzz;
mod git_state;
mod graph;
mod hostile;
mod index_cache;
mod patch;
mod release;
mod rules;
mod sign;
mod verify;
mod verify_signed;
