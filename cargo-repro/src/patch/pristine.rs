//! The pristine upstream release of a crate: found in cargo's cache (or a local registry),
//! fetched through cargo when missing, checked against its sha256, and unpacked in memory.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::tree::{IGNORED_FILES, Tree, TreeFile, sha256_hex};
use crate::workspace::source_file::io_reason;
use crate::workspace::{TomlFile, display_path_with_home, read_dir_sorted};

/// An upstream `.crate`, verified and unpacked.
#[derive(Debug)]
pub struct Pristine {
    /// sha256 of the `.crate` file.
    pub sha256: String,
    pub tree: Tree,
}

/// Where to look and how to fetch.
pub struct Sources<'a> {
    pub root: &'a Path,
    pub cargo_home: &'a Path,
    pub cargo_configs: &'a [TomlFile],
    pub offline: bool,
}

/// Finds (or fetches) `name-version.crate`, checks it against `expected_sha256` when given,
/// and unpacks it.
pub fn obtain(
    sources: &Sources<'_>,
    name: &str,
    version: &str,
    expected_sha256: Option<&str>,
) -> anyhow::Result<Pristine> {
    // Both become path segments (`name-version.crate`, the fetch workspace's manifest).
    crate::guard::paths::segment(name, "crate name", "the patched crate")?;
    crate::guard::paths::version(version, "version", &format!("the patched crate `{name}`"))?;
    let mut candidates = locate(sources, name, version);
    if candidates.is_empty() {
        fetch(sources, name, version)?;
        candidates = locate(sources, name, version);
    }
    let Some(first) = candidates.first() else {
        anyhow::bail!(
            "cannot find {name}-{version}.crate in cargo's cache after `cargo fetch`; check the crate name and version"
        );
    };
    let mut chosen = None;
    for path in &candidates {
        let bytes =
            crate::guard::read::read_bytes(path, crate::guard::read::LIMIT).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {}: it {}",
                    display_path_with_home(sources.root, sources.cargo_home, path),
                    e.reason()
                )
            })?;
        let sha256 = sha256_hex(&bytes);
        if expected_sha256.is_none_or(|expected| expected == sha256) {
            chosen = Some((path.clone(), bytes, sha256));
            break;
        }
    }
    let Some((path, bytes, sha256)) = chosen else {
        let shown = display_path_with_home(sources.root, sources.cargo_home, first);
        let actual = std::fs::read(first)
            .map(|b| sha256_hex(&b))
            .unwrap_or_default();
        anyhow::bail!(
            "{shown}: sha256 {actual} does not match Cargo.lock's checksum {} for {name} {version}; the crate file is corrupted: delete it and run the command again",
            expected_sha256.unwrap_or_default()
        );
    };
    let shown = display_path_with_home(sources.root, sources.cargo_home, &path);
    let tree = unpack(&bytes, name, version, &shown)?;
    Ok(Pristine { sha256, tree })
}

/// `.crate` files for `name-version` in cargo's download cache and in configured local registries.
fn locate(sources: &Sources<'_>, name: &str, version: &str) -> Vec<PathBuf> {
    let file = format!("{name}-{version}.crate");
    let mut found = Vec::new();
    for dir in
        read_dir_sorted(&sources.cargo_home.join("registry").join("cache")).unwrap_or_default()
    {
        let candidate = dir.join(&file);
        if candidate.is_file() {
            found.push(candidate);
        }
    }
    for config in sources.cargo_configs {
        let Some(source_tables) = config.root().get("source").and_then(|s| s.as_table_like())
        else {
            continue;
        };
        // `.cargo/config.toml` paths are relative to the directory holding `.cargo`.
        let base = config.cargo_config_base();
        for (_, source) in source_tables.iter() {
            if let Some(registry) = source.get("local-registry").and_then(|r| r.as_str()) {
                let candidate = base.join(registry).join(&file);
                if candidate.is_file() {
                    found.push(candidate);
                }
            }
        }
    }
    found
}

/// Makes cargo download the release, in a throwaway workspace under `target/` (so the
/// workspace's own source replacement applies and its `[patch]` does not).
fn fetch(sources: &Sources<'_>, name: &str, version: &str) -> anyhow::Result<()> {
    let parent = sources.root.join("target").join("cargo-repro");
    let cannot = |e: std::io::Error| {
        anyhow::anyhow!(
            "cannot create a directory in target/cargo-repro: {}",
            io_reason(&e)
        )
    };
    std::fs::create_dir_all(&parent).map_err(cannot)?;
    // A fresh directory of its own, removed when dropped: nothing that was there is touched.
    let scratch = tempfile::Builder::new()
        .prefix("fetch-")
        .tempdir_in(&parent)
        .map_err(cannot)?;
    let dir = scratch.path();
    std::fs::create_dir_all(dir.join("src")).map_err(cannot)?;
    let manifest = format!(
        "[package]\nname = \"cargo-repro-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\n{name} = \"={version}\"\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("src/lib.rs"), "")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec!["fetch"];
    if sources.offline {
        args.push("--offline");
    }
    let output = duct::cmd(cargo, args)
        .dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run();
    drop(scratch);
    let output = output.map_err(|e| anyhow::anyhow!("cannot run cargo: {}", io_reason(&e)))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("cargo fetch failed");
        let reason = crate::workspace::scrub_paths(
            reason.trim_start_matches("error: "),
            sources.root,
            sources.cargo_home,
        );
        anyhow::bail!("cannot fetch {name} {version}: {reason}");
    }
    Ok(())
}

/// Unpacks a `.crate` (a gzipped tar of `name-version/…`) into a tree.
pub fn unpack(bytes: &[u8], name: &str, version: &str, shown: &str) -> anyhow::Result<Tree> {
    let prefix = format!("{name}-{version}/");
    let bad = |why: String| {
        anyhow::anyhow!(
            "{shown}: {why}; the crate file is corrupted: delete it and run the command again"
        )
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut tree = Tree::default();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let Some(relative) = path.strip_prefix(&prefix) else {
            return Err(bad(format!(
                "entry `{}` is outside `{prefix}`",
                crate::guard::paths::shown(&path)
            )));
        };
        if relative
            .split('/')
            .any(|part| part == ".." || part.is_empty())
            || !crate::guard::paths::printable(relative)
        {
            return Err(bad(format!(
                "entry `{}` is not a plain relative path",
                crate::guard::paths::shown(&path)
            )));
        }
        if !kind.is_file() || IGNORED_FILES.contains(&relative) {
            continue;
        }
        let executable = entry
            .header()
            .mode()
            .map(|m| m & 0o111 != 0)
            .unwrap_or(false);
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| bad(e.to_string()))?;
        tree.files.insert(
            relative.to_string(),
            TreeFile {
                bytes: content,
                executable,
            },
        );
    }
    if tree.files.is_empty() {
        return Err(bad("it holds no files".to_string()));
    }
    Ok(tree)
}
