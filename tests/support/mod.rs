//! Helpers shared by the integration tests that run real tools.
#![allow(dead_code)]

pub mod moto;
