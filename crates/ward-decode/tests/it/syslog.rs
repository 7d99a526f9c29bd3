//! Tests of the syslog decoder.
