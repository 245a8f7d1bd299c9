//! Page weight: the client's WASM, JS and CSS as the server has them to send: raw, and the
//! gzip and brotli copies (`cargo leptos build --release --precompress`) it serves instead.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Asset {
    pub file: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Weight {
    pub assets: Vec<Asset>,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// Weighs every `.wasm`, `.js` and `.css` under `pkg` (the site's package directory).
/// Each must have its `.gz` and `.br` beside it.
pub fn measure(pkg: &Path) -> Result<Weight, String> {
    let mut files = Vec::new();
    collect(pkg, &mut files)?;
    files.sort();
    let mut assets = Vec::new();
    for file in files {
        let size = |path: PathBuf| {
            std::fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let with = |ext: &str| PathBuf::from(format!("{}.{ext}", file.display()));
        assets.push(Asset {
            file: file
                .strip_prefix(pkg)
                .unwrap_or(&file)
                .display()
                .to_string(),
            raw: size(file.clone())?,
            gzip: size(with("gz"))?,
            brotli: size(with("br"))?,
        });
    }
    if !assets.iter().any(|a| a.file.ends_with(".wasm")) {
        return Err(format!(
            "no .wasm in {}: build the site first",
            pkg.display()
        ));
    }
    Ok(Weight {
        raw: assets.iter().map(|a| a.raw).sum(),
        gzip: assets.iter().map(|a| a.gzip).sum(),
        brotli: assets.iter().map(|a| a.brotli).sum(),
        assets,
    })
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, into)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js" | "css")
        ) {
            into.push(path);
        }
    }
    Ok(())
}
