//! One `RTCPeerConnection` for one call: created with the call, closed with it.

use super::js::{JsError, JsResultExt, settle};
use crate::protocol::{IceCandidate, IcePolicy, IceServer};
use futures::channel::mpsc::UnboundedSender;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceServer,
    RtcIceTransportPolicy, RtcOfferOptions, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState,
    RtcTrackEvent,
};

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
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            let stream = match ev.streams().get(0).dyn_into::<MediaStream>() {
                Ok(stream) => stream,
                // A track sent without a stream (some peers do): give it one.
                Err(_) => match MediaStream::new() {
                    Ok(stream) => {
                        stream.add_track(&ev.track());
                        stream
                    }
                    Err(_) => return,
                },
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

    /// Sends `tracks` of `stream` to the other side: before the offer is made or taken,
    /// so that it carries them.
    pub fn send(&self, stream: &MediaStream, tracks: impl Iterator<Item = MediaStreamTrack>) {
        for track in tracks {
            self.pc.add_track_0(&track, stream);
        }
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

    /// Takes the other side's offer and returns our answer's SDP.
    pub async fn answer(&self, offer: &str) -> Result<String, JsError> {
        self.set_remote(RtcSdpType::Offer, offer).await?;
        let answer = settle(self.pc.create_answer(), "createAnswer").await?;
        let sdp = sdp_of(&answer)?;
        self.set_local(RtcSdpType::Answer, &sdp).await?;
        Ok(sdp)
    }

    /// Takes the other side's answer to our offer.
    pub async fn accept(&self, answer: &str) -> Result<(), JsError> {
        self.set_remote(RtcSdpType::Answer, answer).await
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

    async fn set_remote(&self, kind: RtcSdpType, sdp: &str) -> Result<(), JsError> {
        let desc = RtcSessionDescriptionInit::new(kind);
        desc.set_sdp(sdp);
        settle(
            self.pc.set_remote_description(&desc),
            "setRemoteDescription",
        )
        .await
        .map(drop)
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
