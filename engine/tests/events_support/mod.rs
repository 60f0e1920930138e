//! Shared by the event log and notifier tests (a directory module, so cargo does not build it
//! as a test): a `pulse run` harness and a loopback webhook. Each test binary uses part of it.
#![allow(dead_code)]

pub mod engine;
pub mod webhook;
