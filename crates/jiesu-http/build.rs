//! Builds the web UI (`web/`, TypeScript + Vite) with npm so that `cargo build --release` yields a
//! complete `jiesu` binary with the UI embedded. Skipped when `JIESU_SKIP_UI=1` (then the binary
//! serves a page saying the UI was not built) or when `web/dist` is newer than every source file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn newest(dir: &Path, skip: &[&str]) -> std::time::SystemTime {
    let mut t = std::time::UNIX_EPOCH;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if skip.contains(&name.as_str()) {
                continue;
            }
            let m = if p.is_dir() {
                newest(&p, skip)
            } else {
                e.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH)
            };
            t = t.max(m);
        }
    }
    t
}

fn main() {
    let manifest = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR for build scripts"),
    );
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    println!("cargo:rerun-if-env-changed=JIESU_SKIP_UI");
    for f in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "public",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(f).display());
    }
    std::fs::create_dir_all(&dist).ok();
    if std::env::var("JIESU_SKIP_UI").as_deref() == Ok("1") || !web.join("package.json").exists() {
        return;
    }
    let src_time = newest(&web, &["node_modules", "dist", "tests"]);
    let dist_time = if dist.join("index.html").exists() {
        newest(&dist, &[])
    } else {
        std::time::UNIX_EPOCH
    };
    if dist_time > src_time {
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if !web.join("node_modules").exists() {
        let st = Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web)
            .status()
            .expect(
                "npm is needed to build the web UI (install Node.js 20+), or set JIESU_SKIP_UI=1",
            );
        assert!(st.success(), "npm ci failed in web/");
    }
    let st = Command::new(npm)
        .args(["run", "build"])
        .current_dir(&web)
        .status()
        .expect("npm run build");
    assert!(st.success(), "npm run build failed in web/");
}
