//! Guards against hostile input: files in a repository are written by anyone, so every read is
//! bounded and typed ([`read`]).

pub mod read;
