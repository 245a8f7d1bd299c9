//! This page's own camera and microphone: opening them and showing the preview.

use super::Controller;
use crate::client::js::{JsError, log};
use crate::client::media::LocalMedia;
use crate::phone::Ended;
use crate::protocol::Reason;
use crate::text;
use leptos::prelude::*;

impl Controller {
    /// Opens camera and microphone and shows the preview; on failure says so and returns None.
    pub(super) async fn open_media(&mut self) -> Option<LocalMedia> {
        let opened = LocalMedia::open().await;
        self.show_media(opened)
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
                self.view.status.set(text::NO_MEDIA_SELF.into());
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
