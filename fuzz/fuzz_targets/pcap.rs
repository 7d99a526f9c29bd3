//! Fuzzes the pcap decoder (capture → flows and protocol metadata) through `ward decode`'s path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_decode::SourceKind;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::decode(SourceKind::Pcap, data));
