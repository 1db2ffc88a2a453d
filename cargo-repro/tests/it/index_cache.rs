//! `patch-obsolete` against registry indexes that cargo itself wrote: a sparse registry served
//! over HTTP on localhost to a private `CARGO_HOME` (cargo keeps what it fetched in
//! `registry/index/<dir>/.cache`), and a local registry. Nothing leaves the machine.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::registry::{FakeCrate, crate_bytes, i18n_workspace};
use crate::support::{json, outside_dir, run_in_with_env, stderr, write_files};

/// The crates of the i18n-embed-fl case: age 0.12.0 depends on the fixed i18n-embed-fl 0.10.
const CRATES: &[FakeCrate<'static>] = &[
    FakeCrate {
        name: "i18n-embed-fl",
        version: "0.9.4",
        deps: &[],
        lib: "//! Fake i18n-embed-fl 0.9.\n",
    },
    FakeCrate {
        name: "i18n-embed-fl",
        version: "0.10.0",
        deps: &[],
        lib: "//! Fake i18n-embed-fl 0.10.\n",
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
];

/// A sparse registry in `root`: `index/config.json`, the index files and `crates/*.crate`.
fn write_sparse_registry(root: &Path, port: u16) {
    write_files(
        root,
        &[(
            "index/config.json",
            &format!("{{\"dl\": \"http://127.0.0.1:{port}/crates/{{crate}}-{{version}}.crate\"}}"),
        )],
    );
    for krate in CRATES {
        let bytes = crate_bytes(krate);
        let cksum: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::create_dir_all(root.join("crates")).unwrap();
        std::fs::write(
            root.join(format!("crates/{}-{}.crate", krate.name, krate.version)),
            &bytes,
        )
        .unwrap();
        let deps: Vec<serde_json::Value> = krate
            .deps
            .iter()
            .map(|(dep, req)| {
                serde_json::json!({"name": dep, "req": format!("^{req}"), "features": [],
                    "optional": false, "default_features": true, "target": null,
                    "kind": "normal"})
            })
            .collect();
        let line = serde_json::json!({"name": krate.name, "vers": krate.version, "deps": deps,
            "cksum": cksum, "features": {}, "yanked": false});
        let name = krate.name;
        let path = match name.len() {
            1..=2 => format!("{}/{name}", name.len()),
            3 => format!("3/{}/{name}", &name[..1]),
            _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
        };
        let path = root.join("index").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
}

/// Serves the files under `root` over HTTP/1.1 on an unused localhost port, one connection at
/// a time, closing each after its response. Returns the port and a count of the requests.
fn serve(root: PathBuf) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // The headers, up to the blank line.
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let file = (!path.contains(".."))
                .then(|| root.join(path.trim_start_matches('/')))
                .filter(|file| file.is_file());
            let response = match file {
                Some(file) => {
                    let body = std::fs::read(file).unwrap();
                    let mut head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"{}\"\r\nConnection: close\r\n\r\n",
                        body.len(),
                        body.len()
                    )
                    .into_bytes();
                    head.extend_from_slice(&body);
                    head
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    (port, requests)
}

/// Runs cargo (with the network, which here is only localhost) in `dir` with `cargo_home`.
fn cargo_online(dir: &Path, cargo_home: &Path, args: &[&str]) {
    let out = std::process::Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", cargo_home)
        .env_remove("CARGO_NET_OFFLINE")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env("no_proxy", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The workspace of the case: age 0.11 with a vendored i18n-embed-fl 0.9.4 patched in.
fn patched_workspace(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nage = \"0.11.1\"\n\n[patch.crates-io]\ni18n-embed-fl = { path = \"vendor/i18n-embed-fl\" }\n",
            ),
            ("src/lib.rs", "//! App.\n"),
            (
                "vendor/i18n-embed-fl/Cargo.toml",
                "[package]\nname = \"i18n-embed-fl\"\nversion = \"0.9.4\"\nedition = \"2021\"\n",
            ),
            (
                "vendor/i18n-embed-fl/src/lib.rs",
                "//! Vendored i18n-embed-fl 0.9.4, arguments sorted.\n",
            ),
        ],
    );
}

/// The `patch-obsolete` findings of `check --offline` in `dir`, with `cargo_home`.
fn obsolete_findings(dir: &Path, cargo_home: &Path) -> Vec<serde_json::Value> {
    let args = [
        "check",
        "--offline",
        "--only",
        "patch-obsolete",
        "--format",
        "json",
    ];
    let out = run_in_with_env(dir, &args, &[("CARGO_HOME", cargo_home.to_str().unwrap())]);
    let report = json(&out);
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
    report["findings"].as_array().unwrap().clone()
}

#[test]
fn patch_obsolete_reads_the_sparse_index_cache_cargo_wrote() {
    let dir = outside_dir("index-cache-sparse");
    let served = dir.join("served");
    let (port, requests) = serve(served.clone());
    write_sparse_registry(&served, port);
    let ws = dir.join("ws");
    patched_workspace(&ws);
    // CARGO_HOME is outside the workspace, and the replacement lives in its config, as a
    // mirror set up for a machine would.
    let cargo_home = dir.join("cargo-home");
    write_files(
        &cargo_home,
        &[(
            "config.toml",
            &format!(
                "[source.crates-io]\nreplace-with = \"local-sparse\"\n\n[source.local-sparse]\nregistry = \"sparse+http://127.0.0.1:{port}/index/\"\n"
            ),
        )],
    );
    cargo_online(&ws, &cargo_home, &["generate-lockfile"]);
    cargo_online(&ws, &cargo_home, &["fetch"]);

    // Cargo wrote its own cache entries (cache version 3) under `.cache`, not `cache`.
    let index_dirs: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(index_dirs.len(), 1, "{index_dirs:?}");
    let dir_name = index_dirs[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(dir_name.starts_with("127.0.0.1-"), "{dir_name}");
    let entry = std::fs::read(index_dirs[0].join(".cache/3/a/age")).unwrap();
    assert_eq!(entry[0], 3, "cargo's cache version");
    assert!(!index_dirs[0].join("cache").exists());

    let before = requests.load(Ordering::SeqCst);
    let findings = obsolete_findings(&ws, &cargo_home);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        before,
        "the check must not use the network"
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(
        finding["message"],
        "the vendored patch of i18n-embed-fl is obsolete: upgrading age to 0.12.0 drops the patch"
    );
    let notes: Vec<&str> = finding["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.contains(&"age 0.12.0 requires i18n-embed-fl ^0.10"),
        "{notes:?}"
    );
    let source = format!(
        "dependencies read from the local index at $CARGO_HOME/registry/index/{dir_name}/.cache"
    );
    assert!(notes.contains(&source.as_str()), "{notes:?}");

    // Without the cache there is nothing to consult, and the check says so.
    std::fs::remove_dir_all(cargo_home.join("registry/index")).unwrap();
    let findings = obsolete_findings(&ws, &cargo_home);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("the registry index could not be consulted"),
        "{findings:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn patch_obsolete_reads_a_local_registry_index() {
    let dir = outside_dir("index-cache-local");
    i18n_workspace(&dir);
    write_files(
        &dir,
        &[
            (
                "vendor/i18n-embed-fl/Cargo.toml",
                "[package]\nname = \"i18n-embed-fl\"\nversion = \"0.9.4\"\nedition = \"2021\"\n",
            ),
            ("vendor/i18n-embed-fl/src/lib.rs", "//! Vendored.\n"),
        ],
    );
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()
        + "\n[patch.crates-io]\ni18n-embed-fl = { path = \"vendor/i18n-embed-fl\" }\n";
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    crate::registry::cargo(&dir, &["generate-lockfile"]);
    let findings = obsolete_findings(&dir, &crate::registry::cargo_home(&dir));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0]["message"],
        "the vendored patch of i18n-embed-fl is obsolete: upgrading age to 0.12.0 drops the patch"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
