//! A local cargo registry built by the tests: deterministic `.crate` files and an index,
//! served through source replacement, with a private `CARGO_HOME` (nothing is downloaded).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A crate to publish into the local registry.
pub(crate) struct FakeCrate<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// `(dependency, requirement)` pairs.
    pub deps: &'a [(&'a str, &'a str)],
    pub lib: &'a str,
}

/// Builds `.crate` bytes: a gzipped tar of `name-version/{Cargo.toml,src/lib.rs}`, deterministic.
pub(crate) fn crate_bytes(krate: &FakeCrate<'_>) -> Vec<u8> {
    let mut manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"2021\"\n\n[dependencies]\n",
        krate.name, krate.version
    );
    for (dep, req) in krate.deps {
        manifest.push_str(&format!("{dep} = \"{req}\"\n"));
    }
    let mut builder = tar::Builder::new(Vec::new());
    for (path, text) in [("Cargo.toml", manifest.as_str()), ("src/lib.rs", krate.lib)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{}-{}/{path}", krate.name, krate.version),
                text.as_bytes(),
            )
            .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn index_path(name: &str) -> String {
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// Writes `registry/` (crates and index) and `.cargo/config.toml` into `workspace`.
pub(crate) fn publish(workspace: &Path, crates: &[FakeCrate<'_>]) {
    let registry = workspace.join("registry");
    for krate in crates {
        let bytes = crate_bytes(krate);
        let sha = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        std::fs::create_dir_all(&registry).unwrap();
        std::fs::write(
            registry.join(format!("{}-{}.crate", krate.name, krate.version)),
            &bytes,
        )
        .unwrap();
        let deps: Vec<serde_json::Value> = krate
            .deps
            .iter()
            .map(|(dep, req)| {
                serde_json::json!({"name": dep, "req": req, "features": [], "optional": false,
                    "default_features": true, "target": null, "kind": "normal"})
            })
            .collect();
        let line = serde_json::json!({"name": krate.name, "vers": krate.version, "deps": deps,
            "cksum": sha, "features": {}, "yanked": false});
        let index = registry.join("index").join(index_path(krate.name));
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(index)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
    std::fs::create_dir_all(workspace.join(".cargo")).unwrap();
    std::fs::write(
        workspace.join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"fixture-registry\"\n\n[source.fixture-registry]\nlocal-registry = \"registry\"\n",
    )
    .unwrap();
}

/// The private `CARGO_HOME` of a test workspace.
pub(crate) fn cargo_home(workspace: &Path) -> PathBuf {
    workspace.join("cargo-home")
}

/// Runs `cargo ARGS` offline in `dir` with the private `CARGO_HOME`.
pub(crate) fn cargo(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("cargo")
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_HOME", cargo_home(dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cargo-repro repro ARGS` in `dir` with the private `CARGO_HOME`.
pub(crate) fn repro(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .arg("repro")
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", cargo_home(dir))
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap()
}

/// The i18n-embed-fl 0.9 case: `app` depends on `age = "0.11"`, which depends on
/// `i18n-embed-fl = "0.9"`; age 0.12.0 moved to the fixed i18n-embed-fl 0.10.0.
pub(crate) fn i18n_workspace(dir: &Path) {
    let buggy = "//! Fake i18n-embed-fl.\n\npub fn fl(args: &[(&str, &str)]) -> String {\n    // upstream 0.9: arguments in HashMap order\n    let map: std::collections::HashMap<_, _> = args.iter().copied().collect();\n    map.iter().map(|(k, v)| format!(\"{k}={v}\")).collect::<Vec<_>>().join(\",\")\n}\n";
    let fixed = "//! Fake i18n-embed-fl.\n\npub fn fl(args: &[(&str, &str)]) -> String {\n    let mut args = args.to_vec();\n    args.sort();\n    args.iter().map(|(k, v)| format!(\"{k}={v}\")).collect::<Vec<_>>().join(\",\")\n}\n";
    publish(
        dir,
        &[
            FakeCrate {
                name: "i18n-embed-fl",
                version: "0.9.4",
                deps: &[],
                lib: buggy,
            },
            FakeCrate {
                name: "i18n-embed-fl",
                version: "0.10.0",
                deps: &[],
                lib: fixed,
            },
            FakeCrate {
                name: "age",
                version: "0.11.1",
                deps: &[("i18n-embed-fl", "0.9")],
                lib: "//! Fake age.\n",
            },
            FakeCrate {
                name: "age",
                version: "0.12.0",
                deps: &[("i18n-embed-fl", "0.10")],
                lib: "//! Fake age.\n",
            },
        ],
    );
    crate::support::write_files(
        dir,
        &[
            (
                "Cargo.toml",
                "# The wallet daemon.\n[package]\nname = \"app\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nage = \"0.11\"  # 0.12 needs a newer MSRV\n",
            ),
            ("src/lib.rs", "//! App.\n"),
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n"),
            (".gitignore", "/target\n/cargo-home\n"),
        ],
    );
    cargo(dir, &["generate-lockfile"]);
}

/// The pristine i18n-embed-fl 0.9.4 `src/lib.rs`.
pub(crate) fn pristine_lib(dir: &Path) -> String {
    let bytes = std::fs::read(dir.join("registry/i18n-embed-fl-0.9.4.crate")).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().ends_with("src/lib.rs") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            return text;
        }
    }
    panic!("no lib.rs in the crate");
}
