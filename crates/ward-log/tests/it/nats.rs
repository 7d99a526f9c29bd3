//! Tests of the nats adapter.
