//! Login rate limiting and API-key use sampling: the two pieces of identity state the API keeps
//! in memory.
//!
//! Every login attempt (good or bad) takes a token from two buckets: one per `(tenant, user)`
//! (guessing one account's password) and one per client address (spraying many accounts).
//! Either one empty answers 429 with `Retry-After`, before the password is looked at.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Keys remembered before idle buckets are swept.
const SWEEP_ABOVE: usize = 10_000;

/// Token buckets for login attempts.
pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// Buckets allowing `per_user` attempts a minute per account and `per_ip` per address
    /// (each also the burst size). Zero is raised to one.
    pub fn new(per_user: u32, per_ip: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self { per_user: RateLimiter::keyed(quota(per_user)), per_ip: RateLimiter::keyed(quota(per_ip)) }
    }

    /// Takes one attempt for `ip` and for `tenant`/`user`.
    ///
    /// # Errors
    /// [`ApiError::LoginRateLimited`] when either bucket is empty.
    pub fn check(&self, tenant: &str, user: &str, ip: &str) -> Result<(), ApiError> {
        take(&self.per_ip, format!("ip:{ip}"))?;
        take(&self.per_user, format!("{tenant}\u{1f}{user}"))
    }
}

fn take(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), ApiError> {
    if limiter.len() > SWEEP_ABOVE {
        limiter.retain_recent();
    }
    limiter.check_key(&key).map_err(|not_until| {
        crate::telemetry::login_rate_limited();
        ApiError::LoginRateLimited { retry_after: not_until.wait_time_from(limiter.clock().now()) }
    })
}

/// Decides which API-key uses are written to the audit log: the first use of each key in each
/// `window` (one minute by default), so a busy integration does not flood the log while every
/// key's activity stays visible minute by minute.
pub struct KeyUseSampler {
    window: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl KeyUseSampler {
    /// A sampler recording each key at most once per `window`.
    pub fn new(window: Duration) -> Self {
        Self { window, last: Mutex::new(HashMap::new()) }
    }

    /// Whether this use of key `id` at `now` should be audited (and remembers it if so).
    pub fn should_record(&self, id: &str, now: Instant) -> bool {
        let Ok(mut last) = self.last.lock() else { return true };
        if last.len() > SWEEP_ABOVE {
            last.retain(|_, at| now.duration_since(*at) < self.window);
        }
        match last.get(id) {
            Some(at) if now.duration_since(*at) < self.window => false,
            _ => {
                last.insert(id.to_owned(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_limited_per_account_and_per_address() {
        let l = LoginLimiter::new(2, 3);
        assert!(l.check("t", "alice", "10.0.0.1").is_ok());
        assert!(l.check("t", "alice", "10.0.0.2").is_ok());
        assert!(matches!(l.check("t", "alice", "10.0.0.3"), Err(ApiError::LoginRateLimited { .. })));
        assert!(l.check("t", "bob", "10.0.0.1").is_ok(), "another account has its own bucket");
        assert!(l.check("t", "carol", "10.0.0.1").is_ok());
        assert!(
            matches!(l.check("t", "dave", "10.0.0.1"), Err(ApiError::LoginRateLimited { .. })),
            "the address spent its 3 attempts"
        );
    }

    #[test]
    fn key_use_is_sampled_once_per_window() {
        let s = KeyUseSampler::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(s.should_record("k1", t0));
        assert!(!s.should_record("k1", t0 + Duration::from_secs(59)));
        assert!(s.should_record("k2", t0));
        assert!(s.should_record("k1", t0 + Duration::from_secs(61)));
    }
}
