//! SIGKILL crash-safety test of the embedded log.
