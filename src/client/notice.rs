//! The system notification of a ring, for a person whose tab is in the background. It is
//! shown only where they allowed notifications; the permission is asked for on a click
//! of *Video call*, as browsers want a person's gesture behind the prompt.

use super::js::log;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// A ring's notification, closed when dropped (the ring was answered, declined, cancelled
/// or missed). A click on it brings the page to the front.
pub struct RingNotice {
    notification: Notification,
    _on_click: Closure<dyn Fn()>,
}

impl RingNotice {
    /// Shows `title` if the page is hidden and notifications are allowed; else `None`.
    pub fn show(title: &str, body: &str) -> Option<Self> {
        let window = web_sys::window()?;
        let hidden = window.document().is_some_and(|d| d.hidden());
        if !hidden || permission()? != NotificationPermission::Granted {
            return None;
        }
        let options = NotificationOptions::new();
        options.set_body(body);
        // One ring at a time: a new one replaces an old one left behind.
        options.set_tag("duet-ring");
        options.set_require_interaction(true);
        let notification = Notification::new_with_options(title, &options)
            // Chrome on Android shows notifications only through a service worker.
            .map_err(|err| log(&format!("cannot show the ring's notification: {err:?}")))
            .ok()?;
        let on_click = Closure::<dyn Fn()>::new(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
            }
        });
        notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
        Some(Self {
            notification,
            _on_click: on_click,
        })
    }
}

impl Drop for RingNotice {
    fn drop(&mut self) {
        self.notification.set_onclick(None);
        self.notification.close();
    }
}

/// Asks the person whether this page may show notifications, if it has not been asked
/// before. Must run while a click is being handled.
pub fn ask_permission() {
    if permission() == Some(NotificationPermission::Default)
        && let Err(err) = Notification::request_permission()
    {
        log(&format!("cannot ask for notifications: {err:?}"));
    }
}

/// The page's notification permission; `None` where the browser has no notifications.
fn permission() -> Option<NotificationPermission> {
    let window = web_sys::window()?;
    // `Notification.permission` throws where `Notification` is missing (iOS Safari tabs).
    let present = js_sys::Reflect::has(&window, &"Notification".into()).unwrap_or(false);
    present.then(Notification::permission)
}
