//! Tests of the suricata decoder.
