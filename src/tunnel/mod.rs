//! The client side of the worker proxy protocol (PROTOCOL.md §3) and the byte splice that
//! both the client and the worker run once a tunnel is established.

pub mod splice;

pub use splice::{Side, SpliceEnd, SpliceMode, SpliceReport, splice};
