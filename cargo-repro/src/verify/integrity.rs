//! `verify --against`: the published release checked on its own, before it is rebuilt: the
//! signatures beside the file given and the hash of every listed file that is beside it.
//!
//! - Beside `SHA256SUMS`: `SHA256SUMS.asc` is checked with `gpg --verify` (the keyring pins the
//!   key; a key not in it is an error naming the key to import), `SHA256SUMS.sig` with
//!   `ssh-keygen -Y verify` against `--signer-key KEY.pub`, or, without it, with `ssh-keygen -Y
//!   check-novalidate` and a note that the key is not pinned, naming its fingerprint.
//! - Beside `PKG-VER-TRIPLE.intoto.json`: `PKG-VER-TRIPLE.intoto.dsse.json`, whose payload must
//!   be that statement byte for byte and whose signature must verify over the DSSE PAE: raw
//!   ed25519 with `--signer-key`, or (not pinned) with the key of the `SHA256SUMS.sig` beside it
//!   when its fingerprint is the envelope's `keyid`; a gpg `keyid` with `gpg --verify`.
//! - Every file the sums (or the statement's subjects) list that is beside them is rehashed; a
//!   mismatch names the file. Listed files that are absent are counted, not failures.
//!
//! A bad signature or a changed file makes the release not intact (exit code 3, no rebuild).
//! Signers run in a scratch directory on copies, so no message holds a path of this machine.

use std::ffi::OsStr;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::against::Published;
use crate::artifacts::{base64, dsse};
use crate::workspace::source_file::io_reason;

/// The largest published file rehashed: far above any release artifact.
const FILE_LIMIT: u64 = 16 << 30;
/// The largest signature, envelope or key file read.
const SMALL_LIMIT: u64 = 64 << 20;

/// What the published release's own checks found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IntegrityReport {
    /// No signature failed and every file beside the list matches its hash.
    pub intact: bool,
    pub signatures: Vec<SignatureCheck>,
    /// How many files the list names, how many of them were beside it and rehashed.
    pub files_listed: usize,
    pub files_checked: usize,
    /// Files beside the list whose sha256 is not the listed one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<FileMismatch>,
    /// What was not checked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One signature and what checking it found.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureCheck {
    /// The signature's file name (`SHA256SUMS.sig`, `….intoto.dsse.json`).
    pub file: String,
    /// `gpg`, `ssh`, `dsse-ed25519` or `dsse-gpg`.
    pub kind: &'static str,
    /// `true` good, `false` bad, `null` when it could not be checked (no public key).
    pub valid: Option<bool>,
    /// The signing key's fingerprint, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The key is one the user named (`--signer-key`, or the gpg keyring).
    pub pinned: bool,
    /// One sentence for the human report.
    pub detail: String,
}

/// A file beside the list that does not match it.
#[derive(Clone, Debug, Serialize)]
pub struct FileMismatch {
    pub name: String,
    pub published: String,
    pub actual: String,
}

/// `--signer-key`: an OpenSSH public key.
struct SignerKey {
    /// `TYPE BASE64`, the first two fields of the `.pub` line.
    line: String,
    fingerprint: String,
    /// Parsed for raw ed25519 checks (only ed25519 keys are read).
    ed25519: Option<ssh_key::PublicKey>,
}

/// Checks the signatures beside `path` (the `--against` file, shown as `shown`) and rehashes
/// the listed files beside it. Errors are what the user must fix to check at all (a missing
/// verifier, a gpg key not in the keyring, an unreadable `--signer-key`).
pub fn check(
    path: &Path,
    shown: &str,
    published: &Published,
    signer_key: Option<&Path>,
) -> anyhow::Result<IntegrityReport> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let signer_key = signer_key.map(read_signer_key).transpose()?;
    let data = read_small(path, shown)?;
    let mut report = IntegrityReport::default();
    let is_statement = String::from_utf8_lossy(&data).trim_start().starts_with('{');
    if is_statement {
        let stem = shown.strip_suffix(".intoto.json").unwrap_or(shown);
        let name = format!("{stem}.intoto.dsse.json");
        let envelope = dir.join(&name);
        if crate::guard::read::present(&envelope) {
            let text = read_small(&envelope, &name)?;
            report.signatures.extend(check_envelope(
                &name,
                &text,
                &data,
                dir,
                signer_key.as_ref(),
            )?);
        } else {
            report.notes.push(format!(
                "no {name} beside {shown}: the statement's signature is not checked"
            ));
        }
    } else {
        let mut any = false;
        for (extension, kind) in [("asc", "gpg"), ("sig", "ssh")] {
            let name = format!("{shown}.{extension}");
            let signature_path = dir.join(&name);
            if !crate::guard::read::present(&signature_path) {
                continue;
            }
            any = true;
            let signature = read_small(&signature_path, &name)?;
            report.signatures.push(match kind {
                "gpg" => gpg_check(&name, "gpg", &signature, &data)?,
                _ => ssh_check(&name, &signature, &data, signer_key.as_ref())?,
            });
        }
        if !any {
            report.notes.push(format!(
                "no {shown}.asc or {shown}.sig beside {shown}: who published it is not checked"
            ));
        }
    }
    if let Some(key) = &signer_key
        && !report.signatures.iter().any(|s| s.pinned)
        && report.signatures.iter().all(|s| s.valid != Some(false))
    {
        report.notes.push(format!(
            "--signer-key {} pinned no signature here",
            key.fingerprint
        ));
    }
    rehash(dir, shown, published, &mut report)?;
    report.intact =
        report.mismatches.is_empty() && report.signatures.iter().all(|s| s.valid != Some(false));
    Ok(report)
}

/// Rehashes every listed file that is beside the list.
fn rehash(
    dir: &Path,
    shown: &str,
    published: &Published,
    report: &mut IntegrityReport,
) -> anyhow::Result<()> {
    report.files_listed = published.hashes.len();
    for (name, hash) in &published.hashes {
        let file = dir.join(name);
        if !crate::guard::read::present(&file) {
            continue;
        }
        let actual = sha256_file(&file)
            .map_err(|why| anyhow::anyhow!("cannot rehash {name} beside {shown}: it {why}"))?;
        report.files_checked += 1;
        if actual != *hash {
            report.mismatches.push(FileMismatch {
                name: name.clone(),
                published: hash.clone(),
                actual,
            });
        }
    }
    Ok(())
}

/// The sha256 of a regular file, streamed.
fn sha256_file(path: &Path) -> Result<String, String> {
    crate::guard::read::check_regular(path, FILE_LIMIT).map_err(|e| e.reason().to_string())?;
    let mut file = std::fs::File::open(path).map_err(|e| io_reason(&e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| io_reason(&e))?;
    Ok(format!("{:x}", hasher.finalize()))
}

fn read_small(path: &Path, shown: &str) -> anyhow::Result<Vec<u8>> {
    crate::guard::read::read_bytes(path, SMALL_LIMIT)
        .map_err(|e| anyhow::anyhow!("cannot read {shown}: it {}", e.reason()))
}

/// Reads `--signer-key FILE`: an OpenSSH public key line.
fn read_signer_key(path: &Path) -> anyhow::Result<SignerKey> {
    let shown = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = crate::guard::read::read_bytes(path, SMALL_LIMIT)
        .map_err(|e| anyhow::anyhow!("--signer-key {shown}: it {}", e.reason()))?;
    let text = String::from_utf8_lossy(&bytes);
    let not_public = || {
        anyhow::anyhow!(
            "--signer-key {shown} is not an OpenSSH public key; give the signer's .pub file (`ssh-keygen -y -f KEY > KEY.pub` writes it)"
        )
    };
    let mut fields = text.split_whitespace();
    let (Some(kind), Some(encoded)) = (fields.next(), fields.next()) else {
        return Err(not_public());
    };
    let blob = base64::decode(encoded).ok_or_else(not_public)?;
    if text.trim_start().starts_with("-----BEGIN") || blob.len() < 8 {
        return Err(not_public());
    }
    Ok(SignerKey {
        line: format!("{kind} {encoded}"),
        fingerprint: ssh_fingerprint(&blob),
        ed25519: ssh_key::PublicKey::from_openssh(text.trim())
            .ok()
            .filter(|k| k.algorithm() == ssh_key::Algorithm::Ed25519),
    })
}

/// `SHA256:…` of an ssh public key blob, as `ssh-keygen -l` prints it.
fn ssh_fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", base64::encode_unpadded(&Sha256::digest(blob)))
}

/// A scratch directory holding `files`, for a verifier run inside it with relative names.
fn scratch(files: &[(&str, &[u8])]) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir().map_err(|e| {
        anyhow::anyhow!(
            "cannot create a scratch directory in the temporary directory: {}",
            io_reason(&e)
        )
    })?;
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).map_err(|e| {
            anyhow::anyhow!("cannot write to the scratch directory: {}", io_reason(&e))
        })?;
    }
    Ok(dir)
}

/// Runs a verifier in `dir`; stdout and stderr together, and whether it succeeded.
fn run_verifier<'a>(
    program: &str,
    args: impl IntoIterator<Item = &'a str>,
    dir: &Path,
    stdin: Option<&str>,
    file: &str,
) -> anyhow::Result<(bool, String)> {
    let mut command = duct::cmd(
        program,
        args.into_iter().map(OsStr::new).collect::<Vec<_>>(),
    )
    .dir(dir)
    .stdout_capture()
    .stderr_capture()
    .unchecked();
    command = match stdin {
        Some(name) => command.stdin_path(dir.join(name)),
        None => command.stdin_null(),
    };
    let output = command.run().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!(
            "cannot check {file}: {program} is not installed (or not on PATH); install {}",
            match program {
                "gpg" => "GnuPG (`apt-get install gnupg`)",
                _ => "OpenSSH's client tools (`apt-get install openssh-client`)",
            }
        ),
        _ => anyhow::anyhow!(
            "cannot check {file}: cannot run {program}: {}",
            io_reason(&e)
        ),
    })?;
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    Ok((output.status.success(), said))
}

/// The last non-empty line a verifier printed, for a one-line reason.
fn last_line(said: &str) -> String {
    said.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("[GNUPG:]"))
        .unwrap_or("no message")
        .trim_end_matches('.')
        .to_string()
}

/// `gpg --verify` of `signature` over `data`, with the user's keyring.
fn gpg_check(
    file: &str,
    kind: &'static str,
    signature: &[u8],
    data: &[u8],
) -> anyhow::Result<SignatureCheck> {
    let dir = scratch(&[("data", data), ("signature", signature)])?;
    let (ok, said) = run_verifier(
        "gpg",
        [
            "--batch",
            "--no-tty",
            "--status-fd",
            "1",
            "--verify",
            "signature",
            "data",
        ],
        dir.path(),
        None,
        file,
    )?;
    let status = |tag: &str| {
        said.lines()
            .filter_map(|l| l.strip_prefix("[GNUPG:] "))
            .find_map(|l| l.strip_prefix(tag).map(|rest| rest.trim().to_string()))
    };
    if let Some(rest) = status("VALIDSIG ").filter(|_| ok) {
        let fingerprint = rest.split_whitespace().next().unwrap_or("").to_string();
        return Ok(SignatureCheck {
            file: file.to_string(),
            kind,
            valid: Some(true),
            detail: format!("good gpg signature by {fingerprint} (a key in your keyring)"),
            signer: Some(fingerprint),
            pinned: true,
        });
    }
    if let Some(rest) = status("ERRSIG ").filter(|_| status("NO_PUBKEY ").is_some()) {
        // ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> [<fingerprint>]
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let key = fields
            .get(6)
            .filter(|f| f.len() >= 32)
            .or(fields.first())
            .copied()
            .unwrap_or("?");
        anyhow::bail!(
            "{file} is signed by gpg key {key}, which is not in your keyring; import the publisher's key (`gpg --recv-keys {key}`, or `gpg --import KEY.asc`) and run again"
        );
    }
    let signer =
        status("BADSIG ").map(|rest| rest.split_whitespace().next().unwrap_or("").to_string());
    Ok(SignatureCheck {
        file: file.to_string(),
        kind,
        valid: Some(false),
        detail: match &signer {
            Some(key) => {
                format!("BAD gpg signature by {key}: the signed file or the signature was changed")
            }
            None => format!("BAD: gpg does not accept it: {}", last_line(&said)),
        },
        signer,
        pinned: false,
    })
}

/// `ssh-keygen -Y verify` against `--signer-key`, or `check-novalidate` without one.
fn ssh_check(
    file: &str,
    signature: &[u8],
    data: &[u8],
    signer_key: Option<&SignerKey>,
) -> anyhow::Result<SignatureCheck> {
    let allowed = signer_key
        .map(|key| format!("release {}\n", key.line))
        .unwrap_or_default();
    let dir = scratch(&[
        ("data", data),
        ("signature", signature),
        ("allowed_signers", allowed.as_bytes()),
    ])?;
    let namespace = crate::build::signer::SSH_NAMESPACE;
    let novalidate = run_verifier(
        "ssh-keygen",
        ["-Y", "check-novalidate", "-n", namespace, "-s", "signature"],
        dir.path(),
        Some("data"),
        file,
    )?;
    // `Good "file" signature with ED25519 key SHA256:…`
    let signer = novalidate
        .1
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .map(str::to_string);
    let mut check = SignatureCheck {
        file: file.to_string(),
        kind: "ssh",
        valid: Some(false),
        signer: signer.clone(),
        pinned: false,
        detail: String::new(),
    };
    if !novalidate.0 {
        check.detail = format!(
            "BAD ssh signature: {}; the signed file or the signature was changed",
            last_line(&novalidate.1)
        );
        return Ok(check);
    }
    let signer = signer.unwrap_or_else(|| "an unnamed key".to_string());
    let Some(key) = signer_key else {
        check.valid = Some(true);
        check.detail = format!(
            "good ssh signature by {signer}, but the key is not pinned: pass --signer-key KEY.pub to require the publisher's key"
        );
        return Ok(check);
    };
    let (pinned, said) = run_verifier(
        "ssh-keygen",
        [
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            "release",
            "-n",
            namespace,
            "-s",
            "signature",
        ],
        dir.path(),
        Some("data"),
        file,
    )?;
    if pinned {
        check.valid = Some(true);
        check.pinned = true;
        check.detail = format!("good ssh signature by {signer}, the --signer-key");
    } else {
        check.detail = format!(
            "BAD: the ssh signature is by {signer}, not by the --signer-key {} ({})",
            key.fingerprint,
            last_line(&said)
        );
    }
    Ok(check)
}

/// The DSSE envelope `name` (bytes `text`) of `statement`.
fn check_envelope(
    name: &str,
    text: &[u8],
    statement: &[u8],
    dir: &Path,
    signer_key: Option<&SignerKey>,
) -> anyhow::Result<Vec<SignatureCheck>> {
    let bad = |kind, detail: String| {
        vec![SignatureCheck {
            file: name.to_string(),
            kind,
            valid: Some(false),
            signer: None,
            pinned: false,
            detail,
        }]
    };
    let envelope = match dsse::parse(&String::from_utf8_lossy(text)) {
        Ok(envelope) => envelope,
        Err(e) => {
            return Ok(bad(
                "dsse-ed25519",
                format!("BAD: not a DSSE envelope: {e}"),
            ));
        }
    };
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Ok(bad(
            "dsse-ed25519",
            format!(
                "BAD: its payloadType is {:?}, not {:?}",
                envelope.payload_type,
                dsse::IN_TOTO_PAYLOAD_TYPE
            ),
        ));
    }
    if envelope.payload != statement {
        return Ok(bad(
            "dsse-ed25519",
            "BAD: its payload is not the statement beside it: one of them was changed".to_string(),
        ));
    }
    let pae = dsse::pae(&envelope.payload_type, &envelope.payload);
    let mut checks = Vec::new();
    for signature in &envelope.signatures {
        if !signature.keyid.starts_with("SHA256:") {
            checks.push(gpg_check(name, "dsse-gpg", &signature.sig, &pae)?);
            continue;
        }
        let mut check = SignatureCheck {
            file: name.to_string(),
            kind: "dsse-ed25519",
            valid: None,
            signer: Some(signature.keyid.clone()),
            pinned: false,
            detail: String::new(),
        };
        let key = match signer_key {
            Some(key) => match &key.ed25519 {
                Some(public) => Some((public.clone(), true)),
                None => anyhow::bail!(
                    "--signer-key {} is not an ed25519 key, and {name} holds an ed25519 signature; give the publisher's ed25519 .pub",
                    key.fingerprint
                ),
            },
            None => sums_signature_key(dir, &signature.keyid).map(|k| (k, false)),
        };
        let Some((public, pinned)) = key else {
            check.detail = format!(
                "its ed25519 signature by {} is not checked: pass --signer-key KEY.pub (the publisher's public key)",
                signature.keyid
            );
            checks.push(check);
            continue;
        };
        let fingerprint = public.fingerprint(ssh_key::HashAlg::Sha256).to_string();
        match crate::build::signer::verify_ed25519(&public, &pae, &signature.sig) {
            Ok(()) => {
                check.valid = Some(true);
                check.pinned = pinned;
                check.signer = Some(fingerprint.clone());
                check.detail = if pinned {
                    format!("good DSSE ed25519 signature by {fingerprint}, the --signer-key")
                } else {
                    format!(
                        "good DSSE ed25519 signature by {fingerprint} (the key in SHA256SUMS.sig), but the key is not pinned: pass --signer-key KEY.pub to require the publisher's key"
                    )
                };
            }
            Err(e) => {
                check.valid = Some(false);
                check.detail = format!(
                    "BAD DSSE signature: {e} (checked with {fingerprint}{}; the envelope names {}): it was changed or made by another key",
                    if pinned { ", the --signer-key" } else { "" },
                    signature.keyid
                );
            }
        }
        checks.push(check);
    }
    Ok(checks)
}

/// The public key in the `SHA256SUMS.sig` beside the statement, when its fingerprint is
/// `keyid`: the same release's signer, which names the key the envelope's keyid only hints at.
fn sums_signature_key(dir: &Path, keyid: &str) -> Option<ssh_key::PublicKey> {
    let bytes = crate::guard::read::read_bytes(&dir.join("SHA256SUMS.sig"), SMALL_LIMIT).ok()?;
    let sshsig = ssh_key::SshSig::from_pem(&bytes).ok()?;
    let public = ssh_key::PublicKey::from(sshsig.public_key().clone());
    (public.fingerprint(ssh_key::HashAlg::Sha256).to_string() == keyid).then_some(public)
}

impl IntegrityReport {
    /// The human lines, each starting with `published: `.
    pub fn render_lines(&self, shown: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for signature in &self.signatures {
            lines.push(format!(
                "published: {}: {}",
                signature.file, signature.detail
            ));
        }
        for mismatch in &self.mismatches {
            lines.push(format!(
                "published: CHANGED {}: its sha256 is {}, but {shown} lists {}",
                mismatch.name, mismatch.actual, mismatch.published
            ));
        }
        let absent = self.files_listed - self.files_checked;
        lines.push(format!(
            "published: rehashed {} of {} file{} {shown} lists ({}){}",
            self.files_checked,
            self.files_listed,
            if self.files_listed == 1 { "" } else { "s" },
            if absent == 0 {
                "all beside it".to_string()
            } else {
                format!("{absent} not beside it")
            },
            match self.mismatches.len() {
                0 => ": all match".to_string(),
                n => format!(": {n} changed"),
            }
        ));
        for note in &self.notes {
            lines.push(format!("published: note: {note}"));
        }
        lines
    }

    /// What failed, in a few words (`1 bad signature, 1 changed file`).
    pub fn failures(&self) -> String {
        let bad = self
            .signatures
            .iter()
            .filter(|s| s.valid == Some(false))
            .count();
        let mut parts = Vec::new();
        if bad > 0 {
            parts.push(format!(
                "{bad} bad signature{}",
                if bad == 1 { "" } else { "s" }
            ));
        }
        let changed = self.mismatches.len();
        if changed > 0 {
            parts.push(format!(
                "{changed} changed file{}",
                if changed == 1 { "" } else { "s" }
            ));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::{ScratchDir, run};

    #[test]
    fn ssh_fingerprints_are_those_ssh_keygen_prints() {
        let scratch = ScratchDir::new("integrity-fingerprint");
        let dir = scratch.path();
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", "key"],
            dir,
        );
        let key = read_signer_key(&dir.join("key.pub")).unwrap();
        let listed = run("ssh-keygen", &["-l", "-E", "sha256", "-f", "key.pub"], dir);
        assert_eq!(
            listed.split_whitespace().nth(1),
            Some(key.fingerprint.as_str())
        );
        assert!(key.ed25519.is_some());
        let error = read_signer_key(&dir.join("key")).err().unwrap().to_string();
        assert!(
            error.starts_with(
                "--signer-key key is not an OpenSSH public key; give the signer's .pub"
            ),
            "{error}"
        );
    }

    #[test]
    fn the_human_lines_count_what_was_rehashed() {
        let report = IntegrityReport {
            intact: false,
            signatures: vec![SignatureCheck {
                file: "SHA256SUMS.sig".into(),
                kind: "ssh",
                valid: Some(false),
                signer: None,
                pinned: false,
                detail: "BAD ssh signature".into(),
            }],
            files_listed: 3,
            files_checked: 2,
            mismatches: vec![FileMismatch {
                name: "app.deb".into(),
                published: "a".repeat(64),
                actual: "b".repeat(64),
            }],
            notes: vec![],
        };
        let lines = report.render_lines("SHA256SUMS");
        assert_eq!(lines[0], "published: SHA256SUMS.sig: BAD ssh signature");
        assert!(lines[1].starts_with("published: CHANGED app.deb: its sha256 is bbbb"));
        assert_eq!(
            lines[2],
            "published: rehashed 2 of 3 files SHA256SUMS lists (1 not beside it): 1 changed"
        );
        assert_eq!(report.failures(), "1 bad signature, 1 changed file");
    }
}
