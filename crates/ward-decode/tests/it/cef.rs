//! Tests of the cef decoder.
