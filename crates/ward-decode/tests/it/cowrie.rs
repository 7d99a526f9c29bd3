//! Tests of the cowrie decoder.
