//! Guards against hostile input: files in a repository are written by anyone, so every read is
//! bounded and typed ([`read`]), and every path made from what files say is confined ([`paths`]).

pub mod paths;
pub mod read;
