//! One `RTCPeerConnection` for one call: created with the call, closed with it.

use super::js::{JsError, JsResultExt, log, settle};
use crate::protocol::{IceCandidate, IcePolicy, IceServer};
use futures::channel::mpsc::UnboundedSender;
use wasm_bindgen::prelude::{Closure, wasm_bindgen};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceServer,
    RtcIceTransportPolicy, RtcOfferOptions, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpSender, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

#[wasm_bindgen]
extern "C" {
    /// An `RTCRtpSender`, for `setStreams()`, which web-sys does not bind.
    #[wasm_bindgen(js_name = RTCRtpSender)]
    type StreamSender;
    /// Throws where a browser lacks it, hence `catch`.
    #[wasm_bindgen(method, catch, js_name = setStreams)]
    fn set_streams(this: &StreamSender, stream: &MediaStream) -> Result<(), JsValue>;
}

/// What the connection reports, tagged with the call it belongs to.
pub enum PeerEvent {
    /// A local ICE candidate to trickle to the other side.
    Candidate(IceCandidate),
    /// The other side's media arrived.
    RemoteStream(MediaStream),
    State(RtcPeerConnectionState),
    /// The connection wants a new offer (after `restartIce()`, say).
    NegotiationNeeded,
}

/// Tells the events of one call's connection from a previous call's, still queued.
pub type Generation = u32;

/// The peer connection and the callbacks it calls; dropping it detaches them and closes it.
pub struct Peer {
    pc: RtcPeerConnection,
    _on_ice: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_state: Closure<dyn FnMut(web_sys::Event)>,
    _on_negotiation: Closure<dyn FnMut(web_sys::Event)>,
}

impl Peer {
    /// A connection reporting to `events`, sending nothing yet (see [`Peer::send`]). It
    /// gathers no candidates and contacts nobody until it makes or takes an offer.
    pub fn new(
        ice_servers: &[IceServer],
        policy: IcePolicy,
        generation: Generation,
        events: UnboundedSender<(Generation, PeerEvent)>,
    ) -> Result<Self, JsError> {
        let pc = RtcPeerConnection::new_with_configuration(&configuration(ice_servers, policy))
            .or_js("RTCPeerConnection")?;

        let tx = events.clone();
        let on_ice = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |ev: RtcPeerConnectionIceEvent| {
                // A null candidate means gathering finished: nothing to send.
                if let Some(c) = ev.candidate() {
                    let candidate = IceCandidate {
                        candidate: c.candidate(),
                        sdp_mid: c.sdp_mid(),
                        sdp_m_line_index: c.sdp_m_line_index(),
                    };
                    let _ = tx.unbounded_send((generation, PeerEvent::Candidate(candidate)));
                }
            },
        );
        pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));

        let tx = events.clone();
        // Tracks sent without a stream (a browser without `setStreams`, see `send_later`)
        // are gathered into one, so the picture and the sound play together.
        let mut loose: Option<MediaStream> = None;
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            let stream = match ev.streams().get(0).dyn_into::<MediaStream>() {
                Ok(stream) => stream,
                Err(_) => {
                    let stream = match &loose {
                        Some(stream) => stream.clone(),
                        None => match MediaStream::new() {
                            Ok(stream) => loose.insert(stream).clone(),
                            Err(_) => return,
                        },
                    };
                    stream.add_track(&ev.track());
                    stream
                }
            };
            let _ = tx.unbounded_send((generation, PeerEvent::RemoteStream(stream)));
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let tx = events.clone();
        let watched = pc.clone();
        let on_state = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = tx.unbounded_send((generation, PeerEvent::State(watched.connection_state())));
        });
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let tx = events;
        let on_negotiation = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = tx.unbounded_send((generation, PeerEvent::NegotiationNeeded));
        });
        pc.set_onnegotiationneeded(Some(on_negotiation.as_ref().unchecked_ref()));

        Ok(Self {
            pc,
            _on_ice: on_ice,
            _on_track: on_track,
            _on_state: on_state,
            _on_negotiation: on_negotiation,
        })
    }

    /// Sends `tracks` of `stream` to the other side. Until we have answered they are
    /// added, and the offer or answer carries them (added to a taken offer, they take the
    /// places it opened for their kind). After an answer made with `media_pending` they go
    /// into the places that answer promised, with no new offer; a track the answer made no
    /// place for is not sent.
    pub async fn send(
        &self,
        stream: &MediaStream,
        tracks: impl Iterator<Item = MediaStreamTrack>,
    ) -> Result<(), JsError> {
        let answered = self.pc.remote_description().is_some() && !self.offered();
        for track in tracks {
            if self.sends(&track) {
                // Adding it again would throw.
                continue;
            }
            if !answered {
                self.pc.add_track_0(&track, stream);
            } else if let Some(sender) = self.waiting_sender(&track.kind()) {
                settle(sender.replace_track(Some(&track)), "replaceTrack").await?;
            } else {
                log(&format!(
                    "the call has no place for our {} track",
                    track.kind()
                ));
            }
        }
        Ok(())
    }

    /// `track` is already in the connection.
    fn sends(&self, track: &MediaStreamTrack) -> bool {
        self.pc.get_senders().into_iter().any(|s| {
            s.dyn_into::<RtcRtpSender>()
                .ok()
                .and_then(|s| s.track())
                .is_some_and(|t| t.id() == track.id())
        })
    }

    /// A sender of this kind that the answer promised would send but has no track yet.
    fn waiting_sender(&self, kind: &str) -> Option<RtcRtpSender> {
        self.transceivers()
            .find(|t| {
                !t.stopped()
                    && t.direction() == RtcRtpTransceiverDirection::Sendrecv
                    && t.sender().track().is_none()
                    && t.receiver().track().kind() == kind
            })
            .map(|t| t.sender())
    }

    fn transceivers(&self) -> impl Iterator<Item = RtcRtpTransceiver> {
        self.pc
            .get_transceivers()
            .into_iter()
            .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
    }

    /// Makes every place the offer opened, that has no track yet, send as well as receive,
    /// all as one stream. The answer then promises media that [`Peer::send`] fills in
    /// when the camera opens, so the connection is made while it opens. A place no track
    /// turns up for (no camera after all) sends nothing.
    fn send_later(&self) -> Result<(), JsError> {
        let stream = MediaStream::new().or_js("MediaStream")?;
        for transceiver in self.transceivers() {
            let sender = transceiver.sender();
            if transceiver.stopped()
                || sender.track().is_some()
                || transceiver.direction() != RtcRtpTransceiverDirection::Recvonly
            {
                continue;
            }
            transceiver.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            // Without it the other side gets the tracks without a stream; a duet page
            // joins them itself (see `on_track`).
            if let Err(err) = sender
                .unchecked_ref::<StreamSender>()
                .set_streams(&stream)
                .or_js("setStreams")
            {
                log(&format!("tracks will arrive without a stream: {err}"));
            }
        }
        Ok(())
    }

    /// Swaps in fresh ICE servers (renewed TURN credentials) for later gathering.
    pub fn use_ice_servers(
        &self,
        ice_servers: &[IceServer],
        policy: IcePolicy,
    ) -> Result<(), JsError> {
        self.pc
            .set_configuration_with_configuration(&configuration(ice_servers, policy))
            .or_js("setConfiguration")
    }

    /// The first offer and answer have been exchanged and nothing is in flight: a new
    /// offer now renegotiates a running call.
    pub fn negotiated(&self) -> bool {
        self.pc.remote_description().is_some()
            && self.pc.signaling_state() == RtcSignalingState::Stable
    }

    /// An offer that restarts ICE (new credentials, fresh candidates): how a call finds a
    /// new path after the network changed.
    pub async fn restart_offer(&self) -> Result<String, JsError> {
        let options = RtcOfferOptions::new();
        options.set_ice_restart(true);
        let offer = settle(
            self.pc.create_offer_with_rtc_offer_options(&options),
            "createOffer (ICE restart)",
        )
        .await?;
        let sdp = sdp_of(&offer)?;
        self.set_local(RtcSdpType::Offer, &sdp).await?;
        Ok(sdp)
    }

    /// The local description as it stands now: with an `a=candidate` line for every
    /// candidate gathered so far.
    pub fn local_sdp(&self) -> Option<String> {
        self.pc.local_description().map(|d| d.sdp())
    }

    /// Creates the offer, makes it the local description, and returns its SDP.
    pub async fn offer(&self) -> Result<String, JsError> {
        let offer = settle(self.pc.create_offer(), "createOffer").await?;
        let sdp = sdp_of(&offer)?;
        self.set_local(RtcSdpType::Offer, &sdp).await?;
        Ok(sdp)
    }

    /// Takes the other side's offer, to answer it now or later ([`Peer::answer`]). Taking
    /// it gathers nothing and tells the other side nothing.
    pub async fn take_offer(&self, offer: &str) -> Result<(), JsError> {
        self.set_remote(RtcSdpType::Offer, offer).await
    }

    /// An offer has been taken and not answered yet.
    pub fn offered(&self) -> bool {
        self.pc.signaling_state() == RtcSignalingState::HaveRemoteOffer
    }

    /// `offer` is the offer already taken, perhaps with candidates added since: the same
    /// session and version (its `o=` line).
    pub fn took(&self, offer: &str) -> bool {
        let origin = |sdp: &str| sdp.lines().find(|l| l.starts_with("o=")).map(str::to_owned);
        let taken = self.pc.remote_description().and_then(|d| origin(&d.sdp()));
        taken.is_some_and(|taken| Some(taken) == origin(offer))
    }

    /// Adds the candidates written into `sdp`, each with its section's `mid`: those of an
    /// offer taken before they were gathered. One that does not fit is skipped.
    pub async fn add_candidates_in(&self, sdp: &str) {
        let mut section: Option<u16> = None;
        let mut mid: Option<String> = None;
        for line in sdp.lines() {
            if line.starts_with("m=") {
                section = Some(section.map_or(0, |s| s + 1));
                mid = None;
            } else if let Some(value) = line.strip_prefix("a=mid:") {
                mid = Some(value.to_owned());
            } else if let Some(candidate) = line.strip_prefix("a=") {
                if !candidate.starts_with("candidate:") || section.is_none() {
                    continue;
                }
                let c = IceCandidate {
                    candidate: candidate.to_owned(),
                    sdp_mid: mid.clone(),
                    sdp_m_line_index: section,
                };
                if let Err(err) = self.add_candidate(&c).await {
                    log(&format!("skipping an ICE candidate: {err}"));
                }
            }
        }
    }

    /// Answers the offer taken and returns the answer's SDP. `media_pending`: our camera
    /// is still opening; answer as if it were open (see `send_later`).
    pub async fn answer(&self, media_pending: bool) -> Result<String, JsError> {
        if media_pending {
            self.send_later()?;
        }
        let answer = settle(self.pc.create_answer(), "createAnswer").await?;
        let sdp = sdp_of(&answer)?;
        self.set_local(RtcSdpType::Answer, &sdp).await?;
        Ok(sdp)
    }

    /// Our answer, if one is the local description: as it stands now, with an
    /// `a=candidate` line for every candidate gathered so far.
    pub fn local_answer(&self) -> Option<String> {
        self.pc
            .local_description()
            .filter(|d| d.type_() == RtcSdpType::Answer)
            .map(|d| d.sdp())
    }

    /// Takes the other side's answer to our offer (at once, see `set_remote`), so the
    /// page can do other work while the browser takes it.
    pub fn accept(&self, answer: &str) -> impl Future<Output = Result<(), JsError>> + 'static {
        self.set_remote(RtcSdpType::Answer, answer)
    }

    pub async fn add_candidate(&self, c: &IceCandidate) -> Result<(), JsError> {
        let init = RtcIceCandidateInit::new(&c.candidate);
        init.set_sdp_mid(c.sdp_mid.as_deref());
        init.set_sdp_m_line_index(c.sdp_m_line_index);
        let promise = self
            .pc
            .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
        settle(promise, "addIceCandidate").await.map(drop)
    }

    async fn set_local(&self, kind: RtcSdpType, sdp: &str) -> Result<(), JsError> {
        let desc = RtcSessionDescriptionInit::new(kind);
        desc.set_sdp(sdp);
        settle(self.pc.set_local_description(&desc), "setLocalDescription")
            .await
            .map(drop)
    }

    /// The browser is given `sdp` at once, before the returned future is first polled.
    fn set_remote(
        &self,
        kind: RtcSdpType,
        sdp: &str,
    ) -> impl Future<Output = Result<(), JsError>> + 'static {
        let desc = RtcSessionDescriptionInit::new(kind);
        desc.set_sdp(sdp);
        let taking = self.pc.set_remote_description(&desc);
        async move { settle(taking, "setRemoteDescription").await.map(drop) }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_onnegotiationneeded(None);
        self.pc.close();
    }
}

/// `sdp` without its candidate lines: what may go out before the other side accepts,
/// as it names none of this machine's addresses.
pub fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|line| {
            !line.starts_with("a=candidate:") && !line.starts_with("a=end-of-candidates")
        })
        .collect()
}

/// An `RTCConfiguration` with these servers and policy.
pub fn configuration(ice_servers: &[IceServer], policy: IcePolicy) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    config.set_ice_servers(&ice_server_list(ice_servers));
    if policy == IcePolicy::Relay {
        config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    config
}

fn ice_server_list(servers: &[IceServer]) -> js_sys::Array {
    servers
        .iter()
        .map(|s| {
            let server = RtcIceServer::new();
            let urls: js_sys::Array = s.urls.iter().map(|u| JsValue::from_str(u)).collect();
            server.set_urls(&urls);
            if let Some(username) = &s.username {
                server.set_username(username);
            }
            if let Some(credential) = &s.credential {
                server.set_credential(credential);
            }
            JsValue::from(server)
        })
        .collect()
}

fn sdp_of(description: &JsValue) -> Result<String, JsError> {
    js_sys::Reflect::get(description, &"sdp".into())
        .or_js("session description")?
        .as_string()
        .ok_or(JsError {
            what: "session description",
            name: None,
            detail: "no sdp".into(),
        })
}
