//! Copying text for a *Copy* button. The Clipboard API is reached through `Reflect`: it
//! exists only on secure pages (a LAN address over plain HTTP has none), and web-sys's
//! binding of it would need its unstable-API flag.

use super::js::{JsError, JsResultExt, log, settle};
use wasm_bindgen::JsCast;

/// Puts `text` on the clipboard, then calls `done` with whether that worked.
pub fn copy_text(text: &str, done: impl FnOnce(bool) + 'static) {
    let text = text.to_owned();
    leptos::task::spawn_local(async move {
        let result = write(&text).await;
        if let Err(err) = &result {
            log(&format!("cannot copy: {err}"));
        }
        done(result.is_ok());
    });
}

async fn write(text: &str) -> Result<(), JsError> {
    let missing = |what| JsError {
        what,
        name: None,
        detail: "not available on this page".into(),
    };
    let navigator = web_sys::window().ok_or(missing("window"))?.navigator();
    let clipboard =
        js_sys::Reflect::get(&navigator, &"clipboard".into()).or_js("navigator.clipboard")?;
    if clipboard.is_undefined() {
        return Err(missing("navigator.clipboard"));
    }
    let write_text: js_sys::Function = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .or_js("clipboard.writeText")?
        .dyn_into()
        .map_err(|_| missing("clipboard.writeText"))?;
    let promise: js_sys::Promise = write_text
        .call1(&clipboard, &text.into())
        .or_js("clipboard.writeText")?
        .dyn_into()
        .map_err(|_| missing("clipboard.writeText's promise"))?;
    settle(promise, "clipboard.writeText").await.map(|_| ())
}
