//! Guards against hostile input: files in a repository are written by anyone, so every read is
//! bounded and typed ([`read`]), every path made from what files say is confined ([`paths`]), and
//! writers are kept apart ([`lock`]).

pub mod fault;
pub mod lock;
pub mod paths;
pub mod read;
