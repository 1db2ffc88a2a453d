//! The normalised release build behind `cargo repro build` and `cargo repro env`.
//!
//! - [`mod@env`]: [`BuildEnv`], the exact environment (`SOURCE_DATE_EPOCH`, locale, time zone,
//!   `CARGO_ENCODED_RUSTFLAGS` with path remaps, `CFLAGS`/`CXXFLAGS` prefix maps), and its
//!   `shell` and `json` renderings.
//! - [`rustflags`]: the cargo configs' own rustflags, carried over because cargo ignores them
//!   once `CARGO_ENCODED_RUSTFLAGS` is set.

pub mod env;
pub mod rustflags;

pub use env::{BuildEnv, EnvInputs, EnvOptions, SdePolicy};
