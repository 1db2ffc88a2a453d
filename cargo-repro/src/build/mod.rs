//! The normalised release build behind `cargo repro build` and `cargo repro env`.
//!
//! - [`mod@env`]: [`BuildEnv`], the exact environment (`SOURCE_DATE_EPOCH`, locale, time zone,
//!   `CARGO_ENCODED_RUSTFLAGS` with path remaps, `CFLAGS`/`CXXFLAGS` prefix maps), and its
//!   `shell` and `json` renderings.
//! - [`rustflags`]: the cargo configs' own rustflags, carried over because cargo ignores them
//!   once `CARGO_ENCODED_RUSTFLAGS` is set.
//! - [`runner`]: the preflight audit, the cargo invocation and the binaries it produced.
//! - [`native_flags`]: the scan for CPU-native flags in cargo's log and in the captured output
//!   of build scripts (where the `cc` crate logs the C compiler's command lines).
//! - [`release`]: the release artifacts of a finished build, written all at once.
//! - [`signer`]: `--sign KEY`, detached signatures made by gpg or ssh-keygen, and DSSE
//!   signatures (raw ed25519 for ssh keys, binary OpenPGP for gpg).
//! - [`ssh_agent`]: the ssh-agent requests that sign with a key only the agent holds.
//!
//! Typical use:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use cargo_repro::build::{BuildEnv, BuildOptions, EnvOptions, build};
//! use cargo_repro::workspace::{LoadOptions, Workspace};
//!
//! let workspace = Workspace::load(&LoadOptions::default())?;
//! let env = BuildEnv::for_workspace(&workspace, &EnvOptions::default())?;
//! let outcome = build(&workspace, &BuildOptions::default(), &env, &mut std::io::stderr())?;
//! for binary in &outcome.binaries {
//!     eprintln!("built {}", binary.display);
//! }
//! # Ok(())
//! # }
//! ```

pub mod deb_package;
pub mod env;
pub mod native_flags;
pub mod release;
pub mod runner;
pub mod rustflags;
pub mod signer;
pub mod ssh_agent;

pub use env::{BuildEnv, EnvInputs, EnvOptions, SdePolicy};
pub use native_flags::{scan_build_script_outputs, scan_native_flags};
pub use runner::{Binary, BuildOptions, BuildOutcome, build, cargo_args, preflight};
