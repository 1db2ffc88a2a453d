//! `cargo repro verify --against` on signed releases: the signatures beside the sums and the
//! statement are checked with the real verifiers (ssh-keygen, gpg, ed25519 with the public
//! key), every listed file beside them is rehashed, and a bad signature or a changed file is
//! exit code 3 before anything is rebuilt.

use std::path::Path;

use crate::sign::{GnupgHome, ssh_key};
use crate::support::{json, stderr, stdout, tool};
use crate::verify::{checkout, repro, repro_with};

const PROVENANCE: &str = "app-1.0.0-x86_64-unknown-linux-gnu.intoto.json";
const ENVELOPE: &str = "app-1.0.0-x86_64-unknown-linux-gnu.intoto.dsse.json";
const DEB: &str = "app_1.0.0-1_amd64.deb";
const TARBALL: &str = "app-1.0.0-x86_64-unknown-linux-gnu.tar.gz";

/// A copy of the release directory `from` at `to`.
fn copy_release(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Changes one byte of `path` (in the middle, so the format still looks right).
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(path, bytes).unwrap();
}

/// `verify --against FILE ARGS` in `dir`: the exit code, stdout and stderr.
fn against(dir: &Path, file: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["verify", "--against", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = repro(dir, &all);
    (out.status.code(), stdout(&out), stderr(&out))
}

#[test]
fn verify_against_checks_ssh_signatures_and_rehashes_the_files_beside_the_sums() {
    let dir = checkout("clean", "against-signed");
    let base = dir.parent().unwrap().to_path_buf();
    let key = ssh_key(&base.join("keys"), "release");
    let public = base.join("keys/release.pub");
    let spec = format!("ssh:{}", key.display());
    let out = repro(&dir, &["build", "--release-artifacts", "--sign", &spec]);
    assert!(out.status.success(), "{}", stderr(&out));
    let release = dir.join("target/repro-artifacts");
    let sums = release.join("SHA256SUMS");
    let listed = std::fs::read_to_string(&sums).unwrap().lines().count();
    let fingerprint = tool(
        &base,
        "ssh-keygen",
        &["-l", "-E", "sha256", "-f", public.to_str().unwrap()],
    );
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();

    // The good release, pinned to its key: intact, then rebuilt and identical.
    let out = repro(
        &dir,
        &[
            "verify",
            "--format",
            "json",
            "--against",
            sums.to_str().unwrap(),
            "--signer-key",
            public.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let published = &report["published"];
    assert_eq!(published["intact"], true, "{report:#}");
    assert_eq!(published["files_listed"], listed);
    assert_eq!(published["files_checked"], listed);
    let signature = &published["signatures"][0];
    assert_eq!(signature["file"], "SHA256SUMS.sig");
    assert_eq!(signature["kind"], "ssh");
    assert_eq!(signature["valid"], true);
    assert_eq!(signature["pinned"], true);
    assert_eq!(signature["signer"], fingerprint.as_str());
    assert_eq!(report["reproducible"], true);

    // A changed .deb beside good, signed sums: named, before (and instead of) any rebuild.
    // Without --signer-key the signature is good but its key is not pinned, and says whose.
    let copy = base.join("tampered-deb");
    copy_release(&release, &copy);
    flip_a_byte(&copy.join(DEB));
    let (code, text, err) = against(&dir, &copy.join("SHA256SUMS"), &[]);
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(
        text.starts_with(
            "NOT INTACT: the published release fails its own checks (1 changed file); not rebuilt\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("published: CHANGED {DEB}: its sha256 is ")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "published: SHA256SUMS.sig: good ssh signature by {fingerprint}, but the key is not pinned: pass --signer-key KEY.pub"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("published: rehashed {listed} of {listed} files SHA256SUMS lists (all beside it): 1 changed\n")),
        "{text}"
    );
    assert!(!err.contains("Rebuilding"), "nothing is rebuilt: {err}");
    assert!(
        !text.contains(base.to_str().unwrap()),
        "no absolute path: {text}"
    );

    // Changed sums beside their signature: the signature fails; a listed file that is not
    // there is counted, not a failure.
    let copy = base.join("tampered-sums");
    copy_release(&release, &copy);
    std::fs::remove_file(copy.join(TARBALL)).unwrap();
    let text = std::fs::read_to_string(copy.join("SHA256SUMS")).unwrap();
    let tarball_hash = text.lines().find(|l| l.ends_with(TARBALL)).unwrap()[..64].to_string();
    std::fs::write(
        copy.join("SHA256SUMS"),
        text.replace(&tarball_hash, &"0".repeat(64)),
    )
    .unwrap();
    let (code, text, err) = against(&dir, &copy.join("SHA256SUMS"), &[]);
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(text.contains("(1 bad signature)"), "{text}");
    assert!(
        text.contains("published: SHA256SUMS.sig: BAD ssh signature: "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "published: rehashed {} of {listed} files SHA256SUMS lists (1 not beside it): all match\n",
            listed - 1
        )),
        "{text}"
    );

    // Good sums, signed by a key that is not the --signer-key.
    let other = ssh_key(&base.join("keys"), "other");
    let other_public = other.with_extension("pub");
    let (code, text, err) = against(
        &dir,
        &sums,
        &["--signer-key", other_public.to_str().unwrap()],
    );
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(
        text.contains(&format!(
            "BAD: the ssh signature is by {fingerprint}, not by the --signer-key SHA256:"
        )),
        "{text}"
    );

    // The statement and its envelope: a changed statement no longer is the envelope's payload.
    let copy = base.join("tampered-statement");
    copy_release(&release, &copy);
    let mut statement = std::fs::read(copy.join(PROVENANCE)).unwrap();
    statement.push(b' '); // still the same JSON, but other bytes
    std::fs::write(copy.join(PROVENANCE), statement).unwrap();
    let (code, text, err) = against(&dir, &copy.join(PROVENANCE), &[]);
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(
        text.contains(&format!(
            "published: {ENVELOPE}: BAD: its payload is not the statement beside it"
        )),
        "{text}"
    );

    // A good envelope beside a changed tarball: the envelope's ed25519 signature is checked
    // with the key of SHA256SUMS.sig (its fingerprint is the keyid), not pinned; with the
    // wrong --signer-key it fails.
    let copy = base.join("tampered-subject");
    copy_release(&release, &copy);
    flip_a_byte(&copy.join(TARBALL));
    let (code, text, err) = against(&dir, &copy.join(PROVENANCE), &[]);
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(
        text.contains(&format!(
            "published: {ENVELOPE}: good DSSE ed25519 signature by {fingerprint} (the key in SHA256SUMS.sig), but the key is not pinned"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("published: CHANGED {TARBALL}: ")),
        "{text}"
    );
    let (code, text, err) = against(
        &dir,
        &copy.join(PROVENANCE),
        &["--signer-key", other_public.to_str().unwrap()],
    );
    assert_eq!(code, Some(3), "{text}{err}");
    assert!(
        text.contains(&format!("published: {ENVELOPE}: BAD DSSE signature: the signature does not match the data and the key")),
        "{text}"
    );
    assert!(text.contains("(1 bad signature, 1 changed file)"), "{text}");

    // --signer-key must be a public key, and only goes with --against.
    let (code, _, err) = against(&dir, &sums, &["--signer-key", key.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--signer-key release is not an OpenSSH public key"),
        "{err}"
    );
    let out = repro(&dir, &["verify", "--signer-key", public.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--against"), "{}", stderr(&out));
}

#[test]
fn verify_against_checks_gpg_signatures_with_the_keyring() {
    let dir = checkout("clean", "against-gpg");
    let base = dir.parent().unwrap().to_path_buf();
    let signer = GnupgHome::new(base.join("gnupg-signer"));
    signer.gpg(&[
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Publisher <p@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = signer.gpg(&["--with-colons", "--list-secret-keys"]);
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .and_then(|rest| rest.split(':').next())
        .unwrap()
        .to_string();
    let out = repro_with(
        &dir,
        &[
            "build",
            "--release-artifacts",
            "--sign",
            "gpg:p@example.com",
        ],
        &[("GNUPGHOME", &signer.0)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let release = base.join("release");
    copy_release(&dir.join("target/repro-artifacts"), &release);
    let sums = release.join("SHA256SUMS");
    flip_a_byte(&release.join(DEB));

    // The statement's envelope holds a binary OpenPGP signature over the PAE: good.
    let out = repro_with(
        &dir,
        &[
            "verify",
            "--against",
            release.join(PROVENANCE).to_str().unwrap(),
        ],
        &[("GNUPGHOME", &signer.0)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "published: {ENVELOPE}: good gpg signature by {fingerprint} (a key in your keyring)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("published: CHANGED {DEB}")),
        "{text}"
    );

    // In the signer's keyring: good, and the changed .deb fails the release.
    let out = repro_with(
        &dir,
        &["verify", "--against", sums.to_str().unwrap()],
        &[("GNUPGHOME", &signer.0)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "published: SHA256SUMS.asc: good gpg signature by {fingerprint} (a key in your keyring)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("published: CHANGED {DEB}")),
        "{text}"
    );

    // A keyring without the publisher's key: an error naming the key to import.
    let empty = GnupgHome::new(base.join("gnupg-empty"));
    let out = repro_with(
        &dir,
        &["verify", "--against", sums.to_str().unwrap()],
        &[("GNUPGHOME", &empty.0)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert_eq!(
        message.lines().last().unwrap(),
        format!(
            "error: SHA256SUMS.asc is signed by gpg key {fingerprint}, which is not in your keyring; import the publisher's key (`gpg --recv-keys {fingerprint}`, or `gpg --import KEY.asc`) and run again"
        ),
        "{message}"
    );

    // Changed sums: a bad signature.
    let text = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(&sums, text.replacen('a', "b", 1)).unwrap();
    let out = repro_with(
        &dir,
        &["verify", "--against", sums.to_str().unwrap()],
        &[("GNUPGHOME", &signer.0)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("published: SHA256SUMS.asc: BAD gpg signature by "),
        "{}",
        stdout(&out)
    );
}
