//! Tests of the evtx decoder.
