//! `--against FILE`: the published hashes of a release (a `SHA256SUMS` file or an in-toto
//! provenance statement), and, from a statement, the build parameters it records, so the
//! rebuild uses the same `SOURCE_DATE_EPOCH`, package, binaries, target and features.

use std::collections::BTreeMap;
use std::path::Path;

use crate::workspace::source_file::io_reason;

/// What a published file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// sha256 by artifact file name.
    pub hashes: BTreeMap<String, String>,
    /// `SOURCE_DATE_EPOCH` of the release build (statements only).
    pub source_date_epoch: Option<u64>,
    /// `cargo repro build` options of the release build (statements only).
    pub build_args: Option<Vec<String>>,
    /// The git commit built (statements only).
    pub git_commit: Option<String>,
}

/// Reads `SHA256SUMS` or a `*.intoto.json` statement; `shown` names it in errors.
pub fn read_published(path: &Path, shown: &str) -> anyhow::Result<Published> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {shown}: {}", io_reason(&e)))?;
    if text.trim_start().starts_with('{') {
        from_statement(&text, shown)
    } else {
        from_sha256sums(&text, shown)
    }
}

/// `HASH  NAME` or `HASH *NAME` lines, as `sha256sum` writes them.
pub fn from_sha256sums(text: &str, shown: &str) -> anyhow::Result<Published> {
    let mut hashes = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line.split_once(' ').and_then(|(hash, rest)| {
            let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
            is_sha256(hash).then(|| (name.to_string(), hash.to_ascii_lowercase()))
        });
        let Some((name, hash)) = parsed else {
            anyhow::bail!(
                "{shown}:{}: not a `SHA256  NAME` line; pass a SHA256SUMS file or an .intoto.json statement",
                number + 1
            );
        };
        crate::artifacts::validate_name_segment(&name)
            .map_err(|e| anyhow::anyhow!("{shown}:{}: {e}", number + 1))?;
        hashes.insert(name, hash);
    }
    if hashes.is_empty() {
        anyhow::bail!("{shown} lists no artifact");
    }
    Ok(Published {
        hashes,
        ..Published::default()
    })
}

/// An in-toto Statement v1 with a SLSA provenance predicate, as `cargo repro build` writes.
pub fn from_statement(text: &str, shown: &str) -> anyhow::Result<Published> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{shown} is not valid JSON: {e}"))?;
    let mut hashes = BTreeMap::new();
    for subject in value["subject"].as_array().into_iter().flatten() {
        let (Some(name), Some(hash)) = (
            subject["name"].as_str(),
            subject["digest"]["sha256"].as_str(),
        ) else {
            anyhow::bail!("{shown}: a subject has no name or no sha256 digest");
        };
        if !is_sha256(hash) {
            anyhow::bail!("{shown}: the sha256 of subject {name:?} is not 64 hex digits");
        }
        crate::artifacts::validate_name_segment(name)
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        hashes.insert(name.to_string(), hash.to_ascii_lowercase());
    }
    if hashes.is_empty() {
        anyhow::bail!(
            "{shown} has no subject; pass the .intoto.json that `cargo repro build --release-artifacts` wrote"
        );
    }
    let parameters = &value["predicate"]["buildDefinition"]["externalParameters"];
    let source_date_epoch = parameters["env"]["SOURCE_DATE_EPOCH"]
        .as_str()
        .and_then(|s| s.parse().ok());
    let build_args = parameters["cargoFlags"].as_array().map(|flags| {
        let flags: Vec<String> = flags
            .iter()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        build_args_from_cargo_flags(&flags)
    });
    let git_commit = value["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["digest"]["gitCommit"].as_str().map(String::from));
    Ok(Published {
        hashes,
        source_date_epoch,
        build_args,
        git_commit,
    })
}

/// The `cargo repro build` options among recorded cargo flags: what selects the build, not how
/// cargo talks (`--message-format`, `--verbose`) or what the command always passes.
pub fn build_args_from_cargo_flags(flags: &[String]) -> Vec<String> {
    const WITH_VALUE: &[&str] = &["-p", "--package", "--bin", "--target", "--features", "-F"];
    const SWITCHES: &[&str] = &["--all-features", "--no-default-features"];
    let mut out = Vec::new();
    let mut iter = flags.iter();
    while let Some(flag) = iter.next() {
        if WITH_VALUE.contains(&flag.as_str()) {
            if let Some(value) = iter.next() {
                out.extend([flag.clone(), value.clone()]);
            }
        } else if SWITCHES.contains(&flag.as_str()) {
            out.push(flag.clone());
        }
    }
    out
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sums_lines_in_both_modes() {
        let a = "a".repeat(64);
        let text = format!("{a}  app-0.1.0-x.tar.gz\n{a} *app_0.1.0_amd64.deb\n");
        let published = from_sha256sums(&text, "SHA256SUMS").unwrap();
        assert_eq!(published.hashes.len(), 2);
        assert_eq!(published.hashes["app_0.1.0_amd64.deb"], a);
        let error = from_sha256sums("nonsense\n", "SHA256SUMS").unwrap_err();
        assert!(
            error.to_string().starts_with("SHA256SUMS:1: not a"),
            "{error}"
        );
        let error = from_sha256sums(&format!("{a}  ../escape\n"), "S").unwrap_err();
        assert!(error.to_string().starts_with("S:1:"), "{error}");
    }

    #[test]
    fn statements_give_hashes_and_build_parameters() {
        let a = "b".repeat(64);
        let text = serde_json::json!({
            "subject": [{"name": "app-0.1.0-x.tar.gz", "digest": {"sha256": a}}],
            "predicate": {"buildDefinition": {
                "externalParameters": {
                    "cargoFlags": ["build", "--release", "--locked", "--offline", "-p", "app",
                                   "--bin", "app", "--message-format=json-render-diagnostics", "--verbose"],
                    "env": {"SOURCE_DATE_EPOCH": "1767225600"}
                },
                "resolvedDependencies": [{"uri": "git+", "digest": {"gitCommit": "c".repeat(40)}}]
            }}
        })
        .to_string();
        let published = from_statement(&text, "x.intoto.json").unwrap();
        assert_eq!(published.hashes["app-0.1.0-x.tar.gz"], a);
        assert_eq!(published.source_date_epoch, Some(1_767_225_600));
        assert_eq!(published.build_args.unwrap(), ["-p", "app", "--bin", "app"]);
        assert_eq!(published.git_commit, Some("c".repeat(40)));
        assert!(from_statement("{}", "x.intoto.json").is_err());
        assert!(from_statement("{", "x.intoto.json").is_err());
    }
}
