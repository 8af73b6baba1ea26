//! Helpers shared by integration tests. Each test crate includes this module with
//! `mod support;` and uses only part of it, hence the blanket `dead_code` allowance.
#![allow(dead_code)]

pub mod dev_controller;
pub mod netns;
pub mod os_user;
pub mod postgres;
pub mod process;
pub mod topology;
pub mod wait;
