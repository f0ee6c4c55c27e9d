//! Failed logins per e-mail address: after [`MAX_FAILURES`] in a row, that address is
//! refused for [`LOCKOUT`] (429 with `Retry-After`), so passwords cannot be guessed at
//! the rate Argon2 allows. Per server process: with N replicas an attacker gets N times
//! the attempts, still a handful a minute.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures in a row that lock an address.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked address is refused.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// Addresses remembered at most (oldest entries are dropped past this).
const CAPACITY: usize = 10_000;

#[derive(Default)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Option<Instant>,
}

/// The failure counts.
#[derive(Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<String, Entry>>,
}

fn key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

impl LoginLimiter {
    /// `Err(seconds)` while `email` is locked.
    pub fn check(&self, email: &str) -> Result<(), u64> {
        let Ok(entries) = self.entries.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        match entries.get(&key(email)).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until.duration_since(now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failure; locks the address at the limit.
    pub fn failed(&self, email: &str) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= CAPACITY {
            // Forget the least recently failed half rather than grow without bound.
            let mut by_age: Vec<(String, Option<Instant>)> =
                entries.iter().map(|(k, e)| (k.clone(), e.last)).collect();
            by_age.sort_by_key(|(_, last)| *last);
            for (k, _) in by_age.into_iter().take(CAPACITY / 2) {
                entries.remove(&k);
            }
        }
        let e = entries.entry(key(email)).or_default();
        if e.locked_until.is_some_and(|until| until <= now) {
            *e = Entry::default();
        }
        e.failures += 1;
        e.last = Some(now);
        if e.failures >= MAX_FAILURES {
            e.locked_until = Some(now + LOCKOUT);
        }
    }

    /// Forgets an address's failures after a successful login.
    pub fn succeeded(&self, email: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&key(email));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_an_address_and_success_resets() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES - 1 {
            l.failed("A@example.com");
        }
        assert!(l.check("a@example.com").is_ok());
        l.succeeded("a@example.com");
        for _ in 0..MAX_FAILURES {
            l.failed("a@example.com");
        }
        let wait = l.check("a@example.com").unwrap_err();
        assert!((1..=LOCKOUT.as_secs()).contains(&wait));
        assert!(
            l.check("b@example.com").is_ok(),
            "other addresses are not affected"
        );
    }
}
