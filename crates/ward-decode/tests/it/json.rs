//! Tests of the json decoder.
