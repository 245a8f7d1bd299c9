//! Camera and microphone: opened for one call, every track stopped when it ends.

use super::js::{JsError, JsResultExt, log, settle};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

/// This page's own camera and microphone for one call. Dropping it stops every track, so
/// the camera light goes off however the call ends.
pub struct LocalMedia {
    pub stream: MediaStream,
    /// False when only a microphone could be opened.
    pub has_video: bool,
}

impl LocalMedia {
    /// Opens camera and microphone; without a usable camera, the microphone alone. The
    /// browser is asked at once, not when the future is first polled, so work started
    /// right after this (answering a call) does not hold the camera up.
    pub fn open() -> impl Future<Output = Result<Self, JsError>> {
        let asked = get_user_media(true);
        async move {
            match settle_stream(asked).await {
                Ok(stream) => Ok(Self {
                    stream,
                    has_video: true,
                }),
                Err(video_err) => {
                    log(&format!(
                        "camera unavailable, trying audio only: {video_err}"
                    ));
                    let stream = settle_stream(get_user_media(false)).await?;
                    Ok(Self {
                        stream,
                        has_video: false,
                    })
                }
            }
        }
    }

    pub fn tracks(&self) -> impl Iterator<Item = MediaStreamTrack> {
        self.stream
            .get_tracks()
            .into_iter()
            .filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
    }
}

impl Drop for LocalMedia {
    fn drop(&mut self) {
        for track in self.tracks() {
            track.stop();
        }
    }
}

/// Asks the browser for audio, and video if `video`: the request is made now.
fn get_user_media(video: bool) -> Result<js_sys::Promise, JsError> {
    let devices = web_sys::window()
        .ok_or_else(no_window)?
        .navigator()
        .media_devices()
        .or_js("camera and microphone need a secure (https or localhost) page")?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    constraints.set_video(&JsValue::from_bool(video));
    devices
        .get_user_media_with_constraints(&constraints)
        .or_js("getUserMedia")
}

async fn settle_stream(asked: Result<js_sys::Promise, JsError>) -> Result<MediaStream, JsError> {
    settle(asked?, "getUserMedia")
        .await?
        .dyn_into::<MediaStream>()
        .or_js("getUserMedia result")
}

fn no_window() -> JsError {
    JsError {
        what: "window",
        name: None,
        detail: "not running in a browser window".into(),
    }
}
