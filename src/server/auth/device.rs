//! A signed-in browser's description for `/account`, from its User-Agent: enough for a
//! person to tell their phone from their laptop ("Firefox on Android"), nothing more kept.

/// "BROWSER on SYSTEM" for `user_agent`, or the start of it when neither is known.
pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown browser".to_owned();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find_map(|(mark, name)| ua.contains(mark).then_some(name));
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find_map(|(mark, name)| ua.contains(mark).then_some(name));
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => ua.chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn browsers_and_systems_are_named() {
        let chrome_android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
        assert_eq!(describe(Some(chrome_android)), "Chrome on Android");
        let firefox_linux =
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe(Some(firefox_linux)), "Firefox on Linux");
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
             AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(Some(safari_iphone)), "Safari on iOS");
        assert_eq!(describe(None), "Unknown browser");
        assert_eq!(describe(Some("curl/8")), "curl/8");
    }
}
