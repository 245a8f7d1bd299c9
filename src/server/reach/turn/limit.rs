//! How often the server answers a source that has not authenticated: a challenge is larger
//! than the request it answers and UDP sources are easily forged, so without a limit the
//! server would reflect floods, larger, at whoever the sources name. Past the limit it says
//! nothing. The limiter's own memory is bounded too, for a flood that forges a new source
//! with every packet.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// Answers a second to one source, on average: a page needs one per relay it allocates
/// (and one an hour per relay, for a fresh nonce), and many pages may share an address.
const PER_SECOND: NonZeroU32 = NonZeroU32::new(10).unwrap();
/// ... and at once, after a pause.
const BURST: NonZeroU32 = NonZeroU32::new(20).unwrap();
/// Sources tracked at once (about 1 MiB). Full, the ones idle long enough to be back at a
/// full burst are forgotten; if none are, new sources wait unanswered until some are.
const MAX_SOURCES: usize = 16_384;
/// The least time between two such sweeps, each of which walks every source.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// What counts as one source: an IPv4 address, or an IPv6 /64 (one host's, usually, which
/// could otherwise name a new address for every packet).
pub(super) fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        },
    }
}

/// The per-source limit on unauthenticated answers.
pub(super) struct SourceLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    swept_at: Instant,
}

impl SourceLimiter {
    pub fn new() -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(PER_SECOND).allow_burst(BURST)),
            swept_at: Instant::now(),
        }
    }

    /// Whether `ip` may be answered now (and counts it if so).
    pub fn allow(&mut self, ip: IpAddr) -> bool {
        if self.limiter.len() >= MAX_SOURCES {
            if self.swept_at.elapsed() >= SWEEP_EVERY {
                self.limiter.retain_recent();
                self.swept_at = Instant::now();
            }
            if self.limiter.len() >= MAX_SOURCES {
                return false;
            }
        }
        self.limiter.check_key(&source_key(ip)).is_ok()
    }

    /// Sources tracked now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_gets_its_burst_and_no_more() {
        let mut limiter = SourceLimiter::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..1000).filter(|_| limiter.allow(ip)).count();
        assert!(
            (BURST.get() as usize..BURST.get() as usize + 5).contains(&allowed),
            "{allowed}"
        );
        assert!(
            limiter.allow("192.0.2.2".parse().unwrap()),
            "another source"
        );
    }

    #[test]
    fn an_ipv6_host_is_one_source_however_many_addresses_it_names() {
        let mut limiter = SourceLimiter::new();
        let allowed = (0..1000u16)
            .filter(|i| limiter.allow(format!("2001:db8:0:1::{i:x}").parse().unwrap()))
            .count();
        assert!(allowed < BURST.get() as usize + 5, "{allowed}");
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn forged_sources_cannot_grow_it_past_its_cap() {
        let mut limiter = SourceLimiter::new();
        for i in 0..(MAX_SOURCES as u32 * 3) {
            limiter.allow(IpAddr::from(i.to_be_bytes()));
        }
        assert!(limiter.len() <= MAX_SOURCES, "{}", limiter.len());
    }
}
