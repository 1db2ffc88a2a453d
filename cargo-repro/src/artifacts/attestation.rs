//! Build provenance: an in-toto Statement v1 with a SLSA Provenance v1 predicate.
//!
//! Everything in it comes from the typed [`ProvenanceInput`]: no clock (the only times are
//! `SOURCE_DATE_EPOCH`), no host name, no path that the caller did not pass. Keys are sorted
//! (serde_json's default map is a `BTreeMap`), so the same input gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::base64;
use super::validate_name_segment;
use crate::patch::ledger::Entry;
use crate::patch::tree::sha256_hex;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
pub const BUILD_TYPE: &str = "https://github.com/cargo-repro/cargo-repro/build/v1";
pub const BUILDER_ID: &str = "https://github.com/cargo-repro/cargo-repro";

/// One released file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    /// Lowercase hex.
    pub sha256: String,
}

impl Subject {
    /// The subject for an artifact's bytes.
    pub fn of(name: &str, bytes: &[u8]) -> Subject {
        Subject {
            name: name.to_string(),
            sha256: sha256_hex(bytes),
        }
    }
}

/// The commit the release was built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitSource {
    /// The remote's URL (credentials are dropped); `None` when there is no remote.
    pub remote: Option<String>,
    /// The full commit id (40 or 64 hex digits).
    pub commit: String,
}

/// A vendored `[patch]` crate, as the ledger records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendoredPatch {
    pub crate_name: String,
    /// The vendored tree's hash ([`crate::patch::tree::Tree::hash`]), lowercase hex.
    pub tree_sha256: String,
    pub annotations: BTreeMap<String, String>,
}

impl VendoredPatch {
    /// The patch as the ledger (`vendor/patches.toml`) describes it.
    pub fn from_ledger_entry(crate_name: &str, entry: &Entry) -> VendoredPatch {
        let mut annotations = BTreeMap::from([
            ("version".to_string(), entry.version.clone()),
            ("path".to_string(), entry.path.clone()),
            ("diff".to_string(), entry.diff.clone()),
            ("upstreamSha256".to_string(), entry.upstream_sha256.clone()),
        ]);
        if let Some(reason) = &entry.reason {
            annotations.insert("reason".to_string(), reason.clone());
        }
        if let Some(upstream) = &entry.upstream {
            annotations.insert("upstream".to_string(), upstream.clone());
        }
        VendoredPatch {
            crate_name: crate_name.to_string(),
            tree_sha256: entry.tree_sha256.clone(),
            annotations,
        }
    }
}

/// Everything the provenance records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvenanceInput {
    pub subjects: Vec<Subject>,
    pub package: String,
    pub version: String,
    pub bins: Vec<String>,
    pub target: String,
    /// The cargo arguments, in the order they were given (`--locked`, `--release`, …).
    pub cargo_flags: Vec<String>,
    /// The normalised build environment (`SOURCE_DATE_EPOCH`, `RUSTFLAGS`, `TZ`, …).
    pub env: BTreeMap<String, String>,
    pub source: GitSource,
    /// The sha256 of `Cargo.lock`, lowercase hex.
    pub cargo_lock_sha256: String,
    pub vendored_patches: Vec<VendoredPatch>,
    /// The output of `rustc -vV`.
    pub rustc_version_verbose: String,
    pub source_date_epoch: u64,
}

impl ProvenanceInput {
    /// The statement as pretty JSON with sorted keys and a trailing newline.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut text = serde_json::to_string_pretty(&self.statement()?)?;
        text.push('\n');
        Ok(text)
    }

    /// The statement as a JSON value (checked first).
    pub fn statement(&self) -> anyhow::Result<Value> {
        self.validate()?;
        let time = rfc3339_utc(self.source_date_epoch)?;
        Ok(json!({
            "_type": STATEMENT_TYPE,
            "subject": self.subjects_json(),
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "buildDefinition": {
                    "buildType": BUILD_TYPE,
                    "externalParameters": self.external_parameters(),
                    "internalParameters": {},
                    "resolvedDependencies": self.resolved_dependencies(),
                },
                "runDetails": {
                    "builder": { "id": BUILDER_ID },
                    "metadata": { "startedOn": time, "finishedOn": time },
                    "byproducts": [{
                        "name": "rustc -vV",
                        "mediaType": "text/plain; charset=utf-8",
                        "content": base64::encode(self.rustc_version_verbose.as_bytes()),
                    }],
                },
            },
        }))
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut names = BTreeSet::new();
        for subject in &self.subjects {
            validate_name_segment(&subject.name)?;
            check_sha256(&format!("subject {}", subject.name), &subject.sha256)?;
            if !names.insert(&subject.name) {
                anyhow::bail!(
                    "subject {:?} is given twice; every artifact needs its own name",
                    subject.name
                );
            }
        }
        for value in [&self.package, &self.version, &self.target] {
            validate_name_segment(value)?;
        }
        for bin in &self.bins {
            validate_name_segment(bin)?;
        }
        check_git_commit(&self.source.commit)?;
        check_sha256("Cargo.lock", &self.cargo_lock_sha256)?;
        for patch in &self.vendored_patches {
            validate_name_segment(&patch.crate_name)?;
            check_sha256(&format!("vendor/{}", patch.crate_name), &patch.tree_sha256)?;
        }
        Ok(())
    }

    fn subjects_json(&self) -> Vec<Value> {
        let by_name: BTreeMap<&str, &str> = self
            .subjects
            .iter()
            .map(|s| (s.name.as_str(), s.sha256.as_str()))
            .collect();
        by_name
            .into_iter()
            .map(|(name, sha256)| json!({ "name": name, "digest": { "sha256": sha256 } }))
            .collect()
    }

    fn external_parameters(&self) -> Value {
        let bins: BTreeSet<&str> = self.bins.iter().map(String::as_str).collect();
        json!({
            "package": self.package,
            "version": self.version,
            "bins": bins,
            "target": self.target,
            "cargoFlags": self.cargo_flags,
            "env": self.env,
        })
    }

    /// The git commit, then `Cargo.lock`, then the vendored patches by crate name.
    fn resolved_dependencies(&self) -> Vec<Value> {
        let remote = self
            .source
            .remote
            .as_deref()
            .map(without_credentials)
            .unwrap_or_default();
        let mut dependencies = vec![
            json!({
                "uri": format!("git+{remote}"),
                "digest": { "gitCommit": self.source.commit },
            }),
            json!({
                "name": "Cargo.lock",
                "digest": { "sha256": self.cargo_lock_sha256 },
            }),
        ];
        let patches: BTreeMap<&str, &VendoredPatch> = self
            .vendored_patches
            .iter()
            .map(|p| (p.crate_name.as_str(), p))
            .collect();
        dependencies.extend(patches.into_iter().map(|(name, patch)| {
            json!({
                "name": format!("vendor/{name}"),
                "digest": { "sha256": patch.tree_sha256 },
                "annotations": patch.annotations,
            })
        }));
        dependencies
    }
}

fn check_sha256(what: &str, digest: &str) -> anyhow::Result<()> {
    if digest.len() != 64 || !is_lowercase_hex(digest) {
        anyhow::bail!("{what}: sha256 {digest:?} is not 64 lowercase hex digits");
    }
    Ok(())
}

fn check_git_commit(commit: &str) -> anyhow::Result<()> {
    if ![40, 64].contains(&commit.len()) || !is_lowercase_hex(commit) {
        anyhow::bail!(
            "git commit {commit:?} is not a full commit id; pass `git rev-parse HEAD`'s output"
        );
    }
    Ok(())
}

fn is_lowercase_hex(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The URL without `user:password@` (tokens in remotes must never reach a release).
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (proleptic Gregorian, UTC).
pub fn rfc3339_utc(epoch_seconds: u64) -> anyhow::Result<String> {
    let days = epoch_seconds / 86_400;
    let seconds_of_day = epoch_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    if year > 9999 {
        anyhow::bail!(
            "SOURCE_DATE_EPOCH {epoch_seconds} is after the year 9999; use the commit's time"
        );
    }
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60
    ))
}

/// Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (non-negative only).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
    const RUSTC: &str =
        "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\n";

    fn input() -> ProvenanceInput {
        ProvenanceInput {
            subjects: vec![
                Subject::of("hello_1.0.0-1_amd64.deb", b"deb"),
                Subject::of("hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz", b"tgz"),
            ],
            package: "hello".to_string(),
            version: "1.0.0".to_string(),
            bins: vec!["hello".to_string(), "hello-admin".to_string()],
            target: "x86_64-unknown-linux-gnu".to_string(),
            cargo_flags: vec!["--locked".to_string(), "--release".to_string()],
            env: BTreeMap::from([
                ("SOURCE_DATE_EPOCH".to_string(), "1700000000".to_string()),
                ("TZ".to_string(), "UTC".to_string()),
                (
                    "RUSTFLAGS".to_string(),
                    "--remap-path-prefix=$WORKSPACE=/build".to_string(),
                ),
            ]),
            source: GitSource {
                remote: Some("https://user:token@github.com/example/hello.git".to_string()),
                commit: COMMIT.to_string(),
            },
            cargo_lock_sha256: sha256_hex(b"lock"),
            vendored_patches: vec![VendoredPatch::from_ledger_entry(
                "zlib-sys",
                &Entry {
                    version: "1.2.3".to_string(),
                    path: "vendor/zlib-sys".to_string(),
                    diff: "vendor/zlib-sys.diff".to_string(),
                    upstream_sha256: sha256_hex(b"upstream"),
                    tree_sha256: sha256_hex(b"tree"),
                    reason: Some("embeds the build date".to_string()),
                    ..Entry::default()
                },
            )],
            rustc_version_verbose: RUSTC.to_string(),
            source_date_epoch: 1_700_000_000,
        }
    }

    #[test]
    fn statement_has_the_in_toto_and_slsa_fields() {
        let value: Value = serde_json::from_str(&input().render().unwrap()).unwrap();
        assert_eq!(value["_type"], STATEMENT_TYPE);
        assert_eq!(value["predicateType"], PREDICATE_TYPE);
        let names: Vec<&str> = value["subject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
                "hello_1.0.0-1_amd64.deb"
            ]
        );
        assert_eq!(value["subject"][1]["digest"]["sha256"], sha256_hex(b"deb"));
        let definition = &value["predicate"]["buildDefinition"];
        assert_eq!(definition["buildType"], BUILD_TYPE);
        assert_eq!(definition["internalParameters"], json!({}));
        let external = &definition["externalParameters"];
        assert_eq!(external["package"], "hello");
        assert_eq!(external["bins"], json!(["hello", "hello-admin"]));
        assert_eq!(external["target"], "x86_64-unknown-linux-gnu");
        assert_eq!(external["cargoFlags"], json!(["--locked", "--release"]));
        assert_eq!(external["env"]["TZ"], "UTC");
        let dependencies = definition["resolvedDependencies"].as_array().unwrap();
        assert_eq!(
            dependencies[0],
            json!({ "uri": "git+https://github.com/example/hello.git", "digest": { "gitCommit": COMMIT } })
        );
        assert_eq!(dependencies[1]["name"], "Cargo.lock");
        assert_eq!(dependencies[1]["digest"]["sha256"], sha256_hex(b"lock"));
        assert_eq!(dependencies[2]["name"], "vendor/zlib-sys");
        assert_eq!(dependencies[2]["digest"]["sha256"], sha256_hex(b"tree"));
        assert_eq!(
            dependencies[2]["annotations"]["reason"],
            "embeds the build date"
        );
        let run = &value["predicate"]["runDetails"];
        assert_eq!(run["builder"]["id"], BUILDER_ID);
        assert_eq!(
            run["metadata"],
            json!({ "startedOn": "2023-11-14T22:13:20Z", "finishedOn": "2023-11-14T22:13:20Z" })
        );
        assert_eq!(
            run["byproducts"][0]["content"],
            base64::encode(RUSTC.as_bytes())
        );
    }

    #[test]
    fn rendering_is_deterministic_with_sorted_keys() {
        let text = input().render().unwrap();
        let mut shuffled = input();
        shuffled.subjects.reverse();
        shuffled.bins.reverse();
        assert_eq!(text, shuffled.render().unwrap());
        assert!(text.ends_with("}\n"));
        assert!(text.find("\"_type\"") < text.find("\"predicate\""));
        assert!(text.find("\"predicate\"") < text.find("\"predicateType\""));
        assert!(text.find("\"predicateType\"") < text.find("\"subject\""));
    }

    #[test]
    fn no_absolute_path_of_this_machine_and_no_credentials() {
        let text = input().render().unwrap();
        let here = std::env::current_dir().unwrap();
        let mut machine_paths = vec![here.display().to_string()];
        machine_paths.push(std::env::temp_dir().display().to_string());
        machine_paths.extend(std::env::var("HOME").ok());
        machine_paths.extend(std::env::var("CARGO_HOME").ok());
        for path in machine_paths.iter().filter(|p| p.len() > 1) {
            assert!(!text.contains(path.as_str()), "{path} leaked into\n{text}");
        }
        assert!(!text.contains("token"), "{text}");
    }

    #[test]
    fn bad_input_is_refused() {
        let mut bad = input();
        bad.source.commit = "HEAD".to_string();
        assert!(bad.render().is_err());
        let mut bad = input();
        bad.subjects.push(bad.subjects[0].clone());
        assert!(bad.render().is_err());
        let mut bad = input();
        bad.subjects[0].name = "../x".to_string();
        assert!(bad.render().is_err());
        let mut bad = input();
        bad.cargo_lock_sha256 = "sha256:abc".to_string();
        assert!(bad.render().is_err());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ];
        for (epoch, expected) in cases {
            assert_eq!(rfc3339_utc(epoch).unwrap(), expected);
        }
        assert!(rfc3339_utc(253_402_300_800).is_err());
    }

    #[test]
    fn credentials_are_dropped_from_remotes() {
        assert_eq!(
            without_credentials("https://x:y@host/a@b"),
            "https://host/a@b"
        );
        assert_eq!(
            without_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(without_credentials("ssh://git@host/r"), "ssh://host/r");
    }
}
