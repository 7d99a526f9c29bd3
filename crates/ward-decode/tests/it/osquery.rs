//! Tests of the osquery decoder.
