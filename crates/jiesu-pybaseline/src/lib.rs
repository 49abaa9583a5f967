//! Benchmarks only: the reference implementations some benchmarks compare against are Python
//! packages (DuckDB for the scorecard, jieba + scikit-learn for classification). This finds a
//! Python interpreter that can import them, installing them into a venv in the cache directory when
//! it cannot — never into the product's build.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where benchmarks keep downloaded data, venvs and generated files: `$JIESU_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/jiesu`, else `~/.cache/jiesu`, else a folder in the temp directory.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("JIESU_CACHE_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("jiesu");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(h).join(".cache").join("jiesu");
    }
    std::env::temp_dir().join("jiesu-cache")
}

fn can_import(python: &Path, modules: &[&str]) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {}", modules.join(", "))])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A Python interpreter that can import `modules`: the venv `cache/venv_name` if it can, else
/// `python` itself, else after `pip install packages` into that venv (created if needed), else
/// after `pip install --user`. Fails with pip's messages if none works.
pub fn python_with(
    cache: &Path,
    python: &str,
    venv_name: &str,
    modules: &[&str],
    packages: &[&str],
) -> Result<PathBuf> {
    let venv = cache.join(venv_name);
    let venv_python = venv.join("bin").join("python");
    if can_import(&venv_python, modules) {
        return Ok(venv_python);
    }
    let system = PathBuf::from(python);
    if can_import(&system, modules) {
        return Ok(system);
    }
    eprintln!(
        "installing {} for the baseline into {} (benchmark only) …",
        packages.join(", "),
        venv.display()
    );
    let mut log = String::new();
    let mut run = |cmd: &mut Command| -> bool {
        match cmd.output() {
            Ok(o) if o.status.success() => true,
            Ok(o) => {
                log.push_str(&String::from_utf8_lossy(&o.stderr));
                false
            }
            Err(e) => {
                log.push_str(&format!("{e}\n"));
                false
            }
        }
    };
    if !venv_python.exists() {
        run(Command::new(python).args(["-m", "venv"]).arg(&venv));
    }
    if venv_python.exists()
        && run(Command::new(&venv_python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(packages))
        && can_import(&venv_python, modules)
    {
        return Ok(venv_python);
    }
    if run(Command::new(python)
        .args(["-m", "pip", "install", "--user", "--quiet"])
        .args(packages))
        && can_import(&system, modules)
    {
        return Ok(system);
    }
    bail!(
        "could not install {} for the baseline (tried a venv in {} and pip install --user):\n{log}",
        packages.join(", "),
        venv.display()
    )
}
