//! Integration tests of ward-flow: oracles on the shared captures (tshark, nfdump, Suricata),
//! template handling on crafted packets, properties on arbitrary bytes, the UDP collector.

mod beacon;
mod captures;
mod collector;
mod common;
mod generated;
mod netflow;
mod props;
mod vendor;
