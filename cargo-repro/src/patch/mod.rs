//! Vendored `[patch]` crates: the ledger, pristine upstream releases, trees, diffs and the
//! edits that `cargo repro patch` makes.

pub mod diff;
pub mod index;
pub mod ledger;
pub mod manifest_edit;
pub mod pristine;
pub mod tree;
