//! Fuzzes the netflow decoder (captures and raw payloads) through the same framing and limits
//! as `ward decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_decode::SourceKind;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::decode(SourceKind::Netflow, data));
