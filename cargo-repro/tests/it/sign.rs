//! `cargo repro build --release-artifacts --sign KEY`: signatures that gpg and ssh-keygen
//! verify, a DSSE envelope of the provenance that securesystemslib (an independent DSSE
//! implementation, in Python) accepts, keys held by ssh-agent, and failures that write nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{
    CLEAN_RELEASE, Env, assert_no_files, build_in, files, outside_checkout, stderr, tool,
};

const PROVENANCE: &str = "app-1.0.0-x86_64-unknown-linux-gnu.intoto.json";
const ENVELOPE: &str = "app-1.0.0-x86_64-unknown-linux-gnu.intoto.dsse.json";

/// A private GnuPG home; its gpg-agent is stopped on drop.
pub(crate) struct GnupgHome(pub(crate) PathBuf);

impl GnupgHome {
    pub(crate) fn new(dir: PathBuf) -> GnupgHome {
        std::fs::create_dir_all(&dir).unwrap();
        tool(&dir, "chmod", &["700", "."]);
        GnupgHome(dir)
    }

    pub(crate) fn gpg(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .args(args)
            .env("GNUPGHOME", &self.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "gpg {args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.0)
            .status();
    }
}

/// An ed25519 ssh key without passphrase at `dir/name`; returns its path.
pub(crate) fn ssh_key(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    tool(
        dir,
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "t@example.com",
            "-f",
            name,
        ],
    );
    dir.join(name)
}

/// Decodes base64 with coreutils, not with the code under test.
fn base64_decode(scratch: &Path, text: &str) -> Vec<u8> {
    std::fs::write(scratch.join("encoded"), text).unwrap();
    let out = Command::new("base64")
        .args(["-d", "encoded"])
        .current_dir(scratch)
        .output()
        .unwrap();
    assert!(out.status.success(), "base64 -d: {}", stderr(&out));
    out.stdout
}

/// `ssh-keygen -Y verify` of `data` against `signature`, trusting only `public_key`.
fn ssh_verify(scratch: &Path, public_key: &Path, data: &[u8], signature: &[u8]) -> Output {
    let public = std::fs::read_to_string(public_key).unwrap();
    std::fs::write(
        scratch.join("allowed_signers"),
        format!("t@example.com {public}"),
    )
    .unwrap();
    std::fs::write(scratch.join("data"), data).unwrap();
    std::fs::write(scratch.join("data.sig"), signature).unwrap();
    Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            "t@example.com",
        ])
        .args(["-n", "file", "-s", "data.sig"])
        .current_dir(scratch)
        .stdin(Stdio::from(
            std::fs::File::open(scratch.join("data")).unwrap(),
        ))
        .output()
        .unwrap()
}

/// `gpg --verify` of `data` against `signature` in `home`.
fn gpg_verify(home: &GnupgHome, scratch: &Path, data: &[u8], signature: &[u8]) -> Output {
    std::fs::write(scratch.join("data"), data).unwrap();
    std::fs::write(scratch.join("data.asc"), signature).unwrap();
    Command::new("gpg")
        .args(["--batch", "--verify", "data.asc", "data"])
        .current_dir(scratch)
        .env("GNUPGHOME", &home.0)
        .output()
        .unwrap()
}

/// The script that verifies a DSSE envelope with securesystemslib.
const DSSE_VERIFY_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/dsse_verify.py");

/// Runs `dsse_verify.py ENVELOPE PUBLIC_KEY` (securesystemslib's `Envelope.verify` with the
/// ed25519 key); fails, naming the install command, when python3 or securesystemslib is missing.
pub(crate) fn securesystemslib_verify(envelope: &Path, public_key: &Path) -> Output {
    let out = Command::new("python3")
        .arg(DSSE_VERIFY_PY)
        .args([envelope, public_key])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}); the DSSE test verifies with securesystemslib: install python3, then `pip install securesystemslib`"
            )
        });
    assert_ne!(
        out.status.code(),
        Some(3),
        "{}the DSSE test verifies with securesystemslib: `pip install securesystemslib` (.ci/run installs it)",
        stderr(&out)
    );
    out
}

/// Checks that securesystemslib accepts the envelope in `out` with `public_key` (as `keyid`,
/// over exactly the provenance beside it), and rejects it once its payload is changed.
fn assert_securesystemslib_accepts(out: &Path, public_key: &Path, keyid: &str, scratch: &Path) {
    let envelope = out.join(ENVELOPE);
    let verified = securesystemslib_verify(&envelope, public_key);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let printed = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(
        printed.contains(&format!("accepted {keyid}\n")),
        "{printed}"
    );
    let statement_sha256 = tool(out, "sha256sum", &[PROVENANCE]);
    let statement_sha256 = statement_sha256.split_whitespace().next().unwrap();
    assert!(
        printed.contains(&format!("payload sha256 {statement_sha256}\n")),
        "{printed}"
    );
    assert!(
        printed.contains("payloadType application/vnd.in-toto+json\n"),
        "{printed}"
    );

    // The same envelope over another statement (one byte of the payload changed).
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    let mut payload = std::fs::read(out.join(PROVENANCE)).unwrap();
    let at = payload.iter().position(|&b| b == b'0').unwrap();
    payload[at] = b'1';
    std::fs::write(scratch.join("tampered.json"), &payload).unwrap();
    let encoded = tool(scratch, "base64", &["-w0", "tampered.json"]);
    value["payload"] = serde_json::Value::String(encoded);
    let tampered = scratch.join("tampered.dsse.json");
    std::fs::write(&tampered, serde_json::to_vec(&value).unwrap()).unwrap();
    let rejected = securesystemslib_verify(&tampered, public_key);
    assert_eq!(rejected.status.code(), Some(1), "{}", stderr(&rejected));
    assert!(
        stderr(&rejected).contains("rejected: "),
        "{}",
        stderr(&rejected)
    );
}

/// Checks the DSSE envelope in `out` against the provenance next to it; returns the bytes it
/// signs (the PAE, computed here independently) and the decoded signature.
fn dsse_signed_bytes(out: &Path, scratch: &Path, keyid: &str) -> (Vec<u8>, Vec<u8>) {
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(ENVELOPE)).unwrap()).unwrap();
    let payload_type = envelope["payloadType"].as_str().unwrap();
    assert_eq!(payload_type, "application/vnd.in-toto+json");
    let payload = base64_decode(scratch, envelope["payload"].as_str().unwrap());
    assert_eq!(
        payload,
        std::fs::read(out.join(PROVENANCE)).unwrap(),
        "the envelope carries exactly the provenance"
    );
    let signatures = envelope["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 1, "{envelope}");
    assert_eq!(signatures[0]["keyid"], keyid);
    let signature = base64_decode(scratch, signatures[0]["sig"].as_str().unwrap());
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&payload);
    (pae, signature)
}

/// Builds the release signed with `spec` into `out`; checks it holds the unsigned release plus
/// `sums_signature` and the envelope.
fn signed_release(dir: &Path, spec: &str, out: &Path, env: Env<'_>, sums_signature: &str) {
    let built = build_in(
        dir,
        &[
            "--release-artifacts",
            "--sign",
            spec,
            "--out-dir",
            out.to_str().unwrap(),
        ],
        env,
    );
    assert!(built.status.success(), "{}", stderr(&built));
    let mut expected: Vec<&str> = CLEAN_RELEASE.to_vec();
    expected.extend([sums_signature, ENVELOPE]);
    expected.sort();
    let names: Vec<String> = files(out).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, expected);
}

#[test]
fn signed_releases_verify_with_ssh_and_gpg() {
    let (base, dir) = outside_checkout("sign");
    let scratch = base.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();

    let key = ssh_key(&base.join("keys"), "release");
    let ssh_out = base.join("ssh-out");
    let spec = format!("ssh:{}", key.display());
    signed_release(&dir, &spec, &ssh_out, &[], "SHA256SUMS.sig");

    let public_key = base.join("keys/release.pub");
    let sums = std::fs::read(ssh_out.join("SHA256SUMS")).unwrap();
    let sums_signature = std::fs::read(ssh_out.join("SHA256SUMS.sig")).unwrap();
    let verified = ssh_verify(&scratch, &public_key, &sums, &sums_signature);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let text = String::from_utf8_lossy(&sums).into_owned();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains(".sig") && !text.contains("dsse"), "{text}");

    let fingerprint = tool(
        &scratch,
        "ssh-keygen",
        &["-l", "-E", "sha256", "-f", public_key.to_str().unwrap()],
    );
    let keyid = fingerprint.split_whitespace().nth(1).unwrap();
    let (_, signature) = dsse_signed_bytes(&ssh_out, &scratch, keyid);
    assert_eq!(signature.len(), 64, "a raw ed25519 signature");
    assert_securesystemslib_accepts(&ssh_out, &public_key, keyid, &scratch);
    let statement = std::fs::read(ssh_out.join(PROVENANCE)).unwrap();

    let home = GnupgHome::new(base.join("gnupg"));
    home.gpg(&[
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Test <t@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = home.gpg(&["--with-colons", "--list-secret-keys"]);
    let gpg_fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .and_then(|rest| rest.split(':').next())
        .unwrap()
        .to_string();
    let gpg_out = base.join("gpg-out");
    signed_release(
        &dir,
        "gpg:t@example.com",
        &gpg_out,
        &[("GNUPGHOME", &home.0)],
        "SHA256SUMS.asc",
    );
    let sums_signature = std::fs::read(gpg_out.join("SHA256SUMS.asc")).unwrap();
    assert!(sums_signature.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
    let verified = gpg_verify(&home, &scratch, &sums, &sums_signature);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(
        stderr(&verified).contains("Good signature from \"Test <t@example.com>\""),
        "{}",
        stderr(&verified)
    );
    let (pae, signature) = dsse_signed_bytes(&gpg_out, &scratch, &gpg_fingerprint);
    assert!(
        !signature.starts_with(b"-----BEGIN"),
        "a binary OpenPGP signature, not an armoured one"
    );
    let verified = gpg_verify(&home, &scratch, &pae, &signature);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let over_statement = gpg_verify(&home, &scratch, &statement, &signature);
    assert!(
        !over_statement.status.success(),
        "{}",
        stderr(&over_statement)
    );

    let unsigned = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        files(dir)
            .into_iter()
            .filter(|(name, _)| CLEAN_RELEASE.contains(&name.as_str()))
            .collect()
    };
    assert_eq!(
        unsigned(&ssh_out),
        unsigned(&gpg_out),
        "signing changes no artifact"
    );
}

#[test]
fn signing_fails_closed_and_writes_nothing() {
    let (base, dir) = outside_checkout("sign-fail");
    let out_dir = dir.join("target/repro-artifacts");
    let keys = base.join("keys");
    ssh_key(&keys, "lone");
    std::fs::remove_file(keys.join("lone")).unwrap();
    let lone_public = keys.join("lone.pub");
    let empty_path = base.join("empty-path");
    std::fs::create_dir_all(&empty_path).unwrap();
    let home = GnupgHome::new(base.join("gnupg"));

    let missing = keys.join("missing");
    let ssh_missing = format!("ssh:{}", missing.display());
    let ssh_lone = format!("ssh:{}", lone_public.display());
    tool(
        &keys,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "secret", "-f", "locked"],
    );
    let ssh_locked = format!("ssh:{}", keys.join("locked").display());
    tool(
        &keys,
        "ssh-keygen",
        &["-q", "-t", "ecdsa", "-N", "", "-f", "ecdsa"],
    );
    let ssh_ecdsa = format!("ssh:{}", keys.join("ecdsa").display());
    // Each fails before the build: (KEY, the key as the error names it, environment, reason).
    // No ssh-agent is reachable (build_in removes SSH_AUTH_SOCK) and stdin is not a terminal.
    let cases: [(&str, &str, Env<'_>, &str); 8] = [
        (
            &ssh_missing,
            &ssh_missing,
            &[],
            "cannot read the key file: no such file or directory",
        ),
        (
            "gpg:nobody@example.com",
            "gpg:nobody@example.com",
            &[("GNUPGHOME", &home.0)],
            "gpg failed: error reading key: No secret key; list the keys",
        ),
        (
            "./no-such-key",
            "gpg:./no-such-key",
            &[("GNUPGHOME", &home.0)],
            "for an ssh key give `ssh:PATH` of an existing file",
        ),
        (
            "gpg:ABCDEF",
            "gpg:ABCDEF",
            &[("PATH", &empty_path)],
            "gpg is not installed (or not on PATH); install GnuPG",
        ),
        (
            &ssh_lone,
            &ssh_lone,
            &[("PATH", &empty_path)],
            "ssh-keygen is not installed (or not on PATH); install OpenSSH",
        ),
        (
            &ssh_lone,
            &ssh_lone,
            &[],
            "a .pub key signs through ssh-agent, but SSH_AUTH_SOCK is not set; start ssh-agent",
        ),
        (
            &ssh_locked,
            &ssh_locked,
            &[],
            "the key file is encrypted and cargo-repro reads no passphrase, so ssh-agent must sign, but SSH_AUTH_SOCK is not set",
        ),
        (
            &ssh_ecdsa,
            &ssh_ecdsa,
            &[],
            "DSSE envelopes are signed with ed25519 ssh keys, and this key is ECDSA; make one with `ssh-keygen -t ed25519`",
        ),
    ];
    for (spec, shown, env, reason) in cases {
        let out = build_in(&dir, &["--release-artifacts", "--sign", spec], env);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.starts_with(&format!("error: cannot sign with {shown}: ")),
            "{message}"
        );
        assert!(message.contains(reason), "{spec}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert_no_files(&out_dir);
    }

    // A gpg key with a passphrase passes the lookup; signing fails after the build, since no
    // one can answer the prompt.
    home.gpg(&[
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "secret",
        "--quick-gen-key",
        "Locked <locked@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let out = build_in(
        &dir,
        &["--release-artifacts", "--sign", "gpg:locked@example.com"],
        &[("GNUPGHOME", &home.0)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    let last = message.lines().last().unwrap();
    assert!(
        last.starts_with("error: cannot sign with gpg:locked@example.com: gpg failed: "),
        "{message}"
    );
    assert!(message.contains("Built"), "the build ran: {message}");
    assert_no_files(&out_dir);

    let unpaired = build_in(&dir, &["--sign", &ssh_lone], &[]);
    assert_eq!(unpaired.status.code(), Some(2));
    assert!(
        stderr(&unpaired).contains("--release-artifacts"),
        "{}",
        stderr(&unpaired)
    );
}

/// An ssh-agent of the test's own, listening on `dir/agent.sock`; killed (by its pid) on drop.
struct SshAgent {
    child: std::process::Child,
    socket: PathBuf,
}

impl SshAgent {
    fn start(dir: &Path) -> SshAgent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&socket)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let agent = SshAgent { child, socket };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !agent.socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        agent
    }

    /// `ssh-add KEY`, answering its passphrase prompt with `passphrase` through SSH_ASKPASS.
    fn add(&self, dir: &Path, key: &Path, passphrase: &str) {
        let askpass = dir.join("askpass");
        std::fs::write(&askpass, format!("#!/bin/sh\necho '{passphrase}'\n")).unwrap();
        tool(dir, "chmod", &["700", "askpass"]);
        let out = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "ssh-add: {}", stderr(&out));
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn keys_held_by_ssh_agent_sign_envelopes_securesystemslib_accepts() {
    let (base, dir) = outside_checkout("sign-agent");
    let keys = base.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    tool(
        &keys,
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "secret",
            "-C",
            "t@example.com",
            "-f",
            "locked",
        ],
    );
    let public_key = keys.join("locked.pub");
    let keyid = tool(
        &keys,
        "ssh-keygen",
        &["-l", "-E", "sha256", "-f", "locked.pub"],
    );
    let keyid = keyid.split_whitespace().nth(1).unwrap().to_string();
    let agent = SshAgent::start(&base);
    agent.add(&base, &keys.join("locked"), "secret");

    // The encrypted key file and its .pub both sign through the agent: the same deterministic
    // ed25519 signatures, accepted by ssh-keygen (the sums) and securesystemslib (the envelope).
    let mut releases = Vec::new();
    for (name, key) in [("file", "locked"), ("pub", "locked.pub")] {
        let out = base.join(format!("out-{name}"));
        let scratch = base.join(format!("scratch-{name}"));
        std::fs::create_dir_all(&scratch).unwrap();
        let spec = format!("ssh:{}", keys.join(key).display());
        signed_release(
            &dir,
            &spec,
            &out,
            &[("SSH_AUTH_SOCK", &agent.socket)],
            "SHA256SUMS.sig",
        );
        let sums = std::fs::read(out.join("SHA256SUMS")).unwrap();
        let sums_signature = std::fs::read(out.join("SHA256SUMS.sig")).unwrap();
        let verified = ssh_verify(&scratch, &public_key, &sums, &sums_signature);
        assert!(verified.status.success(), "{}", stderr(&verified));
        assert_securesystemslib_accepts(&out, &public_key, &keyid, &scratch);
        releases.push(files(&out));
    }
    assert_eq!(
        releases[0], releases[1],
        "the same bytes from the file and the .pub"
    );

    // A key the agent does not hold: refused before the build, naming what to do.
    let other = ssh_key(&keys, "other");
    std::fs::remove_file(&other).unwrap();
    let spec = format!("ssh:{}", keys.join("other.pub").display());
    let out = build_in(
        &dir,
        &["--release-artifacts", "--sign", &spec],
        &[("SSH_AUTH_SOCK", &agent.socket)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a .pub key signs through ssh-agent, but ssh-agent does not hold this key; start ssh-agent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}
