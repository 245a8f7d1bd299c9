//! Turning JavaScript failures into our own error type instead of `unwrap()`.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Something the browser refused, with what we were doing at the time.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct JsError {
    pub what: &'static str,
    /// The exception's name (e.g. `NotAllowedError`), when it has one.
    pub name: Option<String>,
    pub detail: String,
}

pub trait JsResultExt<T> {
    /// Names the step that failed.
    fn or_js(self, what: &'static str) -> Result<T, JsError>;
}

impl<T> JsResultExt<T> for Result<T, JsValue> {
    fn or_js(self, what: &'static str) -> Result<T, JsError> {
        self.map_err(|value| {
            let name = js_sys::Reflect::get(&value, &"name".into())
                .ok()
                .and_then(|n| n.as_string());
            let detail = match value.dyn_ref::<js_sys::Error>() {
                Some(err) => String::from(err.message()),
                None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
            };
            JsError { what, name, detail }
        })
    }
}

/// Awaits a promise, naming the step if it rejects.
pub async fn settle(promise: js_sys::Promise, what: &'static str) -> Result<JsValue, JsError> {
    JsFuture::from(promise).await.or_js(what)
}

/// Logs to the browser console: for developers, never the status line.
pub fn log(line: &str) {
    web_sys::console::log_1(&line.into());
}
