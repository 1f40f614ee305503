//! Shared parts of the integration tests. Each test binary uses a subset.
#![allow(dead_code)]

pub mod db;
pub mod faultnet;
pub mod harness;
pub mod logs;
pub mod pgtemp;
