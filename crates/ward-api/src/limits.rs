//! Admission control: a bounded number of requests in flight (503 beyond it, never a queue)
//! and a token bucket per device (429 with `Retry-After` when it is empty).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// At most `max` requests are read, decoded and appended at once.
pub struct Admission {
    permits: Arc<Semaphore>,
    max: usize,
    retry_after: Duration,
}

impl Admission {
    /// Admission for `max` concurrent requests; refusals advise retrying after `retry_after`.
    pub fn new(max: usize, retry_after: Duration) -> Self {
        Self { permits: Arc::new(Semaphore::new(max)), max, retry_after }
    }

    /// A permit held for the rest of the request, or 503 at once when all are taken.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] (`overloaded`).
    pub fn try_enter(&self) -> Result<Admitted, ApiError> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().map_err(|_| {
            crate::telemetry::overloaded();
            ApiError::unavailable("overloaded", "too many requests in flight", self.retry_after)
        })?;
        crate::telemetry::in_flight(self.in_flight());
        Ok(Admitted { permit: Some(permit), permits: Arc::clone(&self.permits), max: self.max })
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

/// An admitted request; dropping it frees its place and updates the in-flight gauge.
pub struct Admitted {
    permit: Option<OwnedSemaphorePermit>,
    permits: Arc<Semaphore>,
    max: usize,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        drop(self.permit.take());
        crate::telemetry::in_flight(self.max - self.permits.available_permits());
    }
}

/// One token bucket of events per sender (device id or webhook name).
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<String>,
    burst: NonZeroU32,
}

impl RateLimits {
    /// Buckets refilling at `per_sec` events per second, holding at most `burst`.
    pub fn new(per_sec: NonZeroU32, burst: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)), burst }
    }

    /// Takes `events` tokens from `sender`'s bucket.
    ///
    /// # Errors
    /// 429 [`ApiError::RateLimited`] when the bucket is short; 413 [`ApiError::BatchOverBurst`]
    /// when the batch could never fit.
    pub fn check(&self, sender: &str, events: usize) -> Result<(), ApiError> {
        let n = u32::try_from(events).unwrap_or(u32::MAX);
        let Some(n) = NonZeroU32::new(n) else { return Ok(()) };
        match self.limiter.check_key_n(&sender.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                crate::telemetry::rate_limited();
                let retry_after = not_until.wait_time_from(self.limiter.clock().now());
                Err(ApiError::RateLimited { retry_after })
            }
            Err(_) => Err(ApiError::BatchOverBurst { events: n.get(), burst: self.burst.get() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn buckets_are_per_sender_and_report_when_to_retry() {
        let r = RateLimits::new(nz(1), nz(5));
        assert!(r.check("a", 5).is_ok());
        match r.check("a", 1) {
            Err(ApiError::RateLimited { retry_after }) => assert!(retry_after > Duration::ZERO),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(r.check("b", 5).is_ok(), "another sender has its own bucket");
        assert!(matches!(r.check("b", 6), Err(ApiError::BatchOverBurst { events: 6, burst: 5 })));
    }

    #[test]
    fn admission_refuses_beyond_the_limit_and_frees_on_drop() {
        let a = Admission::new(1, Duration::from_secs(2));
        let permit = a.try_enter().unwrap();
        assert_eq!(a.in_flight(), 1);
        assert!(matches!(a.try_enter(), Err(ApiError::Unavailable { code: "overloaded", .. })));
        drop(permit);
        assert!(a.try_enter().is_ok());
    }
}
