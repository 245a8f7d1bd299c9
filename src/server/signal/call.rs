//! The call state machine: who is online on which devices, and who rings or talks with whom.
//!
//! Plain and synchronous: no sockets, no clocks, no tasks. The socket handler feeds it what
//! happened (a device joined or left, a frame arrived, a ring timer fired) and carries out
//! the [`Effect`]s it returns, in order. Every rule of a call lives here: the sender is
//! stamped, call frames pass only between the two ends of a call, busy / cancel / timeout /
//! gone end rings and calls, and each side is told why.
//!
//! A person whose name is claimed by an account may be online on several devices (pages)
//! at once; an unclaimed name on one. A ring goes to every device of the callee; the first
//! to answer decides for all: an accept takes the call on that device and the others stop
//! ringing ([`Reason::AnsweredElsewhere`]), a decline declines on all. A call is between
//! two devices, one of each person ([`Party`]): its frames pass only between those two, and
//! the people's other devices stay out of it. A person has at most one ring or call at a
//! time, whichever device it is on: that is what busy means.

use crate::protocol::{ACCEPT, DECLINE, ErrorCode, Message, Reason, Route, SYSTEM_USER, UserName};
use crate::text::{Lang, Words};
use std::collections::HashMap;

/// Tells one ring from the next, so a ring timer that fires after its ring ended is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RingId(u64);

/// One of a person's devices: a page with its own socket. The hub numbers them, and a page
/// that comes back on a new socket (resume) keeps its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub u64);

/// A person on one of their devices: where a frame comes from or goes to, and one end of
/// a ring or call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Party {
    pub name: UserName,
    pub device: DeviceId,
}

impl Party {
    pub fn new(name: &UserName, device: DeviceId) -> Self {
        Self {
            name: name.clone(),
            device,
        }
    }
}

/// Where one online person stands, on whichever of their devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Idle,
    /// `device` is calling `to` (every device of theirs rings); the ring ends at the
    /// latest when timer `ring` fires.
    RingingOut {
        device: DeviceId,
        to: UserName,
        ring: RingId,
    },
    /// Being called by `from`: every device of this person rings.
    RingingIn {
        from: Party,
    },
    /// `device` is talking with `with`; `caller` if this person placed the call.
    InCall {
        device: DeviceId,
        with: Party,
        caller: bool,
    },
}

/// Something the handler must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Deliver `msg` to the socket of `to`'s device.
    Send { to: Party, msg: Message },
    /// Call [`Calls::ring_timeout`] with these after the ring timeout.
    StartRingTimer { caller: UserName, ring: RingId },
    /// A ring from `caller` to `callee` ended without a call: log it in their conversation.
    Missed {
        caller: UserName,
        callee: UserName,
        reason: Reason,
    },
}

/// A second socket for an unclaimed name that is online (or any socket beside one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this name is already online")]
pub struct NameInUse;

/// One online person.
#[derive(Debug)]
struct Person {
    /// Their devices online, in the order they joined.
    devices: Vec<DeviceId>,
    /// The name is claimed by an account: any number of its devices may be online.
    claimed: bool,
    state: State,
}

/// Every online person's devices and call state.
#[derive(Debug, Default)]
pub struct Calls {
    people: HashMap<UserName, Person>,
    next_ring: u64,
    /// The language of the `msg` in the server's notices, which original pages show.
    lang: Lang,
}

impl Calls {
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls whose notices say their `msg` in `lang`.
    pub fn speaking(lang: Lang) -> Self {
        Self {
            lang,
            ..Self::default()
        }
    }

    /// A socket for `name` opened on `device`. A `claimed` name (an account's) may be
    /// online on any number of devices; an unclaimed one stays with its first socket, as in
    /// the original demo. A device that joins while its person's ring goes on rings too;
    /// one already online (a page back on a new socket) changes nothing.
    pub fn join(
        &mut self,
        name: &UserName,
        device: DeviceId,
        claimed: bool,
    ) -> Result<Vec<Effect>, NameInUse> {
        let Some(person) = self.people.get_mut(name) else {
            self.people.insert(
                name.clone(),
                Person {
                    devices: vec![device],
                    claimed,
                    state: State::Idle,
                },
            );
            return Ok(Vec::new());
        };
        if person.devices.contains(&device) {
            return Ok(Vec::new());
        }
        if !(claimed && person.claimed) {
            return Err(NameInUse);
        }
        person.devices.push(device);
        Ok(match &person.state {
            State::RingingIn { from } => vec![ring_frame(from, &Party::new(name, device))],
            _ => Vec::new(),
        })
    }

    /// `name`'s socket on `device` closed. If that device was in their ring or call, it
    /// ends and the other side is told; a ringing device stops only itself, unless it was
    /// the last one ringing.
    pub fn leave(&mut self, name: &UserName, device: DeviceId) -> Vec<Effect> {
        let t = self.lang.words();
        let Some(person) = self.people.get_mut(name) else {
            return Vec::new();
        };
        let Some(at) = person.devices.iter().position(|d| *d == device) else {
            return Vec::new();
        };
        person.devices.remove(at);
        let last = person.devices.is_empty();
        let involved = match &person.state {
            State::Idle => false,
            State::RingingIn { .. } => last,
            State::RingingOut { device: d, .. } | State::InCall { device: d, .. } => *d == device,
        };
        let state = if involved {
            std::mem::replace(&mut person.state, State::Idle)
        } else {
            State::Idle
        };
        if last {
            self.people.remove(name);
        }
        match state {
            State::Idle => Vec::new(),
            // The caller waits on a call_back: an original page shows its text.
            State::RingingIn { from } => {
                self.set_idle(&from.name);
                vec![
                    refusal(t, &from, Reason::Gone, name),
                    missed(&from.name, name, Reason::Gone),
                ]
            }
            State::RingingOut { to, .. } => {
                self.set_idle(&to);
                let mut effects = self.to_every_device(&to, |callee| {
                    hangup(t, SYSTEM_USER, callee, Reason::Gone, name)
                });
                effects.push(missed(name, &to, Reason::Gone));
                effects
            }
            State::InCall { with, .. } => {
                self.set_idle(&with.name);
                vec![hangup(t, SYSTEM_USER, &with, Reason::Gone, name)]
            }
        }
    }

    /// The ring timer of `caller`'s ring `ring` fired. Does nothing if that ring already ended.
    pub fn ring_timeout(&mut self, caller: &UserName, ring: RingId) -> Vec<Effect> {
        let t = self.lang.words();
        let (device, callee) = match self.state(caller) {
            Some(State::RingingOut {
                device,
                to,
                ring: current,
            }) if *current == ring => (*device, to.clone()),
            _ => return Vec::new(),
        };
        self.set_idle(caller);
        self.set_idle(&callee);
        let mut effects = vec![refusal(
            t,
            &Party::new(caller, device),
            Reason::Timeout,
            &callee,
        )];
        effects.extend(self.to_every_device(&callee, |to| {
            hangup(t, SYSTEM_USER, to, Reason::Timeout, caller)
        }));
        effects.push(missed(caller, &callee, Reason::Timeout));
        effects
    }

    /// A frame arrived from `from`'s socket.
    pub fn handle(&mut self, from: &Party, msg: Message) -> Vec<Effect> {
        if msg.is_server_only() {
            let why = format!("only the server sends {:?}", msg.kind());
            return vec![error(from, ErrorCode::NotAllowed, why)];
        }
        let state = match self.people.get(&from.name) {
            Some(person) if person.devices.contains(&from.device) => person.state.clone(),
            // Not online: the handler only feeds frames of joined devices.
            _ => return Vec::new(),
        };
        match msg {
            Message::CallStart { route, .. } => self.call_start(from, &state, route),
            Message::CallBack {
                route, msg, reason, ..
            } => self.call_back(from, &state, &route, msg, reason),
            Message::Hangup { route, reason, .. } => self.hangup(from, &state, &route, reason),
            Message::RingOffer { route, sdp } => self.ring_offer(from, &state, &route, sdp),
            relayed => self.relay(from, &state, relayed),
        }
    }

    /// `name`'s state, or `None` if they are not online.
    pub fn state(&self, name: &UserName) -> Option<&State> {
        self.people.get(name).map(|person| &person.state)
    }

    /// `name`'s devices online, in the order they joined.
    pub fn devices(&self, name: &UserName) -> &[DeviceId] {
        self.people
            .get(name)
            .map_or(&[], |person| person.devices.as_slice())
    }

    /// Whether `device` of `name` is in a call (not a ring: a ring has no media yet).
    pub fn in_call(&self, name: &UserName, device: DeviceId) -> bool {
        matches!(self.state(name), Some(State::InCall { device: d, .. }) if *d == device)
    }

    fn call_start(&mut self, caller: &Party, state: &State, route: Route) -> Vec<Effect> {
        let t = self.lang.words();
        let Some(to) = route.to_user else {
            return vec![error(
                caller,
                ErrorCode::BadMessage,
                "call_start needs toUser".into(),
            )];
        };
        let callee = match UserName::parse(&to) {
            Ok(callee) => callee,
            Err(why) => return vec![error(caller, ErrorCode::BadName, why.to_string())],
        };
        if callee == caller.name {
            return vec![error(
                caller,
                ErrorCode::SelfCall,
                self.lang.words().self_call.into(),
            )];
        }
        match state {
            State::Idle => {}
            // Both pressed *Call* at once and the other's ring got here first: this user's
            // page already has (or is about to get) that ring to answer.
            State::RingingIn { from } if from.name == callee => {
                return vec![Effect::Send {
                    to: caller.clone(),
                    msg: Message::CallBack {
                        route: Route::new(SYSTEM_USER, caller.name.as_str()),
                        msg: (self.lang.words().glare)(callee.as_str()),
                        reason: Some(Reason::Busy),
                    },
                }];
            }
            _ => {
                return vec![error(
                    caller,
                    ErrorCode::NotIdle,
                    "you already have a call or a ring in progress".into(),
                )];
            }
        }
        let unreachable = match self.state(&callee) {
            None => Some(Reason::Offline),
            Some(State::Idle) => None,
            Some(_) => Some(Reason::Busy),
        };
        if let Some(reason) = unreachable {
            return vec![
                refusal(t, caller, reason, &callee),
                missed(&caller.name, &callee, reason),
            ];
        }
        let ring = RingId(self.next_ring);
        self.next_ring += 1;
        self.set_state(
            &caller.name,
            State::RingingOut {
                device: caller.device,
                to: callee.clone(),
                ring,
            },
        );
        self.set_state(
            &callee,
            State::RingingIn {
                from: caller.clone(),
            },
        );
        let mut effects = self.to_every_device(&callee, |to| ring_frame(caller, to));
        effects.push(Effect::Send {
            to: caller.clone(),
            msg: Message::Ringing {
                route: Route::new(SYSTEM_USER, caller.name.as_str()),
            },
        });
        effects.push(Effect::StartRingTimer {
            caller: caller.name.clone(),
            ring,
        });
        effects
    }

    fn call_back(
        &mut self,
        callee: &Party,
        state: &State,
        route: &Route,
        answer: String,
        reason: Option<Reason>,
    ) -> Vec<Effect> {
        let t = self.lang.words();
        let State::RingingIn { from: caller } = state else {
            return vec![no_call(callee, "call_back")];
        };
        if let Some(refused) = misaddressed(callee, route.to_user.as_deref(), &caller.name) {
            return vec![refused];
        }
        let accepted = answer == ACCEPT;
        if accepted {
            self.set_state(
                &caller.name,
                State::InCall {
                    device: caller.device,
                    with: callee.clone(),
                    caller: true,
                },
            );
            self.set_state(
                &callee.name,
                State::InCall {
                    device: callee.device,
                    with: caller.clone(),
                    caller: false,
                },
            );
        } else {
            self.set_idle(&caller.name);
            self.set_idle(&callee.name);
        }
        // "0", or any other text from an original page, declines; the text goes along as it came.
        let reason = match reason {
            _ if accepted => None,
            Some(Reason::NoMedia) => Some(Reason::NoMedia),
            _ => Some(Reason::Declined),
        };
        let mut effects = vec![Effect::Send {
            to: caller.clone(),
            msg: Message::CallBack {
                route: Route::new(callee.name.as_str(), caller.name.as_str()),
                msg: answer,
                reason,
            },
        }];
        // The callee's other devices stop ringing, and say why.
        let elsewhere = if accepted {
            Reason::AnsweredElsewhere
        } else {
            Reason::Declined
        };
        effects.extend(self.to_other_devices(callee, |to| {
            hangup(t, SYSTEM_USER, to, elsewhere, &caller.name)
        }));
        if let Some(reason) = reason {
            effects.push(missed(&caller.name, &callee.name, reason));
        }
        effects
    }

    fn hangup(
        &mut self,
        from: &Party,
        state: &State,
        route: &Route,
        reason: Option<Reason>,
    ) -> Vec<Effect> {
        let t = self.lang.words();
        let other = match state {
            // Any of the callee's ringing devices may end the ring; of the caller and of a
            // call, only the device in it.
            State::RingingIn { from: caller } => caller.name.clone(),
            State::RingingOut { device, to, .. } if *device == from.device => to.clone(),
            State::InCall { device, with, .. } if *device == from.device => with.name.clone(),
            _ => return vec![no_call(from, "hangup")],
        };
        if let Some(refused) = misaddressed(from, route.to_user.as_deref(), &other) {
            return vec![refused];
        }
        self.set_idle(&from.name);
        self.set_idle(&other);
        // Only "no media" (and, in a call, "no connection") is the page's to say; every
        // other reason follows from the state.
        let said = reason;
        let reason = |otherwise| match said {
            Some(Reason::NoMedia) => Reason::NoMedia,
            _ => otherwise,
        };
        match state {
            // A hang-up while it rings here declines, as an original page would mean it.
            State::RingingIn { from: caller } => {
                let mut effects = vec![Effect::Send {
                    to: caller.clone(),
                    msg: Message::CallBack {
                        route: Route::new(from.name.as_str(), caller.name.as_str()),
                        msg: DECLINE.into(),
                        reason: Some(reason(Reason::Declined)),
                    },
                }];
                effects.extend(self.to_other_devices(from, |to| {
                    hangup(t, SYSTEM_USER, to, Reason::Declined, &caller.name)
                }));
                effects.push(missed(&caller.name, &from.name, reason(Reason::Declined)));
                effects
            }
            State::RingingOut { .. } => {
                let why = reason(Reason::Cancelled);
                let mut effects = self.to_every_device(&other, |to| {
                    hangup(t, from.name.as_str(), to, why, &from.name)
                });
                effects.push(missed(&from.name, &other, why));
                effects
            }
            // A call that never got going: the callee accepted before its camera opened and
            // it could not (`no_media`), or no media path was found before the page's
            // deadline (`no_connection`). Either is a call missed, logged as one.
            State::InCall { with, caller, .. }
                if matches!(said, Some(Reason::NoMedia | Reason::NoConnection)) =>
            {
                let why = said.unwrap_or(Reason::HungUp);
                let (caller, callee) = if *caller {
                    (&from.name, &with.name)
                } else {
                    (&with.name, &from.name)
                };
                vec![
                    hangup(t, from.name.as_str(), with, why, &from.name),
                    missed(caller, callee, why),
                ]
            }
            State::InCall { with, .. } => {
                vec![hangup(
                    t,
                    from.name.as_str(),
                    with,
                    reason(Reason::HungUp),
                    &from.name,
                )]
            }
            State::Idle => Vec::new(),
        }
    }

    /// A `ring_offer` passes only from a calling device to the devices its call rings.
    fn ring_offer(&self, caller: &Party, state: &State, route: &Route, sdp: String) -> Vec<Effect> {
        let to = match state {
            State::RingingOut { device, to, .. } if *device == caller.device => to,
            _ => {
                let why = "ring_offer refused: you are not ringing anyone".to_owned();
                return vec![error(caller, ErrorCode::NoCall, why)];
            }
        };
        if let Some(refused) = misaddressed(caller, route.to_user.as_deref(), to) {
            return vec![refused];
        }
        self.to_every_device(to, |callee| Effect::Send {
            to: callee.clone(),
            msg: Message::RingOffer {
                route: Route::new(caller.name.as_str(), callee.name.as_str()),
                sdp: sdp.clone(),
            },
        })
    }

    /// `offer`, `answer` and `_ice` pass only to the other end of the sender's call.
    fn relay(&mut self, from: &Party, state: &State, mut msg: Message) -> Vec<Effect> {
        let to_user = msg.route().to_user.as_deref();
        let with = match relay_target(&from.name, from.device, state, msg.kind(), to_user) {
            Ok(with) => with.clone(),
            Err(refused) => return vec![*refused],
        };
        *msg.route_mut() = Route::new(from.name.as_str(), with.name.as_str());
        vec![Effect::Send { to: with, msg }]
    }

    /// Who a `kind` frame (offer, answer, _ice) from `device` of `from`, addressed to
    /// `to_user`, goes to: the other end of their call. Otherwise the error for the sender.
    /// The hub's fast path for these frames (`relay.rs`) asks this instead of
    /// [`Calls::handle`]; it allocates nothing unless it refuses.
    pub fn relay_to(
        &self,
        from: &UserName,
        device: DeviceId,
        kind: &str,
        to_user: Option<&str>,
    ) -> Result<&Party, Box<Effect>> {
        match self.people.get(from) {
            Some(person) => relay_target(from, device, &person.state, kind, to_user),
            // Not online: the handler only feeds frames of joined devices.
            None => Err(Box::new(no_call(&Party::new(from, device), kind))),
        }
    }

    /// `make(device)` for every device of `name`.
    fn to_every_device(&self, name: &UserName, make: impl Fn(&Party) -> Effect) -> Vec<Effect> {
        self.devices(name)
            .iter()
            .map(|device| make(&Party::new(name, *device)))
            .collect()
    }

    /// `make(device)` for every device of `party`'s person but `party`'s own.
    fn to_other_devices(&self, party: &Party, make: impl Fn(&Party) -> Effect) -> Vec<Effect> {
        self.devices(&party.name)
            .iter()
            .filter(|device| **device != party.device)
            .map(|device| make(&Party::new(&party.name, *device)))
            .collect()
    }

    fn set_state(&mut self, name: &UserName, state: State) {
        if let Some(person) = self.people.get_mut(name) {
            person.state = state;
        }
    }

    fn set_idle(&mut self, name: &UserName) {
        self.set_state(name, State::Idle);
    }
}

/// The ring of `caller` as one device of the callee's receives it.
fn ring_frame(caller: &Party, to: &Party) -> Effect {
    Effect::Send {
        to: to.clone(),
        msg: Message::CallStart {
            route: Route::new(caller.name.as_str(), to.name.as_str()),
            msg: None,
        },
    }
}

/// The other end of the call of `device` of `from`, if a relayed frame from that device
/// may go to them. Nothing is allocated unless it is refused.
fn relay_target<'s>(
    from: &UserName,
    device: DeviceId,
    state: &'s State,
    kind: &str,
    to_user: Option<&str>,
) -> Result<&'s Party, Box<Effect>> {
    match state {
        State::InCall {
            device: d, with, ..
        } if *d == device => match to_user {
            Some(to) if to != with.name.as_str() => Err(Box::new(wrong_peer(
                &Party::new(from, device),
                to,
                &with.name,
            ))),
            _ => Ok(with),
        },
        _ => Err(Box::new(no_call(&Party::new(from, device), kind))),
    }
}

/// Refuses a frame whose `toUser` names someone other than `other`, the sender's party.
/// No `toUser` is fine: the original server printed frames without one.
fn misaddressed(from: &Party, to_user: Option<&str>, other: &UserName) -> Option<Effect> {
    let to = to_user?;
    (to != other.as_str()).then(|| wrong_peer(from, to, other))
}

fn wrong_peer(from: &Party, to: &str, other: &UserName) -> Effect {
    let why = format!("your call is with {other}, not {to}");
    error(from, ErrorCode::WrongPeer, why)
}

/// server → `to`: `peer` ended the ring or call for `reason`.
fn hangup(t: &Words, sender: &str, to: &Party, reason: Reason, peer: &UserName) -> Effect {
    Effect::Send {
        to: to.clone(),
        msg: Message::Hangup {
            route: Route::new(sender, to.name.as_str()),
            msg: Some((t.missed)(reason, peer.as_str())),
            reason: Some(reason),
        },
    }
}

/// server → `caller`: the ring to `callee` failed for `reason`, as a `call_back` so an
/// original page shows the text.
fn refusal(t: &Words, caller: &Party, reason: Reason, callee: &UserName) -> Effect {
    Effect::Send {
        to: caller.clone(),
        msg: Message::CallBack {
            route: Route::new(SYSTEM_USER, caller.name.as_str()),
            msg: (t.ended)(reason, callee.as_str()),
            reason: Some(reason),
        },
    }
}

fn missed(caller: &UserName, callee: &UserName, reason: Reason) -> Effect {
    Effect::Missed {
        caller: caller.clone(),
        callee: callee.clone(),
        reason,
    }
}

fn no_call(from: &Party, kind: &str) -> Effect {
    let why = format!("{kind} refused: you have no call or ring in progress");
    error(from, ErrorCode::NoCall, why)
}

fn error(to: &Party, code: ErrorCode, msg: String) -> Effect {
    Effect::Send {
        to: to.clone(),
        msg: Message::error(&to.name, code, msg),
    }
}

#[cfg(test)]
mod tests;
