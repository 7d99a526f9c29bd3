//! Tests of the redis adapter.
