//! Tests of the winlog decoder.
