//! The process exit codes, documented in one place.
//!
//! | Code | Meaning |
//! | ---- | ------- |
//! | 0    | Success: no finding at deny level. |
//! | 1    | Findings at deny level. |
//! | 2    | Usage, configuration or operational error (bad input, missing `cargo`, unwritable file). |
//!
//! `verify` uses the same numbers: 0 every output identical, 1 an output differs, 2 it could
//! not verify; and with `--against`, 3 the published release fails its own checks (a signature
//! beside it does not verify, or a file beside it does not match its published hash).

/// No finding at deny level.
pub const SUCCESS: u8 = 0;
/// At least one finding at deny level.
pub const DENIED: u8 = 1;
/// Usage, configuration or operational error.
pub const ERROR: u8 = 2;
/// `verify`: an output differs between the runs, or from the published hashes.
pub const DIFFERS: u8 = 1;
/// `verify --against`: a signature of the published release is bad, or a published file beside
/// the list does not match its hash; nothing is rebuilt.
pub const NOT_INTACT: u8 = 3;

/// The text shown at the end of `--help`.
pub const HELP: &str = "Exit codes: 0 no finding at deny level; 1 findings at deny level; \
2 usage, configuration or operational error.";

/// The text shown at the end of `verify --help`.
pub const VERIFY_HELP: &str = "Exit codes: 0 every output is identical across the runs (or matches --against); \
1 an output differs; 2 usage or operational error (bad input, a failing build); \
3 with --against, the published release fails its own checks (a bad signature, or a file beside it \
that does not match its published hash).";
