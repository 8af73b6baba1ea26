//! The `boundary` command line: the admin CLI, `dev`, `controller`, `worker`, `connect` and
//! `client-agent`. It sits on top of every other crate of the workspace (see the README's
//! architecture section); nothing depends on it.

pub mod cli;
