//! One file per subcommand; each `run` returns the process exit code.

pub mod build;
pub mod check;
pub mod env;
pub mod explain;
pub mod hook;
pub mod patch;
pub mod rules;
pub mod verify;
