//! The built-in database of crates known to build nondeterministically (being written).
