//! The rolling windows, on event time, and their buckets.
//!
//! Each window of length `W` is kept as time buckets of `W / 6`; the window read at time `at`
//! is the six buckets ending with the one that holds `at`. So a window's reach is `W` at a
//! resolution of one bucket (10 s for 1m, 100 s for 10m, 10 min for 1h).

/// Buckets each window is kept in.
pub const BUCKETS: i64 = 6;

/// One rolling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Its name, used as the suffix of feature names (`events_1m`).
    pub name: &'static str,
    /// Its length in seconds.
    pub seconds: i64,
}

/// The windows every feature is computed over.
pub const WINDOWS: [Window; 3] = [
    Window { name: "1m", seconds: 60 },
    Window { name: "10m", seconds: 600 },
    Window { name: "1h", seconds: 3600 },
];

impl Window {
    /// Bucket width in milliseconds.
    pub fn width_ms(self) -> i64 {
        self.seconds * 1000 / BUCKETS
    }

    /// The bucket that holds event time `ts_ms`.
    pub fn bucket(self, ts_ms: i64) -> i64 {
        ts_ms.div_euclid(self.width_ms())
    }

    /// The buckets the window read at `at_ms` covers, oldest first.
    pub fn buckets_at(self, at_ms: i64) -> std::ops::RangeInclusive<i64> {
        let last = self.bucket(at_ms);
        last - (BUCKETS - 1)..=last
    }

    /// Whether an update at `ts_ms` is too late to matter: older than the window read at the
    /// entity's newest event time `newest_ms` can reach.
    pub fn is_late(self, ts_ms: i64, newest_ms: i64) -> bool {
        self.bucket(ts_ms) < self.bucket(newest_ms) - (BUCKETS - 1)
    }
}
