//! How often a name can be guessed at: sign-in attempts (and sign-ups, and password
//! changes, which cost a hash too) are counted per name and per client address (an IPv6
//! client's /64); past `login_attempts_per_minute` the answer is 429 with the seconds to
//! wait. An address gets `names_per_address` names' worth, as the signaling meter does,
//! for people behind one NAT.

use crate::server::settings::Settings;
use crate::server::signal::meter::address_key;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Attempts {
    by_name: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Attempts {
    pub fn new(settings: &Settings) -> Self {
        let per_name =
            NonZeroU32::new(settings.login_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        let per_address = per_name
            .saturating_mul(NonZeroU32::new(settings.names_per_address).unwrap_or(NonZeroU32::MIN));
        Self {
            by_name: RateLimiter::keyed(Quota::per_minute(per_name)),
            by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt for the name `key` (folded) from `address`; `Err` holds how
    /// long until one more is allowed.
    pub fn count(&self, key: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        if let Some(ip) = address {
            self.by_address
                .check_key(&address_key(ip))
                .map_err(|not_until| not_until.wait_time_from(self.clock.now()))?;
        }
        self.by_name
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets names and addresses whose allowance is whole again.
    pub fn sweep(&self) {
        self.by_name.retain_recent();
        self.by_address.retain_recent();
        self.by_name.shrink_to_fit();
        self.by_address.shrink_to_fit();
    }
}

/// `wait` in whole seconds, at least one, for `Retry-After`.
pub fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.is_zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_an_address_each_have_their_allowance() {
        let settings = Settings {
            login_attempts_per_minute: 2,
            names_per_address: 2,
            ..Default::default()
        };
        let attempts = Attempts::new(&settings);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(attempts.count("bob", Some(ip)).is_ok());
        assert!(attempts.count("bob", Some(ip)).is_ok());
        let wait = attempts.count("bob", Some(ip)).unwrap_err();
        assert!(retry_secs(wait) >= 1 && retry_secs(wait) <= 30, "{wait:?}");
        // Another name from the same address: its own allowance, and the address's rest.
        assert!(attempts.count("carol", Some(ip)).is_ok());
        assert!(
            attempts.count("carol", Some(ip)).is_err(),
            "the address is spent"
        );
        assert!(attempts.count("dave", None).is_ok());
        assert_eq!(retry_secs(Duration::ZERO), 1);
        assert_eq!(retry_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_secs(Duration::from_secs(3)), 3);
    }
}
