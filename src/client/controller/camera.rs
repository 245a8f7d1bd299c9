//! This page's own camera and microphone: asking for them without holding up the page,
//! taking them into the ring or call they were asked for, showing the preview, and saying
//! why they could not be opened.

use super::line::Line;
use super::{Controller, hangup};
use crate::client::js::{JsError, log};
use crate::client::media::{self, LocalMedia};
use crate::phone::Ended;
use crate::protocol::Reason;
use crate::text::words;
use leptos::prelude::*;

/// What a request for the camera came back with: the media, why it could not be opened,
/// or `None` when it was not asked for because the browser would have asked the person.
pub(super) type Opened = Option<Result<LocalMedia, JsError>>;

impl Controller {
    /// Opens camera and microphone without waiting for them: [`Controller::on_camera`]
    /// gets them, or why they could not be opened. Meanwhile the page goes on: a
    /// permission prompt can take the person minutes.
    pub(super) fn open_camera(&mut self) {
        self.ask_camera(false);
    }

    /// [`Controller::open_camera`] if the browser lets this page open them without asking
    /// the person; otherwise [`Controller::on_camera`] gets `None`.
    pub(super) fn open_camera_if_allowed(&mut self) {
        self.ask_camera(true);
    }

    fn ask_camera(&mut self, only_if_allowed: bool) {
        self.camera += 1;
        let (camera, opened) = (self.camera, self.opened.clone());
        // Asked now, not when the task first runs: work that follows (answering a call)
        // does not hold the camera up.
        let opening = (!only_if_allowed).then(LocalMedia::open);
        leptos::task::spawn_local(async move {
            let media = match opening {
                Some(opening) => Some(opening.await),
                None if media::allowed().await => Some(LocalMedia::open().await),
                None => None,
            };
            // If the page is gone by now, dropping the media closes it again.
            let _ = opened.unbounded_send((camera, media));
        });
    }

    /// The camera (and microphone) asked for by [`Controller::ask_camera`] opened, could
    /// not be opened, or was not asked for.
    pub(super) async fn on_camera(&mut self, camera: u32, opened: Opened) {
        // A camera for a ring or call that has ended: dropping it closes it.
        if camera != self.camera {
            return;
        }
        match (&self.call, opened) {
            (Line::OpeningCamera { .. }, Some(opened)) => {
                let Line::OpeningCamera { to } = std::mem::replace(&mut self.call, Line::None)
                else {
                    return;
                };
                match self.show_media(opened) {
                    Some(media) => self.ring_out(to, media).await,
                    None => self.show_phase(),
                }
            }
            (Line::RingingIn { media: None, .. }, opened) => {
                // Kept for Accept; a failure is only noted, as the person has not answered.
                let opened = opened.unwrap_or_else(|| {
                    Err(JsError {
                        what: "camera",
                        name: None,
                        detail: "not allowed yet, so asked for on Accept".into(),
                    })
                });
                match &opened {
                    Ok(media) => self.preview(media),
                    Err(err) => log(&format!("no camera or microphone while it rings: {err}")),
                }
                if let Line::RingingIn { media, .. } = &mut self.call {
                    *media = Some(opened);
                }
                self.prepare_answer().await;
            }
            // Accepted before the browser said whether it would ask: ask now.
            (Line::InCall { media: None, .. }, None) => self.open_camera(),
            (Line::InCall { media: None, .. }, Some(opened)) => self.join_call(opened).await,
            _ => {}
        }
    }

    /// The callee's camera, opened after Accept, goes into the call; without one, the
    /// call ends and the caller is told why.
    async fn join_call(&mut self, opened: Result<LocalMedia, JsError>) {
        let Line::InCall { with, .. } = &self.call else {
            return;
        };
        let with = with.clone();
        let Some(media) = self.show_media(opened) else {
            // Say why, so the caller is not left wondering.
            self.send(hangup(&with, Some(Reason::NoMedia)));
            self.drop_call();
            self.show_phase();
            return;
        };
        let Line::InCall {
            media: slot, peer, ..
        } = &mut self.call
        else {
            return;
        };
        let media = slot.insert(media);
        let sent = match peer {
            Some(peer) => peer.send(&media.stream, media.tracks()).await,
            None => Ok(()),
        };
        if let Err(err) = sent {
            self.fail(err);
        }
    }

    /// Shows the opened camera's preview, or says why it could not be opened.
    pub(super) fn show_media(&mut self, opened: Result<LocalMedia, JsError>) -> Option<LocalMedia> {
        match opened {
            Ok(media) => {
                self.preview(&media);
                Some(media)
            }
            Err(err) => {
                log(&format!("no camera or microphone: {err}"));
                self.view.ended.set(Some(Ended::Remote(Reason::NoMedia)));
                self.view.status.set(why_no_media(&err).into());
                None
            }
        }
    }

    /// Shows our own camera in the small tile (or says it is audio only).
    pub(super) fn preview(&self, media: &LocalMedia) {
        self.view.audio_only.set(!media.has_video);
        self.show(&self.screens.local, Some(&media.stream));
    }
}

/// What the person can do about a camera that would not open, by the browser's
/// `DOMException` name.
fn why_no_media(err: &JsError) -> &'static str {
    match err.name.as_deref() {
        Some("NotAllowedError") => words().camera_blocked,
        Some("NotReadableError" | "AbortError") => words().camera_in_use,
        Some("NotFoundError" | "OverconstrainedError") => words().camera_missing,
        Some("SecurityError") => words().camera_insecure,
        _ => words().no_media_self,
    }
}
