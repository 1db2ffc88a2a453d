//! `--sign KEY`: which key signs a release, detached signatures made with it by gpg or
//! ssh-keygen, and the signature of a DSSE envelope in the form DSSE verifiers expect.
//!
//! Two kinds of signature come out of one key:
//!
//! - **Detached** (`SHA256SUMS.asc`, `SHA256SUMS.sig`): `gpg --armor --detach-sign`, or an
//!   SSHSIG from `ssh-keygen -Y sign -n file`.
//! - **DSSE** (the envelope's `sig`): what securesystemslib's and in-toto's verifiers check
//!   over the PAE. For ssh, the raw 64-byte ed25519 signature (securesystemslib's `ed25519`
//!   scheme), made in process from an unencrypted OpenSSH key file, or by ssh-agent
//!   (`SSH_AGENTC_SIGN_REQUEST`) for a `.pub` or an encrypted key file whose key the agent
//!   holds; the tool never reads a passphrase, so an encrypted key not in the agent is a
//!   one-line error, at a terminal or not. Other ssh algorithms (ecdsa, rsa) are refused
//!   before the build, naming `ssh-keygen -t ed25519`. The `keyid` is the ssh SHA256
//!   fingerprint (`SHA256:…`, as `ssh-keygen -l` prints it). For gpg, a binary (not armoured)
//!   OpenPGP detached signature, which `gpg --verify` and every OpenPGP library check; the
//!   `keyid` is the primary key's fingerprint. securesystemslib's own GPG format is not used:
//!   it splits the packet into a `sig` and an `other_headers` field that no other DSSE
//!   verifier reads.
//!
//! Nothing touches the disk: the data goes to the signer on stdin (or stays in memory) and the
//! signature comes back on stdout. Every failure (no signer program, an unknown key, an
//! unreadable key file, a signer that exits non-zero or prints nothing) is a one-line error
//! naming the key, so a release is either signed or not written at all. Every signature is
//! verified (`gpg --verify`, `ssh-keygen -Y check-novalidate`, ed25519 with the public key)
//! before it is returned. Nothing waits for a passphrase unless a person is at the terminal,
//! and then only gpg-agent may ask (ssh keys with a passphrase sign through ssh-agent).

use std::ffi::OsStr;
use std::fmt;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use ssh_key::{Algorithm, HashAlg, PrivateKey, PublicKey};

use super::ssh_agent::Agent;
use crate::workspace::source_file::io_reason;

/// A signing key as `--sign` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningKey {
    /// `gpg:KEYID`: anything gpg finds a secret key by (fingerprint, key id, email).
    Gpg(String),
    /// `ssh:PATH`: a private key file, or a `.pub` whose private key is in ssh-agent.
    Ssh(PathBuf),
}

impl SigningKey {
    /// Parses `gpg:KEYID`, `ssh:PATH`, or a bare value: an ssh key when `is_file` says it names
    /// a file, a gpg key id otherwise.
    pub fn parse(spec: &str, is_file: impl Fn(&Path) -> bool) -> anyhow::Result<SigningKey> {
        let key = if let Some(id) = spec.strip_prefix("gpg:") {
            SigningKey::Gpg(id.to_string())
        } else if let Some(path) = spec.strip_prefix("ssh:") {
            SigningKey::Ssh(PathBuf::from(path))
        } else if is_file(Path::new(spec)) {
            SigningKey::Ssh(PathBuf::from(spec))
        } else {
            SigningKey::Gpg(spec.to_string())
        };
        match &key {
            SigningKey::Gpg(id) if id.trim().is_empty() => anyhow::bail!(
                "--sign {spec:?} names no key; give `gpg:KEYID` (a fingerprint, key id or email) or `ssh:PATH` (a key file)"
            ),
            SigningKey::Ssh(path) if path.as_os_str().is_empty() => anyhow::bail!(
                "--sign {spec:?} names no key file; give `ssh:PATH` with the path of a key file"
            ),
            _ => Ok(key),
        }
    }
}

impl fmt::Display for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigningKey::Gpg(id) => write!(f, "gpg:{id}"),
            SigningKey::Ssh(path) => write!(f, "ssh:{}", path.display()),
        }
    }
}

/// A key checked to be usable: its signer program runs and knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    key: SigningKey,
    /// The key's fingerprint: gpg's primary key fingerprint, or ssh's `SHA256:…`.
    keyid: String,
    /// For an ssh key: its public key, and whether ssh-agent makes its DSSE signatures.
    ssh: Option<SshKey>,
}

/// An ed25519 ssh key checked to be able to sign DSSE envelopes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SshKey {
    public: PublicKey,
    /// The private key is not in the file (a `.pub`) or is encrypted: ssh-agent signs.
    in_agent: bool,
}

/// The namespace of ssh signatures (`ssh-keygen -Y verify -n file`).
pub const SSH_NAMESPACE: &str = "file";

impl Signer {
    /// Looks the key up (so a missing signer or key fails before the build, not after).
    pub fn resolve(key: SigningKey) -> anyhow::Result<Signer> {
        let mut ssh = None;
        let keyid = match &key {
            SigningKey::Gpg(id) => {
                let args = ["--batch", "--no-tty", "--with-colons", "--list-secret-keys", "--", id];
                let listing = run_signer(
                    &key,
                    "gpg",
                    args.map(OsStr::new),
                    b"",
                    "list the keys with `gpg --list-secret-keys`, or for an ssh key give `ssh:PATH` of an existing file",
                )?;
                gpg_signing_fingerprint(&String::from_utf8_lossy(&listing))
            }
            SigningKey::Ssh(path) => {
                std::fs::File::open(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot sign with {key}: cannot read the key file: {}; {SSH_KEY_ADVICE}",
                        io_reason(&e)
                    )
                })?;
                let args = ["-l", "-E", "sha256", "-f"].map(OsStr::new);
                let listing = run_signer(
                    &key,
                    "ssh-keygen",
                    args.into_iter().chain([path.as_os_str()]),
                    b"",
                    SSH_KEY_ADVICE,
                )?;
                let listing = String::from_utf8_lossy(&listing);
                ssh_fingerprint(&listing).and_then(|keyid| {
                    // `256 SHA256:… comment (ED25519)`: refused by its type before the file is
                    // parsed (only ed25519 keys are read).
                    let kind = listing.split_whitespace().last().unwrap_or("");
                    let kind = kind.trim_start_matches('(').trim_end_matches(')');
                    if kind != "ED25519" {
                        anyhow::bail!("{}", not_ed25519(kind));
                    }
                    let dsse_key = ssh_dsse_key(path)?;
                    let ours = dsse_key.public.fingerprint(HashAlg::Sha256).to_string();
                    if ours != keyid {
                        anyhow::bail!(
                            "ssh-keygen reads the key as {keyid}, but its OpenSSH encoding is {ours}; check the key file"
                        );
                    }
                    ssh = Some(dsse_key);
                    Ok(keyid)
                })
            }
        }
        .map_err(|e| anyhow::anyhow!("cannot sign with {key}: {e}"))?;
        Ok(Signer { key, keyid, ssh })
    }

    /// The key's fingerprint, for a DSSE signature's `keyid`.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The detached signature's file name for the file `signed`: `.asc` (gpg) or `.sig` (ssh).
    pub fn signature_file_name(&self, signed: &str) -> String {
        match self.key {
            SigningKey::Gpg(_) => format!("{signed}.asc"),
            SigningKey::Ssh(_) => format!("{signed}.sig"),
        }
    }

    /// A detached signature of `data`: ASCII-armoured OpenPGP (`gpg --verify`), or an SSHSIG in
    /// the namespace [`SSH_NAMESPACE`] (`ssh-keygen -Y verify`).
    pub fn sign(&self, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        let signature = match &self.key {
            SigningKey::Gpg(_) => self.gpg_detach_sign(data, true)?,
            SigningKey::Ssh(path) => {
                let args = ["-Y", "sign", "-n", SSH_NAMESPACE, "-f"].map(OsStr::new);
                run_signer(
                    &self.key,
                    "ssh-keygen",
                    args.into_iter().chain([path.as_os_str()]),
                    data,
                    SSH_KEY_ADVICE,
                )?
            }
        };
        if signature.is_empty() {
            anyhow::bail!(
                "cannot sign with {}: the signer printed no signature; check that the key can sign",
                self.key
            );
        }
        self.verify(data, &signature)?;
        Ok(signature)
    }

    /// The signature of a DSSE envelope over `pae` (the pre-authentication encoding): the raw
    /// 64-byte ed25519 signature for ssh, a binary OpenPGP detached signature for gpg; checked
    /// with the public key (or `gpg --verify`) before it is returned.
    pub fn sign_envelope(&self, pae: &[u8]) -> anyhow::Result<Vec<u8>> {
        let Some(ssh) = &self.ssh else {
            let signature = self.gpg_detach_sign(pae, false)?;
            if signature.is_empty() {
                anyhow::bail!(
                    "cannot sign with {}: gpg printed no signature; check that the key can sign",
                    self.key
                );
            }
            self.verify(pae, &signature)?;
            return Ok(signature);
        };
        let fail = |e: anyhow::Error| anyhow::anyhow!("cannot sign with {}: {e}", self.key);
        let raw = if ssh.in_agent {
            let agent_fail = |e: anyhow::Error| fail(anyhow::anyhow!("{e}; {SSH_AGENT_ADVICE}"));
            let blob = ssh.public.to_bytes().map_err(|e| fail(e.into()))?;
            let (algorithm, raw) = Agent::connect()
                .and_then(|mut agent| agent.sign(&blob, pae))
                .map_err(agent_fail)?;
            if algorithm != Algorithm::Ed25519.as_str() {
                return Err(fail(anyhow::anyhow!(
                    "ssh-agent made a {algorithm} signature, not an ed25519 one"
                )));
            }
            raw
        } else {
            let SigningKey::Ssh(path) = &self.key else {
                unreachable!("only ssh keys have an SshKey")
            };
            let private = read_private_key(path).map_err(fail)?;
            if private.public_key().key_data() != ssh.public.key_data() {
                return Err(fail(anyhow::anyhow!(
                    "the key file changed since it was looked up; sign again"
                )));
            }
            let signature: ssh_key::Signature = signature::Signer::try_sign(&private, pae)
                .map_err(|e| fail(anyhow::anyhow!("ed25519 signing failed: {e}")))?;
            signature.as_bytes().to_vec()
        };
        verify_ed25519(&ssh.public, pae, &raw).map_err(|e| {
            anyhow::anyhow!(
                "cannot sign with {}: the signature it made does not verify ({e}); check the key and the signer",
                self.key
            )
        })?;
        Ok(raw)
    }

    /// `gpg --detach-sign` of `data` with this key, ASCII-armoured or binary.
    fn gpg_detach_sign(&self, data: &[u8], armor: bool) -> anyhow::Result<Vec<u8>> {
        let mut args = vec!["--batch", "--no-tty"];
        if !std::io::stdin().is_terminal() {
            // No one could answer a passphrase prompt: fail instead of waiting.
            args.extend(["--pinentry-mode", "error"]);
        }
        if armor {
            args.push("--armor");
        }
        args.extend(["--detach-sign", "--output", "-"]);
        args.extend(["--local-user", &self.keyid]);
        run_signer(
            &self.key,
            "gpg",
            args.into_iter().map(OsStr::new),
            data,
            "gpg must be able to use the key without asking (no passphrase, or one gpg-agent has cached), or run from a terminal",
        )
    }

    /// Checks a fresh signature with the signer's own verifier (`gpg --verify`, `ssh-keygen -Y
    /// check-novalidate`) and that it is by this key, before anything is written: a signer
    /// that prints something else (a wrapper, a wrong key) is caught here, not by a user.
    fn verify(&self, data: &[u8], signature: &[u8]) -> anyhow::Result<()> {
        let fail = |why: String| {
            anyhow::anyhow!(
                "cannot sign with {}: the signature it made does not verify ({why}); check the key and the signer",
                self.key
            )
        };
        let scratch = tempfile::tempdir().map_err(|e| fail(io_reason(&e)))?;
        let (data_file, signature_file) = (scratch.path().join("data"), scratch.path().join("sig"));
        std::fs::write(&data_file, data)
            .and_then(|()| std::fs::write(&signature_file, signature))
            .map_err(|e| fail(io_reason(&e)))?;
        let output = match &self.key {
            SigningKey::Gpg(_) => duct::cmd(
                "gpg",
                [
                    OsStr::new("--batch"),
                    OsStr::new("--no-tty"),
                    OsStr::new("--status-fd"),
                    OsStr::new("1"),
                    OsStr::new("--verify"),
                    signature_file.as_os_str(),
                    data_file.as_os_str(),
                ],
            ),
            SigningKey::Ssh(_) => duct::cmd(
                "ssh-keygen",
                [
                    OsStr::new("-Y"),
                    OsStr::new("check-novalidate"),
                    OsStr::new("-n"),
                    OsStr::new(SSH_NAMESPACE),
                    OsStr::new("-s"),
                    signature_file.as_os_str(),
                ],
            )
            .stdin_path(&data_file),
        }
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| fail(io_reason(&e)))?;
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(fail(
                said.lines().last().unwrap_or("rejected").trim().to_string(),
            ));
        }
        // By this key: gpg's VALIDSIG status names the fingerprint (keyid may be its suffix or
        // the whole), ssh-keygen the SHA256 fingerprint.
        let by_this_key = match &self.key {
            SigningKey::Gpg(_) => said.lines().any(|line| {
                line.starts_with("[GNUPG:] VALIDSIG ")
                    && line.split_whitespace().any(|word| {
                        word.to_ascii_uppercase()
                            .ends_with(&self.keyid.to_ascii_uppercase())
                    })
            }),
            SigningKey::Ssh(_) => said.contains(&self.keyid),
        };
        if !by_this_key {
            return Err(fail("it was made by another key".to_string()));
        }
        Ok(())
    }
}

/// What an ssh key must be for `ssh-keygen -Y sign`.
const SSH_KEY_ADVICE: &str = "give an ed25519 private key file (mode 0600, no passphrase), or a .pub or encrypted key file whose private key is in ssh-agent";

/// What to do when ssh-agent must sign and cannot.
const SSH_AGENT_ADVICE: &str = "start ssh-agent (`eval \"$(ssh-agent)\"`) and `ssh-add` the private key, or give an unencrypted ed25519 private key file";

/// The largest key file read: far above any OpenSSH key.
const KEY_FILE_LIMIT: u64 = 1 << 20;

/// Checks the ssh key at `path` can sign DSSE envelopes: an ed25519 key, whose private half is
/// in the file unencrypted or held by ssh-agent.
fn ssh_dsse_key(path: &Path) -> anyhow::Result<SshKey> {
    let bytes = crate::guard::read::read_bytes(path, KEY_FILE_LIMIT)
        .map_err(|e| anyhow::anyhow!("the key file {}", e.reason()))?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    let (public, encrypted) = if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let private = PrivateKey::from_openssh(text)
            .map_err(|e| anyhow::anyhow!("cannot read the OpenSSH private key ({e})"))?;
        (private.public_key().clone(), Some(private.is_encrypted()))
    } else if text.starts_with("-----BEGIN ") {
        anyhow::bail!(
            "the key file is in an older PEM format, which DSSE signing does not read; rewrite it in the OpenSSH format with `ssh-keygen -p -f KEYFILE`"
        );
    } else {
        let public = PublicKey::from_openssh(text)
            .map_err(|e| anyhow::anyhow!("cannot read the OpenSSH public key ({e})"))?;
        (public, None)
    };
    if public.algorithm() != Algorithm::Ed25519 {
        anyhow::bail!("{}", not_ed25519(public.algorithm().as_str()));
    }
    let why = match encrypted {
        Some(false) => {
            return Ok(SshKey {
                public,
                in_agent: false,
            });
        }
        Some(true) => {
            "the key file is encrypted and cargo-repro reads no passphrase, so ssh-agent must sign"
        }
        None => "a .pub key signs through ssh-agent",
    };
    let blob = public.to_bytes()?;
    let held = Agent::connect()
        .and_then(|mut agent| agent.identities())
        .map_err(|e| anyhow::anyhow!("{why}, but {e}; {SSH_AGENT_ADVICE}"))?;
    if !held.contains(&blob) {
        anyhow::bail!("{why}, but ssh-agent does not hold this key; {SSH_AGENT_ADVICE}");
    }
    Ok(SshKey {
        public,
        in_agent: true,
    })
}

/// Why a key of type `kind` cannot sign DSSE envelopes, and what to do.
fn not_ed25519(kind: &str) -> String {
    format!(
        "DSSE envelopes are signed with ed25519 ssh keys, and this key is {kind}; make one with `ssh-keygen -t ed25519`, or sign with gpg"
    )
}

/// An unencrypted OpenSSH private key file.
fn read_private_key(path: &Path) -> anyhow::Result<PrivateKey> {
    let bytes = crate::guard::read::read_bytes(path, KEY_FILE_LIMIT)
        .map_err(|e| anyhow::anyhow!("the key file {}", e.reason()))?;
    let private = PrivateKey::from_openssh(&bytes)
        .map_err(|e| anyhow::anyhow!("cannot read the OpenSSH private key ({e})"))?;
    if private.is_encrypted() {
        anyhow::bail!("the key file is now encrypted; {SSH_AGENT_ADVICE}");
    }
    Ok(private)
}

/// Checks `raw`, a raw 64-byte ed25519 signature, over `data` with the ed25519 key `public`;
/// the error says why it does not verify.
pub fn verify_ed25519(public: &PublicKey, data: &[u8], raw: &[u8]) -> anyhow::Result<()> {
    if public.algorithm() != Algorithm::Ed25519 {
        anyhow::bail!("the key is a {} key, not ed25519", public.algorithm());
    }
    let signature = ssh_key::Signature::new(Algorithm::Ed25519, raw.to_vec()).map_err(|_| {
        anyhow::anyhow!(
            "the signature is {} bytes, not a 64-byte ed25519 signature",
            raw.len()
        )
    })?;
    signature::Verifier::verify(public, data, &signature)
        .map_err(|_| anyhow::anyhow!("the signature does not match the data and the key"))
}

/// Runs the signer program with `input` on stdin; returns its stdout, or an error that names
/// the key, the signer's last message and `advice` (what to do).
fn run_signer<'a>(
    key: &SigningKey,
    program: &str,
    args: impl IntoIterator<Item = &'a OsStr>,
    input: &[u8],
    advice: &str,
) -> anyhow::Result<Vec<u8>> {
    let output = duct::cmd(program, args)
        .stdin_bytes(input)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "cannot sign with {key}: {program} is not installed (or not on PATH); install {}",
                match program {
                    "gpg" => "GnuPG (`apt-get install gnupg`)",
                    _ => "OpenSSH's client tools (`apt-get install openssh-client`)",
                }
            ),
            _ => anyhow::anyhow!(
                "cannot sign with {key}: cannot run {program}: {}",
                io_reason(&e)
            ),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .rev()
            .map(|line| {
                let line = line.trim().trim_end_matches('.');
                line.strip_prefix(&format!("{program}: ")).unwrap_or(line)
            })
            .find(|line| !line.is_empty())
            .unwrap_or("no message");
        anyhow::bail!("cannot sign with {key}: {program} failed: {reason}; {advice}");
    }
    Ok(output.stdout)
}

/// The fingerprint of the one secret key in `gpg --with-colons --list-secret-keys` output,
/// checked to be able to sign.
fn gpg_signing_fingerprint(listing: &str) -> anyhow::Result<String> {
    let mut keys: Vec<(&str, Option<&str>)> = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.first() {
            // Field 12 holds the key's capabilities; an upper-case `S` means it can sign.
            Some(&"sec") => keys.push((fields.get(11).copied().unwrap_or(""), None)),
            Some(&"fpr") => {
                if let Some((_, fingerprint @ None)) = keys.last_mut() {
                    *fingerprint = fields.get(9).copied().filter(|f| !f.is_empty());
                }
            }
            _ => {}
        }
    }
    match keys.as_slice() {
        [] => anyhow::bail!("gpg has no secret key by that name"),
        [(capabilities, Some(fingerprint))] => {
            if !capabilities.contains('S') {
                anyhow::bail!(
                    "gpg key {fingerprint} cannot sign (expired, revoked, or no signing subkey); pick another with `gpg --list-secret-keys`"
                );
            }
            Ok(fingerprint.to_string())
        }
        [(_, None)] => anyhow::bail!("gpg listed the key without a fingerprint"),
        several => anyhow::bail!(
            "{} secret keys match; give the fingerprint of the one to sign with",
            several.len()
        ),
    }
}

/// `SHA256:…` from `ssh-keygen -l -E sha256` output (`256 SHA256:… comment (ED25519)`).
fn ssh_fingerprint(listing: &str) -> anyhow::Result<String> {
    listing
        .split_whitespace()
        .nth(1)
        .filter(|f| f.starts_with("SHA256:"))
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("ssh-keygen printed no SHA256 fingerprint for the key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::{ScratchDir, run};

    #[test]
    fn key_specs_name_gpg_or_ssh() {
        let no_file = |_: &Path| false;
        let any_file = |_: &Path| true;
        let cases = [
            ("gpg:0xDEADBEEF", SigningKey::Gpg("0xDEADBEEF".into())),
            ("gpg:keys/release", SigningKey::Gpg("keys/release".into())),
            ("ssh:keys/release", SigningKey::Ssh("keys/release".into())),
            ("ssh:gpg:odd", SigningKey::Ssh("gpg:odd".into())),
            ("t@example.com", SigningKey::Gpg("t@example.com".into())),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                SigningKey::parse(spec, no_file).unwrap(),
                expected,
                "{spec}"
            );
            assert_eq!(expected.to_string(), spec.replace("t@", "gpg:t@"));
        }
        assert_eq!(
            SigningKey::parse("keys/release", any_file).unwrap(),
            SigningKey::Ssh("keys/release".into())
        );
        assert_eq!(
            SigningKey::parse("keys/release", no_file).unwrap(),
            SigningKey::Gpg("keys/release".into())
        );
        assert_eq!(
            SigningKey::parse("gpg:ABCD", any_file).unwrap(),
            SigningKey::Gpg("ABCD".into()),
            "an explicit gpg: wins over a file of that name"
        );
    }

    #[test]
    fn empty_key_specs_are_refused() {
        for spec in ["", "gpg:", "gpg: ", "ssh:"] {
            let error = SigningKey::parse(spec, |_: &Path| false)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!("--sign {spec:?} names no key")),
                "{error}"
            );
        }
    }

    #[test]
    fn the_gpg_fingerprint_is_that_of_the_one_signing_key() {
        let one = "sec:u:255:22:7BCA29E1E6AE063C:1795297811:::u:::scSC:::+::ed25519:::0:\n\
                   fpr:::::::::B2254FFD690AD31A1B1970CE7BCA29E1E6AE063C:\n\
                   grp:::::::::79F0940C76A2E714B97CEA08C4925154063A8372:\n\
                   uid:u::::1795297811::03DC::Test <t@example.com>::::::::::0:\n\
                   ssb:u:255:18:1111111111111111:1795297811::::::e:::+::cv25519::\n\
                   fpr:::::::::1111111111111111111111111111111111111111:\n";
        assert_eq!(
            gpg_signing_fingerprint(one).unwrap(),
            "B2254FFD690AD31A1B1970CE7BCA29E1E6AE063C"
        );
        let two = format!("{one}{}", one.replace("B2254", "C3365"));
        assert!(
            gpg_signing_fingerprint(&two)
                .unwrap_err()
                .to_string()
                .starts_with("2 secret keys match")
        );
        let expired = one.replace(":scSC:", ":sc:");
        assert!(
            gpg_signing_fingerprint(&expired)
                .unwrap_err()
                .to_string()
                .contains("cannot sign")
        );
        assert!(gpg_signing_fingerprint("").is_err());
    }

    #[test]
    fn the_ssh_fingerprint_is_the_sha256_field() {
        assert_eq!(
            ssh_fingerprint("256 SHA256:v58e1S0NyG2k t@example.com (ED25519)\n").unwrap(),
            "SHA256:v58e1S0NyG2k"
        );
        assert!(ssh_fingerprint("256 MD5:aa:bb t (ED25519)\n").is_err());
        assert!(ssh_fingerprint("").is_err());
    }

    /// An ed25519 key without passphrase at `dir/key`.
    fn ssh_key(dir: &Path) {
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", "key"],
            dir,
        );
    }

    #[test]
    fn ssh_signatures_are_deterministic() {
        let scratch = ScratchDir::new("signer-ssh");
        let dir = scratch.path();
        ssh_key(dir);
        let signer = Signer::resolve(SigningKey::Ssh(dir.join("key"))).unwrap();
        let listed = run("ssh-keygen", &["-l", "-f", "key.pub"], dir);
        assert_eq!(listed.split_whitespace().nth(1), Some(signer.keyid()));
        assert_eq!(signer.signature_file_name("SHA256SUMS"), "SHA256SUMS.sig");
        let data = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n";
        let signature = signer.sign(data).unwrap();
        assert_eq!(
            signature,
            signer.sign(data).unwrap(),
            "ed25519 is deterministic"
        );
        assert!(signature.starts_with(b"-----BEGIN SSH SIGNATURE-----\n"));
    }

    #[test]
    fn unusable_ssh_keys_fail_naming_the_key() {
        let scratch = ScratchDir::new("signer-ssh-bad");
        let dir = scratch.path();
        let missing = dir.join("missing");
        let error = Signer::resolve(SigningKey::Ssh(missing.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!(
                "cannot sign with ssh:{}: cannot read the key file: no such file",
                missing.display()
            )),
            "{error}"
        );

        std::fs::write(dir.join("garbage"), "not a key\n").unwrap();
        let error = Signer::resolve(SigningKey::Ssh(dir.join("garbage")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("garbage: ssh-keygen failed: "), "{error}");

        // A public key alone needs ssh-agent to hold its private key, and this one is in none
        // (whether or not the environment has an agent): refused at the lookup.
        ssh_key(dir);
        std::fs::remove_file(dir.join("key")).unwrap();
        let error = Signer::resolve(SigningKey::Ssh(dir.join("key.pub")))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("key.pub: a .pub key signs through ssh-agent, but "),
            "{error}"
        );
        assert!(
            error.ends_with("or give an unencrypted ed25519 private key file"),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }

    #[test]
    fn ssh_envelope_signatures_are_raw_ed25519_over_the_data() {
        let scratch = ScratchDir::new("signer-ssh-raw");
        let dir = scratch.path();
        ssh_key(dir);
        let signer = Signer::resolve(SigningKey::Ssh(dir.join("key"))).unwrap();
        let pae = crate::artifacts::dsse::pae("text/plain", b"hello");
        let raw = signer.sign_envelope(&pae).unwrap();
        assert_eq!(raw.len(), 64, "a bare ed25519 signature");
        assert_eq!(raw, signer.sign_envelope(&pae).unwrap(), "deterministic");
        let public =
            PublicKey::from_openssh(&std::fs::read_to_string(dir.join("key.pub")).unwrap())
                .unwrap();
        verify_ed25519(&public, &pae, &raw).unwrap();
        let other = crate::artifacts::dsse::pae("text/plain", b"hellO");
        let error = verify_ed25519(&public, &other, &raw).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the signature does not match the data and the key"
        );
        let error = verify_ed25519(&public, &pae, &raw[..63]).unwrap_err();
        assert!(error.to_string().contains("63 bytes"), "{error}");
    }

    #[test]
    fn keys_that_cannot_make_raw_signatures_are_refused_at_the_lookup() {
        let scratch = ScratchDir::new("signer-ssh-unfit");
        let dir = scratch.path();
        run(
            "ssh-keygen",
            &["-q", "-t", "ecdsa", "-N", "", "-f", "ecdsa"],
            dir,
        );
        let error = Signer::resolve(SigningKey::Ssh(dir.join("ecdsa")))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "DSSE envelopes are signed with ed25519 ssh keys, and this key is ECDSA; make one with `ssh-keygen -t ed25519`"
            ),
            "{error}"
        );
        // Encrypted, and in no agent: an error at once, never a passphrase prompt.
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "secret", "-f", "locked"],
            dir,
        );
        let error = Signer::resolve(SigningKey::Ssh(dir.join("locked")))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "locked: the key file is encrypted and cargo-repro reads no passphrase, so ssh-agent must sign, but "
            ),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }
}
