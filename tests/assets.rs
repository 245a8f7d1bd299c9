//! The static site as a release build leaves it: WASM, JS and CSS named after their hashes
//! (listed in hash.txt), each with brotli and gzip copies. The page links the hashed names,
//! each file is sent compressed as the browser asks and may be cached for a year; a file
//! whose name does not change with its contents is revalidated every time.

mod common;

use axum::body::Body;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};
use axum::http::{Request, Response, StatusCode};
use common::{scratch_dir, test_settings};
use leptos::config::LeptosOptions;
use std::path::Path;
use tower::ServiceExt;

const HASH: &str = "Zq3-x_9Ab";

/// A site directory with a hashed bundle and its compressed copies, an unhashed snippet,
/// and the hash file naming the bundle; and the Leptos options that point at it.
fn release_site() -> LeptosOptions {
    let site = scratch_dir();
    let pkg = site.join("pkg");
    std::fs::create_dir_all(pkg.join("snippets")).expect("mkdir");
    for ext in ["wasm", "js", "css"] {
        let file = pkg.join(format!("duet.{HASH}.{ext}"));
        write(&file, &format!("raw {ext}"));
        write(
            &file.with_extension(format!("{ext}.br")),
            &format!("brotli {ext}"),
        );
        write(
            &file.with_extension(format!("{ext}.gz")),
            &format!("gzip {ext}"),
        );
    }
    write(&pkg.join("snippets/inline0.js"), "export function f() {}");
    let hash_file = site.join("hash.txt");
    write(
        &hash_file,
        &format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
    );
    LeptosOptions::builder()
        .output_name("duet")
        .site_root(site.to_string_lossy().as_ref())
        .hash_files(true)
        // Absolute, so Leptos finds it here rather than beside the test binary.
        .hash_file(hash_file.to_string_lossy().as_ref().into())
        .build()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

async fn get(options: &LeptosOptions, path: &str, encodings: &str) -> (Response<Body>, String) {
    let app = duet::server::router(test_settings(), options.clone()).expect("the router");
    let mut request = Request::get(path);
    if !encodings.is_empty() {
        request = request.header(ACCEPT_ENCODING, encodings);
    }
    let response = app
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("a response");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("the body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (Response::from_parts(parts, Body::empty()), text)
}

fn header<'a>(response: &'a Response<Body>, name: &axum::http::HeaderName) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_page_links_the_hashed_bundle() {
    let options = release_site();
    // The call page runs the WASM; every other page is plain HTML with the stylesheet.
    let (response, html) = get(&options, "/webrtc/alice.html", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    for file in ["css", "js", "wasm"] {
        let href = format!("/pkg/duet.{HASH}.{file}");
        assert!(html.contains(&href), "the call page names {href}:\n{html}");
    }
    let (response, html) = get(&options, "/", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(html.contains(&format!("/pkg/duet.{HASH}.css")), "{html}");
    for file in ["js", "wasm"] {
        let href = format!("/pkg/duet.{HASH}.{file}");
        assert!(
            !html.contains(&href),
            "the home page loads no script:\n{html}"
        );
    }
}

#[tokio::test]
async fn each_file_is_sent_compressed_as_asked_and_cached_for_a_year() {
    let options = release_site();
    for ext in ["wasm", "js", "css"] {
        let path = format!("/pkg/duet.{HASH}.{ext}");
        for (accept, encoding, body) in [
            (
                "gzip, deflate, br, zstd",
                Some("br"),
                format!("brotli {ext}"),
            ),
            ("gzip", Some("gzip"), format!("gzip {ext}")),
            ("", None, format!("raw {ext}")),
        ] {
            let (response, text) = get(&options, &path, accept).await;
            assert_eq!(response.status(), StatusCode::OK, "{path} ({accept})");
            assert_eq!(
                header(&response, &CONTENT_ENCODING),
                encoding,
                "{path} ({accept})"
            );
            assert_eq!(text, body, "{path} ({accept})");
            assert_eq!(
                header(&response, &CACHE_CONTROL),
                Some("public, max-age=31536000, immutable"),
                "{path} ({accept})"
            );
        }
    }
}

#[tokio::test]
async fn a_file_without_a_hash_is_revalidated() {
    let options = release_site();
    let (response, text) = get(&options, "/pkg/snippets/inline0.js", "br").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text, "export function f() {}");
    assert_eq!(header(&response, &CACHE_CONTROL), Some("no-cache"));
    let (missing, _) = get(&options, "/pkg/duet.old.wasm", "br").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&missing, &CACHE_CONTROL),
        None,
        "a 404 is not cached for a year"
    );
}
