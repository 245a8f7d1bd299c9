//! The call state machine: who is online, and who rings or talks with whom.
//!
//! Plain and synchronous: no sockets, no clocks, no tasks. The socket handler feeds it what
//! happened (a user joined or left, a frame arrived, a ring timer fired) and carries out the
//! [`Effect`]s it returns, in order. Every rule of a call lives here: the sender is stamped,
//! call frames pass only between the two parties of a call, busy / cancel / timeout / gone
//! end rings and calls, and each side is told why.

use crate::protocol::{ACCEPT, DECLINE, ErrorCode, Message, Reason, Route, SYSTEM_USER, UserName};
use crate::text;
use std::collections::HashMap;

/// Tells one ring from the next, so a ring timer that fires after its ring ended is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RingId(u64);

/// Where one online user stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Idle,
    /// Calling `to`; the ring ends at the latest when timer `ring` fires.
    RingingOut {
        to: UserName,
        ring: RingId,
    },
    /// Being called by `from`.
    RingingIn {
        from: UserName,
    },
    /// Talking with `with`; `caller` if this user placed the call.
    InCall {
        with: UserName,
        caller: bool,
    },
}

/// Something the handler must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Deliver `msg` to `to`'s socket.
    Send { to: UserName, msg: Message },
    /// Call [`Calls::ring_timeout`] with these after the ring timeout.
    StartRingTimer { caller: UserName, ring: RingId },
    /// A ring from `caller` to `callee` ended without a call: log it in their conversation.
    Missed {
        caller: UserName,
        callee: UserName,
        reason: Reason,
    },
}

/// A second socket for a name that is online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this name is already online")]
pub struct NameInUse;

/// Every online user's call state.
#[derive(Debug, Default)]
pub struct Calls {
    users: HashMap<UserName, State>,
    next_ring: u64,
}

impl Calls {
    pub fn new() -> Self {
        Self::default()
    }

    /// A socket for `name` opened. A name that is online stays with its first socket.
    pub fn join(&mut self, name: &UserName) -> Result<(), NameInUse> {
        if self.users.contains_key(name) {
            return Err(NameInUse);
        }
        self.users.insert(name.clone(), State::Idle);
        Ok(())
    }

    /// `name`'s socket closed: end their ring or call and tell the other party.
    pub fn leave(&mut self, name: &UserName) -> Vec<Effect> {
        let Some(state) = self.users.remove(name) else {
            return Vec::new();
        };
        let Some(other) = other_party(&state) else {
            return Vec::new();
        };
        self.set_idle(other);
        match state {
            // The caller waits on a call_back: an original page shows its text.
            State::RingingIn { .. } => vec![
                refusal(other, Reason::Gone, name),
                missed(other, name, Reason::Gone),
            ],
            State::RingingOut { .. } => vec![
                hangup(SYSTEM_USER, other, Reason::Gone, name),
                missed(name, other, Reason::Gone),
            ],
            _ => vec![hangup(SYSTEM_USER, other, Reason::Gone, name)],
        }
    }

    /// The ring timer of `caller`'s ring `ring` fired. Does nothing if that ring already ended.
    pub fn ring_timeout(&mut self, caller: &UserName, ring: RingId) -> Vec<Effect> {
        let callee = match self.users.get(caller) {
            Some(State::RingingOut { to, ring: current }) if *current == ring => to.clone(),
            _ => return Vec::new(),
        };
        self.set_idle(caller);
        self.set_idle(&callee);
        vec![
            refusal(caller, Reason::Timeout, &callee),
            hangup(SYSTEM_USER, &callee, Reason::Timeout, caller),
            missed(caller, &callee, Reason::Timeout),
        ]
    }

    /// A frame arrived from `from`'s socket.
    pub fn handle(&mut self, from: &UserName, msg: Message) -> Vec<Effect> {
        if msg.is_server_only() {
            let why = format!("only the server sends {:?}", msg.kind());
            return vec![error(from, ErrorCode::NotAllowed, why)];
        }
        let Some(state) = self.users.get(from).cloned() else {
            // Not online: the handler only feeds frames of joined users.
            return Vec::new();
        };
        match msg {
            Message::CallStart { route, .. } => self.call_start(from, &state, route),
            Message::CallBack {
                route, msg, reason, ..
            } => self.call_back(from, &state, &route, msg, reason),
            Message::Hangup { route, reason, .. } => self.hangup(from, &state, &route, reason),
            Message::RingOffer { route, sdp } => ring_offer(from, &state, &route, sdp),
            relayed => self.relay(from, &state, relayed),
        }
    }

    /// `name`'s state, or `None` if they are not online.
    pub fn state(&self, name: &UserName) -> Option<&State> {
        self.users.get(name)
    }

    fn call_start(&mut self, caller: &UserName, state: &State, route: Route) -> Vec<Effect> {
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
        if &callee == caller {
            return vec![error(caller, ErrorCode::SelfCall, text::SELF_CALL.into())];
        }
        match state {
            State::Idle => {}
            // Both pressed *Call* at once and the other's ring got here first: this user's
            // page already has (or is about to get) that ring to answer.
            State::RingingIn { from } if *from == callee => {
                return vec![Effect::Send {
                    to: caller.clone(),
                    msg: Message::CallBack {
                        route: Route::new(SYSTEM_USER, caller.as_str()),
                        msg: text::glare(callee.as_str()),
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
        let unreachable = match self.users.get(&callee) {
            None => Some(Reason::Offline),
            Some(State::Idle) => None,
            Some(_) => Some(Reason::Busy),
        };
        if let Some(reason) = unreachable {
            return vec![
                refusal(caller, reason, &callee),
                missed(caller, &callee, reason),
            ];
        }
        let ring = RingId(self.next_ring);
        self.next_ring += 1;
        self.users.insert(
            caller.clone(),
            State::RingingOut {
                to: callee.clone(),
                ring,
            },
        );
        self.users.insert(
            callee.clone(),
            State::RingingIn {
                from: caller.clone(),
            },
        );
        vec![
            Effect::Send {
                to: callee.clone(),
                msg: Message::CallStart {
                    route: Route::new(caller.as_str(), callee.as_str()),
                    msg: None,
                },
            },
            Effect::Send {
                to: caller.clone(),
                msg: Message::Ringing {
                    route: Route::new(SYSTEM_USER, caller.as_str()),
                },
            },
            Effect::StartRingTimer {
                caller: caller.clone(),
                ring,
            },
        ]
    }

    fn call_back(
        &mut self,
        callee: &UserName,
        state: &State,
        route: &Route,
        answer: String,
        reason: Option<Reason>,
    ) -> Vec<Effect> {
        let State::RingingIn { from: caller } = state else {
            return vec![no_call(callee, "call_back")];
        };
        if let Some(refused) = misaddressed(callee, route.to_user.as_deref(), caller) {
            return vec![refused];
        }
        if answer == ACCEPT {
            self.users.insert(
                caller.clone(),
                State::InCall {
                    with: callee.clone(),
                    caller: true,
                },
            );
            self.users.insert(
                callee.clone(),
                State::InCall {
                    with: caller.clone(),
                    caller: false,
                },
            );
        } else {
            self.set_idle(caller);
            self.set_idle(callee);
        }
        // "0", or any other text from an original page, declines; the text goes along as it came.
        let reason = match reason {
            _ if answer == ACCEPT => None,
            Some(Reason::NoMedia) => Some(Reason::NoMedia),
            _ => Some(Reason::Declined),
        };
        let mut effects = vec![Effect::Send {
            to: caller.clone(),
            msg: Message::CallBack {
                route: Route::new(callee.as_str(), caller.as_str()),
                msg: answer,
                reason,
            },
        }];
        if let Some(reason) = reason {
            effects.push(missed(caller, callee, reason));
        }
        effects
    }

    fn hangup(
        &mut self,
        from: &UserName,
        state: &State,
        route: &Route,
        reason: Option<Reason>,
    ) -> Vec<Effect> {
        let Some(other) = other_party(state).cloned() else {
            return vec![no_call(from, "hangup")];
        };
        if let Some(refused) = misaddressed(from, route.to_user.as_deref(), &other) {
            return vec![refused];
        }
        self.set_idle(from);
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
            State::RingingIn { .. } => vec![
                Effect::Send {
                    to: other.clone(),
                    msg: Message::CallBack {
                        route: Route::new(from.as_str(), other.as_str()),
                        msg: DECLINE.into(),
                        reason: Some(reason(Reason::Declined)),
                    },
                },
                missed(&other, from, reason(Reason::Declined)),
            ],
            State::RingingOut { .. } => vec![
                hangup(from.as_str(), &other, reason(Reason::Cancelled), from),
                missed(from, &other, reason(Reason::Cancelled)),
            ],
            // A call that never got going: the callee accepted before its camera opened and
            // it could not (`no_media`), or no media path was found before the page's
            // deadline (`no_connection`). Either is a call missed, logged as one.
            State::InCall { caller, .. }
                if matches!(said, Some(Reason::NoMedia | Reason::NoConnection)) =>
            {
                let why = said.unwrap_or(Reason::HungUp);
                let (caller, callee) = if *caller {
                    (from, &other)
                } else {
                    (&other, from)
                };
                vec![
                    hangup(from.as_str(), &other, why, from),
                    missed(caller, callee, why),
                ]
            }
            _ => vec![hangup(from.as_str(), &other, reason(Reason::HungUp), from)],
        }
    }

    /// `offer`, `answer` and `_ice` pass only to the other party of the sender's call.
    fn relay(&mut self, from: &UserName, state: &State, mut msg: Message) -> Vec<Effect> {
        let with = match relay_target(from, state, msg.kind(), msg.route().to_user.as_deref()) {
            Ok(with) => with.clone(),
            Err(refused) => return vec![*refused],
        };
        *msg.route_mut() = Route::new(from.as_str(), with.as_str());
        vec![Effect::Send { to: with, msg }]
    }

    /// Who a `kind` frame (offer, answer, _ice) from `from`, addressed to `to_user`, goes
    /// to: the other party of their call. Otherwise the error for the sender. The hub's
    /// fast path for these frames (`relay.rs`) asks this instead of [`Calls::handle`].
    pub fn relay_to(
        &self,
        from: &UserName,
        kind: &str,
        to_user: Option<&str>,
    ) -> Result<&UserName, Box<Effect>> {
        match self.users.get(from) {
            Some(state) => relay_target(from, state, kind, to_user),
            // Not online: the handler only feeds frames of joined users.
            None => Err(Box::new(no_call(from, kind))),
        }
    }

    fn set_idle(&mut self, name: &UserName) {
        if let Some(state) = self.users.get_mut(name) {
            *state = State::Idle;
        }
    }
}

/// A `ring_offer` passes only from a caller to the callee their call is ringing.
fn ring_offer(caller: &UserName, state: &State, route: &Route, sdp: String) -> Vec<Effect> {
    let State::RingingOut { to, .. } = state else {
        let why = "ring_offer refused: you are not ringing anyone".to_owned();
        return vec![error(caller, ErrorCode::NoCall, why)];
    };
    if let Some(refused) = misaddressed(caller, route.to_user.as_deref(), to) {
        return vec![refused];
    }
    vec![Effect::Send {
        to: to.clone(),
        msg: Message::RingOffer {
            route: Route::new(caller.as_str(), to.as_str()),
            sdp,
        },
    }]
}

/// The other party of a ring or call, if any.
fn other_party(state: &State) -> Option<&UserName> {
    match state {
        State::Idle => None,
        State::RingingOut { to, .. } => Some(to),
        State::RingingIn { from } => Some(from),
        State::InCall { with, .. } => Some(with),
    }
}

/// The other party of `from`'s call, if a relayed frame may go to them.
fn relay_target<'s>(
    from: &UserName,
    state: &'s State,
    kind: &str,
    to_user: Option<&str>,
) -> Result<&'s UserName, Box<Effect>> {
    let State::InCall { with, .. } = state else {
        return Err(Box::new(no_call(from, kind)));
    };
    match misaddressed(from, to_user, with) {
        Some(refused) => Err(Box::new(refused)),
        None => Ok(with),
    }
}

/// Refuses a frame whose `toUser` names someone other than `other`, the sender's party.
/// No `toUser` is fine: the original server printed frames without one.
fn misaddressed(from: &UserName, to_user: Option<&str>, other: &UserName) -> Option<Effect> {
    let to = to_user?;
    (to != other.as_str()).then(|| {
        let why = format!("your call is with {other}, not {to}");
        error(from, ErrorCode::WrongPeer, why)
    })
}

/// server → `to`: `peer` ended the ring or call for `reason`.
fn hangup(sender: &str, to: &UserName, reason: Reason, peer: &UserName) -> Effect {
    Effect::Send {
        to: to.clone(),
        msg: Message::Hangup {
            route: Route::new(sender, to.as_str()),
            msg: Some(text::missed(reason, peer.as_str())),
            reason: Some(reason),
        },
    }
}

/// server → `caller`: the ring to `callee` failed for `reason`, as a `call_back` so an
/// original page shows the text.
fn refusal(caller: &UserName, reason: Reason, callee: &UserName) -> Effect {
    Effect::Send {
        to: caller.clone(),
        msg: Message::CallBack {
            route: Route::new(SYSTEM_USER, caller.as_str()),
            msg: text::ended(reason, callee.as_str()),
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

fn no_call(from: &UserName, kind: &str) -> Effect {
    let why = format!("{kind} refused: you have no call or ring in progress");
    error(from, ErrorCode::NoCall, why)
}

fn error(to: &UserName, code: ErrorCode, msg: String) -> Effect {
    Effect::Send {
        to: to.clone(),
        msg: Message::error(to, code, msg),
    }
}

#[cfg(test)]
mod tests;
