//! What each person, and each client address, may send: every frame a page sends counts
//! against an allowance for its kind ([`Class`]), one per name and one (several people's
//! worth) per address, so neither a new socket nor a new name starts afresh. A frame over
//! either allowance is refused with `rate_limited`, and the socket stays open.
//!
//! Call frames are metered so that, within their allowance, one party of a call cannot
//! fill the other's queue: a whole burst (`call_burst`, 100 by default) fits in the half
//! of a queue that relayed frames may fill (`send_queue` / 2, 128 frames), and the rate (50
//! a second, 12 KB/s of candidates) is a sliver of what any page reads. What still finds
//! the other's queue full (large frames to a page on a slow link) is dropped and its sender
//! told, and the receiver stays (see `server/queue.rs`).

use crate::protocol::{Message, UserName};
use crate::server::settings::Settings;
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the meter forgets names and addresses whose allowances are whole again.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The kinds of frames, each with an allowance of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `call_start`: each rings someone, or stores a missed call.
    Ring,
    /// `offer`, `answer`, `_ice`, `ring_offer`, `call_back`, `hangup`: a call's own frames,
    /// each passed to the other party.
    Call,
    /// `sync`, `chat_send`, `history`, `group_create`, `group_add`: each costs the
    /// database a query or a write, and may be answered at length.
    Chat,
    /// `chat_received`, `chat_read`: a page's receipts for what the server sent it.
    Receipt,
    /// Anything the server can only refuse (bad JSON, an unknown or server-only type, a
    /// binary frame): each is answered with an error.
    Other,
}

const CLASSES: usize = 5;

/// What a rate is counted over.
#[derive(Clone, Copy)]
enum Per {
    Second,
    Minute,
}

impl Class {
    /// The class of a decoded frame from a page.
    pub fn of(msg: &Message) -> Self {
        match msg {
            Message::CallStart { .. } => Class::Ring,
            Message::CallBack { .. }
            | Message::RingOffer { .. }
            | Message::Offer { .. }
            | Message::Answer { .. }
            | Message::Ice { .. }
            | Message::Hangup { .. } => Class::Call,
            Message::Sync { .. }
            | Message::ChatSend { .. }
            | Message::History { .. }
            | Message::GroupCreate { .. }
            | Message::GroupAdd { .. } => Class::Chat,
            Message::ChatReceived { .. } | Message::ChatRead { .. } => Class::Receipt,
            _ => Class::Other,
        }
    }
}

/// Allowances, one per name or address (by its [`Key`]) that sent something lately.
type Limiter = RateLimiter<Key, DefaultKeyedStateStore<Key, PassOn>, DefaultClock>;

fn limiter(quota: Quota) -> Limiter {
    RateLimiter::hashmap_with_hasher(quota, PassOn)
}

/// Every allowance, for every name and address that sent something lately.
pub struct Meter {
    by_name: [Limiter; CLASSES],
    by_address: [Limiter; CLASSES],
    /// Makes names and addresses into keys (see [`Key`]).
    seed: RandomState,
    /// Why a frame of each class was refused, for the page.
    why: [String; CLASSES],
    /// When [`Meter::sweep`] last ran.
    swept: Mutex<Option<Instant>>,
}

impl Meter {
    pub fn new(settings: &Settings) -> Self {
        let chat = (settings.chat_rate_per_sec, settings.chat_burst, Per::Second);
        let call = (settings.call_rate_per_sec, settings.call_burst, Per::Second);
        let ring = (settings.ring_rate_per_min, settings.ring_burst, Per::Minute);
        // In the order of `Class`.
        let allowances = [
            (ring, "calls"),
            (call, "call frames"),
            (chat, "chat frames"),
            (call, "receipts"),
            (call, "refused frames"),
        ];
        let quota = |(rate, burst, per): (u32, u32, Per), times: u32| {
            // Settings refuse zeros; `MIN` only keeps this total.
            let rate = NonZeroU32::new(rate.saturating_mul(times)).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(burst.saturating_mul(times)).unwrap_or(NonZeroU32::MIN);
            let quota = match per {
                Per::Second => Quota::per_second(rate),
                Per::Minute => Quota::per_minute(rate),
            };
            quota.allow_burst(burst)
        };
        let times = settings.names_per_address;
        Self {
            by_name: allowances.map(|(a, _)| limiter(quota(a, 1))),
            by_address: allowances.map(|(a, _)| limiter(quota(a, times))),
            seed: RandomState::new(),
            why: allowances.map(|((rate, _, per), what)| {
                let per = match per {
                    Per::Second => "second",
                    Per::Minute => "minute",
                };
                format!("slow down: at most {rate} {what} a {per}")
            }),
            swept: Mutex::new(None),
        }
    }

    /// Who a socket's frames count against: `name`, and `address` if the server knows it.
    pub fn who(&self, name: &UserName, address: Option<IpAddr>) -> Who {
        Who {
            name: Key::new(self.seed.hash_one(name)),
            address: address.map(|ip| Key::new(self.seed.hash_one(address_key(ip)))),
        }
    }

    /// Whether `who` may send one more frame of `class` now; if so, it is counted.
    pub fn allows(&self, class: Class, who: &Who) -> bool {
        let i = class as usize;
        self.by_name[i].check_key(&who.name).is_ok()
            && who
                .address
                .is_none_or(|address| self.by_address[i].check_key(&address).is_ok())
    }

    /// What a page is told when a frame of `class` is refused.
    pub fn why(&self, class: Class) -> &str {
        &self.why[class as usize]
    }

    /// Forgets every name and address whose allowances are whole again: they would start
    /// afresh anyway. Keeps the meter's memory to the people who sent something lately.
    pub fn sweep(&self) {
        for limiter in &self.by_name {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        for limiter in &self.by_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// [`Meter::sweep`], if it has not run for a while.
    pub fn sweep_if_due(&self) {
        let now = Instant::now();
        let due = match self.swept.try_lock().as_deref_mut() {
            Ok(swept) if swept.is_none_or(|at| now - at >= SWEEP_EVERY) => {
                *swept = Some(now);
                true
            }
            // Another socket is sweeping, or it is not time yet.
            _ => false,
        };
        if due {
            self.sweep();
        }
    }

    /// Names and addresses remembered, for tests.
    pub fn remembered(&self) -> usize {
        self.by_name.iter().map(|l| l.len()).sum::<usize>()
            + self.by_address.iter().map(|l| l.len()).sum::<usize>()
    }
}

/// The name and address a socket's frames count against, worked out once, when the
/// socket opens.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    name: Key,
    address: Option<Key>,
}

/// What the meter knows a name or an address by: its hash, with a seed of the meter's
/// own, random. Every frame is looked up by it, and hashing the name and the address
/// again for each frame was a third of what metering one cost. Two that share a key
/// share an allowance, which nobody can arrange without knowing the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(NonZeroU64);

impl Key {
    /// Never zero, so that a `Who` without an address is no larger than one with.
    fn new(hash: u64) -> Self {
        Self(NonZeroU64::new(hash).unwrap_or(NonZeroU64::MIN))
    }
}

/// The hasher of [`Key`]s: it passes them on, as they are already hashes.
#[derive(Clone, Copy, Default)]
pub struct PassOn;

impl BuildHasher for PassOn {
    type Hasher = Passed;

    fn build_hasher(&self) -> Passed {
        Passed(0)
    }
}

/// What [`PassOn`] builds.
pub struct Passed(u64);

impl Hasher for Passed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    // A `Key` writes one u64; anything else would still get a hash, a poor one.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// The address whose allowance a client's frames count against: an IPv4 address, or an
/// IPv6 /64 (one subscriber's network: a host there can take any of its addresses).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> UserName {
        UserName::parse(raw).unwrap()
    }

    #[test]
    fn a_name_has_its_burst_and_no_more() {
        let settings = Settings {
            ring_burst: 3,
            ..Settings::default()
        };
        let meter = Meter::new(&settings);
        let alice = meter.who(&name("alice"), None);
        for _ in 0..3 {
            assert!(meter.allows(Class::Ring, &alice));
        }
        assert!(!meter.allows(Class::Ring, &alice));
        assert!(meter.allows(Class::Call, &alice), "another class");
        let again = meter.who(&name("alice"), None);
        assert!(!meter.allows(Class::Ring, &again), "the same name again");
        let bob = meter.who(&name("bob"), None);
        assert!(meter.allows(Class::Ring, &bob), "another name");
        assert_eq!(
            meter.why(Class::Ring),
            "slow down: at most 60 calls a minute"
        );
    }

    #[test]
    fn an_address_has_several_names_worth() {
        let settings = Settings {
            ring_burst: 2,
            names_per_address: 3,
            ..Settings::default()
        };
        let meter = Meter::new(&settings);
        let here = Some("192.0.2.7".parse().unwrap());
        let allowed = (0..20)
            .filter(|i| meter.allows(Class::Ring, &meter.who(&name(&format!("n{i}")), here)))
            .count();
        assert_eq!(allowed, 6, "three names' bursts of two");
        let elsewhere = Some("192.0.2.8".parse().unwrap());
        assert!(meter.allows(Class::Ring, &meter.who(&name("n99"), elsewhere)));
    }

    #[test]
    fn an_ipv6_network_is_one_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_sweep_forgets_whole_allowances_only() {
        let settings = Settings {
            ring_rate_per_min: 1,
            chat_rate_per_sec: 1_000_000,
            ..Settings::default()
        };
        let meter = Meter::new(&settings);
        let here = Some("192.0.2.7".parse().unwrap());
        assert!(meter.allows(Class::Ring, &meter.who(&name("alice"), here)));
        assert!(meter.allows(Class::Chat, &meter.who(&name("bob"), here)));
        assert_eq!(meter.remembered(), 4);
        std::thread::sleep(std::time::Duration::from_millis(5));
        meter.sweep();
        // bob's chat allowance is whole again within microseconds; alice's call takes a
        // minute to come back.
        assert_eq!(meter.remembered(), 2);
    }
}
