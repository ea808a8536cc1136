//! Per-hook token buckets. Off unless configured (Rocket.Chat's limiter is off for hooks by default, and
//! users who turned it on lost alerts, RC#18731).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    /// (tokens per second, burst capacity), or `None` when off.
    rate: Option<(f64, f64)>,
    /// Hook id → (tokens left, last refill).
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// A refusal: how long until a call would pass, and the limit in calls per minute.
#[derive(Debug, Clone, Copy)]
pub struct Denied {
    pub wait_secs: u64,
    pub limit: u64,
}

impl RateLimiter {
    /// `per_minute_and_burst`: `(calls per minute, burst)`; `None` or zero calls turn limiting off.
    pub fn new(per_minute_and_burst: Option<(u64, u64)>) -> RateLimiter {
        let rate = per_minute_and_burst
            .filter(|(per_minute, _)| *per_minute > 0)
            .map(|(per_minute, burst)| (per_minute as f64 / 60.0, burst.max(1) as f64));
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), Denied> {
        let Some((per_sec, burst)) = self.rate else {
            return Ok(());
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter poisoned");
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / per_sec).ceil().max(1.0) as u64;
            Err(Denied {
                wait_secs: wait,
                limit: (per_sec * 60.0).round() as u64,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_bursts_then_refuses() {
        let off = RateLimiter::new(None);
        for _ in 0..1000 {
            assert!(off.check("a").is_ok());
        }
        let rl = RateLimiter::new(Some((60, 3)));
        for _ in 0..3 {
            assert!(rl.check("a").is_ok());
        }
        let d = rl.check("a").unwrap_err();
        assert_eq!(d.limit, 60);
        assert!(d.wait_secs >= 1);
        // Buckets are per hook.
        assert!(rl.check("b").is_ok());
    }
}
