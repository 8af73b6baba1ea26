//! Shared test support. Each test crate uses only part of it, hence `dead_code`.
#![allow(dead_code)]

pub mod netns;
pub mod os_user;
pub mod process;
pub mod topology;
pub mod wait;
