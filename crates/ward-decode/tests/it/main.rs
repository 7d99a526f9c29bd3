//! Integration tests of every decoder, through the public decoding API, on committed fixtures
//! and on the shared third-party corpora. One test binary for the crate keeps link time down.

mod cef;
mod common;
mod cowrie;
mod evtx;
mod json;
mod netflow;
mod osquery;
mod pcap;
mod props;
mod suricata;
mod syslog;
mod winlog;
