//! How long browsers may keep the static files. A release build names the client's WASM,
//! JS and CSS after a hash of their contents (`hash-files`, listed in `hash.txt`), so a
//! changed file is a new URL: those are cached for a year and never revalidated. Any other
//! file under the package directory (a dev build's unhashed bundle, wasm-bindgen snippets)
//! keeps its URL across builds and must be revalidated every time.
//!
//! The files themselves, and their brotli and gzip copies (`--precompress`), are served
//! by leptos_axum's fallback (tower-http's `ServeDir`), which picks by `Accept-Encoding`.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

const FOREVER: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The URL paths of the hashed files, e.g. `/pkg/duet.Xy3….wasm`.
#[derive(Clone, Debug, Default)]
pub struct Hashed(Arc<HashSet<String>>);

impl Hashed {
    /// Reads `hash.txt` where Leptos does (beside the executable, unless `hash_file` is
    /// an absolute path), if `hash_files` is on. Without it nothing is cached for long.
    pub fn of(options: &LeptosOptions) -> Self {
        if !options.hash_files {
            return Self::default();
        }
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(PathBuf::from))
            .unwrap_or_default();
        let path = exe_dir.join(options.hash_file.as_ref());
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, options),
            Err(err) => {
                tracing::warn!(
                    "hash_files is on but {} cannot be read: {err}",
                    path.display()
                );
                Self::default()
            }
        }
    }

    /// `hash.txt` has a `kind: hash` line for each of `js`, `wasm` and `css`.
    fn parse(text: &str, options: &LeptosOptions) -> Self {
        let paths = text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(kind, _)| matches!(kind.trim(), "js" | "wasm" | "css"))
            .map(|(kind, hash)| {
                format!(
                    "/{}/{}.{}.{}",
                    options.site_pkg_dir,
                    options.output_name,
                    hash.trim(),
                    kind.trim()
                )
            })
            .collect();
        Self(Arc::new(paths))
    }

    fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

/// Middleware: sets `Cache-Control` on the package directory's files.
pub async fn cache_control(
    hashed: Hashed,
    pkg_prefix: Arc<str>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let mut response = next.run(req).await;
    if response.status().is_success() {
        if hashed.contains(&path) {
            response.headers_mut().insert(CACHE_CONTROL, FOREVER);
        } else if path.starts_with(pkg_prefix.as_ref()) {
            response.headers_mut().insert(CACHE_CONTROL, REVALIDATE);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_file_lines_become_url_paths() {
        let options = LeptosOptions::builder().output_name("duet").build();
        let hashed = Hashed::parse("js: AbC\nwasm: dEf\ncss: Gh-_\nsplit: x\n\n", &options);
        for path in [
            "/pkg/duet.AbC.js",
            "/pkg/duet.dEf.wasm",
            "/pkg/duet.Gh-_.css",
        ] {
            assert!(hashed.contains(path), "{path}");
        }
        assert_eq!(hashed.0.len(), 3, "{hashed:?}");
    }
}
