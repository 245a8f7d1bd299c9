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

/// Whether this page may open camera and microphone without the browser asking the
/// person: both granted already. False where the Permissions API is missing or does not
/// accept these names (older browsers know neither).
pub async fn allowed() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(permissions) = window.navigator().permissions() else {
        return false;
    };
    if permissions.is_undefined() {
        return false;
    }
    for name in ["camera", "microphone"] {
        let descriptor = js_sys::Object::new();
        if js_sys::Reflect::set(&descriptor, &"name".into(), &name.into()).is_err() {
            return false;
        }
        let asked = permissions.query(&descriptor).or_js("permissions.query");
        let state = match asked {
            Ok(promise) => settle(promise, "permissions.query")
                .await
                .ok()
                .and_then(|status| js_sys::Reflect::get(&status, &"state".into()).ok())
                .and_then(|state| state.as_string()),
            Err(_) => None,
        };
        if state.as_deref() != Some("granted") {
            return false;
        }
    }
    true
}

/// Asks the browser for audio, and video if `video`: the request is made now.
fn get_user_media(video: bool) -> Result<js_sys::Promise, JsError> {
    let devices = web_sys::window()
        .ok_or_else(no_window)?
        .navigator()
        .media_devices()
        .ok()
        // Browsers leave `navigator.mediaDevices` out of pages that are not secure.
        .filter(|devices| !devices.is_undefined())
        .ok_or_else(|| JsError {
            what: "getUserMedia",
            name: Some("SecurityError".into()),
            detail: "camera and microphone need a secure (https or localhost) page".into(),
        })?;
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
