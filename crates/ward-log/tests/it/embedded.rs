//! Tests of the embedded adapter.
