//! The built-in database of crates known to build nondeterministically (`database.toml`).
//!
//! The data lives in a TOML file embedded in the binary; this module gives it types and the
//! lookups the `known-nondeterministic-crate` rule needs. Versions are matched with semver
//! requirements; a pre-release is matched as the release it precedes.

use std::sync::OnceLock;

use cargo_metadata::semver::{Version, VersionReq};
use serde::Deserialize;

/// The database text, as shipped.
const DATABASE_TOML: &str = include_str!("database.toml");

/// All entries, in file order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    #[serde(rename = "entry")]
    pub entries: Vec<Entry>,
}

/// One known problem of one crate (and the crates released with it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Stable kebab-case id, shown in findings.
    pub id: String,
    /// The crate the entry is about.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Crates sharing the entry; reported only when `crate_name` is not in the graph.
    #[serde(default)]
    pub also: Vec<String>,
    /// The affected versions.
    pub affected: VersionReq,
    /// The first fixed version, when there is one.
    pub fixed: Option<Version>,
    /// What varies and why: one sentence, lowercase, no trailing period.
    pub mechanism: String,
    /// What to do, in words.
    pub mitigation: String,
    /// Environment variables that neutralise the problem.
    #[serde(default)]
    pub mitigating_env: Vec<EnvMitigation>,
    /// Features of the reported package that neutralise the problem (any one of them).
    #[serde(default)]
    pub mitigating_features: Vec<String>,
    /// Features without which the problem does not arise: the entry applies to a package only
    /// when one of them is enabled (for the versions each requirement names).
    #[serde(default)]
    pub requires_features: Vec<FeatureRequirement>,
    /// When set, what varies depends on how the release is built in ways the tool cannot see
    /// (the checkout's tags, branch and modified files): findings are notes that say this.
    pub note_only: Option<String>,
    /// Macros of the crate whose expansion is the problem: the entry applies only where a
    /// dependent invokes one of them in code the release compiles (`cfg` evaluated for the
    /// dependent's features).
    #[serde(default)]
    pub macros: Vec<String>,
    /// Issue and pull-request links.
    pub upstream: Vec<String>,
    /// Dependents whose upgrade removes the problem, or that deserve a word.
    #[serde(default)]
    pub dependent_upgrades: Vec<DependentUpgrade>,
    /// True when every version the entry relies on was checked against the published crates.
    pub verified: bool,
    /// How the entry was checked, and what was not.
    pub verification: String,
}

/// A set of environment variables that, all set, neutralise an entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvMitigation {
    pub vars: Vec<String>,
    /// The versions that honour the variables (all affected versions when absent).
    pub versions: Option<VersionReq>,
    /// The crate whose versions `versions` is about, when it is not the reported one (the
    /// macro or build-time crate that reads the variables); every copy of it in the graph must
    /// match.
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
}

impl EnvMitigation {
    /// True when the variables work for every one of `versions` (those of [`Self::crate_name`],
    /// or of the reported package): always without a `versions` requirement, never for none.
    pub fn honoured_by<'v>(&self, versions: impl IntoIterator<Item = &'v Version>) -> bool {
        let Some(req) = &self.versions else {
            return true;
        };
        let mut any = false;
        for version in versions {
            if !req.matches(version) {
                return false;
            }
            any = true;
        }
        any
    }
}

/// Features of which one must be enabled for the entry to apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureRequirement {
    /// Any one of these.
    pub features: Vec<String>,
    /// The versions the requirement holds for (all when absent); other versions need none.
    pub versions: Option<VersionReq>,
}

/// A dependent crate that pulls the affected crate in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependentUpgrade {
    /// The dependent's crate name.
    pub dependent: String,
    /// The dependent's first release that no longer pulls in an affected version.
    pub fixed_in: Option<Version>,
    /// One clause explaining it.
    pub note: String,
}

/// The parsed built-in database.
pub fn database() -> &'static Database {
    static DATABASE: OnceLock<Database> = OnceLock::new();
    DATABASE.get_or_init(|| {
        parse(DATABASE_TOML).expect("the built-in database parses (checked by a unit test)")
    })
}

/// Parses database text.
pub fn parse(text: &str) -> Result<Database, toml_edit::de::Error> {
    toml_edit::de::from_str(text)
}

/// Parses a version, treating a pre-release as the release it precedes.
pub fn release_version(version: &str) -> Option<Version> {
    let mut version = Version::parse(version).ok()?;
    version.pre = cargo_metadata::semver::Prerelease::EMPTY;
    version.build = cargo_metadata::semver::BuildMetadata::EMPTY;
    Some(version)
}

impl Database {
    /// The entries matching the package `name` at `version`.
    pub fn matching<'a>(&'a self, name: &'a str, version: &str) -> impl Iterator<Item = &'a Entry> {
        let version = release_version(version);
        self.entries
            .iter()
            .filter(move |entry| version.as_ref().is_some_and(|v| entry.matches(name, v)))
    }
}

impl Entry {
    /// The entry's crate, then the crates sharing it.
    pub fn crate_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.crate_name.as_str()).chain(self.also.iter().map(String::as_str))
    }

    /// True when the package `name` at `version` is affected.
    pub fn matches(&self, name: &str, version: &Version) -> bool {
        self.crate_names().any(|n| n == name) && self.affected.matches(version)
    }

    /// The features of which one must be enabled at `version` for the entry to apply, when any
    /// requirement holds for that version.
    pub fn required_features<'a>(&'a self, version: &'a Version) -> Option<&'a [String]> {
        self.requires_features
            .iter()
            .find(|r| r.versions.as_ref().is_none_or(|req| req.matches(version)))
            .map(|r| r.features.as_slice())
    }

    /// The dependent upgrade that applies to `dependent` at `version`, if any.
    pub fn dependent_upgrade(&self, dependent: &str, version: &str) -> Option<&DependentUpgrade> {
        let version = release_version(version)?;
        self.dependent_upgrades.iter().find(|upgrade| {
            upgrade.dependent == dependent
                && upgrade
                    .fixed_in
                    .as_ref()
                    .is_none_or(|fixed| version < *fixed)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn is_kebab_case(id: &str) -> bool {
        !id.is_empty()
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn database_parses_and_entries_are_well_formed() {
        let db = parse(DATABASE_TOML).expect("database.toml parses");
        assert!(!db.entries.is_empty());
        let mut ids = BTreeSet::new();
        for entry in &db.entries {
            let id = &entry.id;
            assert!(is_kebab_case(id), "{id}: id is not kebab-case");
            assert!(ids.insert(id.clone()), "{id}: duplicate id");
            assert!(!entry.crate_name.is_empty(), "{id}: no crate");
            assert!(!entry.upstream.is_empty(), "{id}: no upstream link");
            for link in &entry.upstream {
                assert!(link.starts_with("https://"), "{id}: bad link {link}");
            }
            let first = entry.mechanism.chars().next().unwrap_or('A');
            assert!(
                !first.is_uppercase() && !entry.mechanism.ends_with('.'),
                "{id}: mechanism is one lowercase sentence without a trailing period"
            );
            assert!(!entry.mitigation.is_empty(), "{id}: no mitigation");
            assert!(
                !entry.verification.is_empty(),
                "{id}: say how it was verified"
            );
            if let Some(fixed) = &entry.fixed {
                assert!(
                    !entry.affected.matches(fixed),
                    "{id}: the fixed version {fixed} is inside `affected`"
                );
            }
            for env in &entry.mitigating_env {
                assert!(!env.vars.is_empty(), "{id}: empty mitigating_env");
                if let Some(crate_name) = &env.crate_name {
                    assert!(env.versions.is_some(), "{id}: `crate` without `versions`");
                    assert!(!crate_name.is_empty(), "{id}: empty mitigating_env crate");
                }
            }
            for requirement in &entry.requires_features {
                assert!(
                    !requirement.features.is_empty(),
                    "{id}: empty requires_features"
                );
            }
            if let Some(why) = &entry.note_only {
                let first = why.chars().next().unwrap_or('A');
                assert!(
                    !first.is_uppercase() && !why.ends_with('.'),
                    "{id}: note_only is lowercase text without a trailing period"
                );
            }
            assert_mitigation_names_the_fixes(entry);
            for upgrade in &entry.dependent_upgrades {
                assert!(!upgrade.dependent.is_empty() && !upgrade.note.is_empty());
            }
        }
    }

    /// The mitigation text is the finding's help: it must name every structured fix.
    fn assert_mitigation_names_the_fixes(entry: &Entry) {
        let fixed = entry.fixed.iter().map(ToString::to_string);
        let vars = entry
            .mitigating_env
            .iter()
            .flat_map(|m| m.vars.iter().cloned());
        let features = entry.mitigating_features.iter().cloned();
        for word in fixed.chain(vars).chain(features) {
            assert!(
                entry.mitigation.contains(&word),
                "{}: the mitigation text does not mention {word}",
                entry.id
            );
        }
    }

    /// The entry ids matching `name@version`, sorted.
    fn ids(db: &Database, name: &str, version: &str) -> Vec<String> {
        let mut ids: Vec<String> = db.matching(name, version).map(|e| e.id.clone()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn required_crates_are_covered() {
        let db = database();
        for (name, version, expected) in [
            (
                "i18n-embed-fl",
                "0.9.4",
                &["i18n-embed-fl-hashmap-args"][..],
            ),
            (
                "rust-i18n-macro",
                "3.1.2",
                &["rust-i18n-hashmap-translations"],
            ),
            (
                "pest_generator",
                "2.1.1",
                &["pest-generator-hashmap-builtins"],
            ),
            (
                "pest_consume_macros",
                "1.1.0",
                &["pest-consume-macros-hashmap"],
            ),
            ("const-random", "0.1.18", &["const-random-compile-time-rng"]),
            (
                "const-random-macro",
                "0.1.16",
                &["const-random-compile-time-rng"],
            ),
            ("rust-embed", "8.7.0", &["rust-embed-file-timestamps"]),
            ("rust-embed-impl", "8.5.0", &["rust-embed-file-timestamps"]),
            ("rust-embed-utils", "7.1.0", &["rust-embed-unsorted-files"]),
            (
                "rust-embed-impl",
                "4.5.0",
                &["rust-embed-impl-unsorted-files"],
            ),
            (
                "vergen",
                "7.4.1",
                &[
                    "vergen-build-timestamp",
                    "vergen-git-state",
                    "vergen-sysinfo",
                ],
            ),
            (
                "vergen",
                "9.1.0",
                &["vergen-build-timestamp", "vergen-sysinfo"],
            ),
            ("vergen-gix", "1.0.9", &["vergen-git-backends-state"]),
            ("vergen-gitcl", "10.0.3", &["vergen-git-backends-state"]),
            (
                "built",
                "0.7.3",
                &["built-build-environment", "built-build-time"],
            ),
            (
                "shadow-rs",
                "1.2.0",
                &["shadow-rs-checkout-state", "shadow-rs-generation-time"],
            ),
            ("git-testament", "0.2.6", &["git-testament-git-state"]),
            (
                "git-testament-derive",
                "0.2.1",
                &["git-testament-git-state"],
            ),
            ("include_dir", "0.6.2", &["include-dir-unsorted"]),
            (
                "tikv-jemalloc-sys",
                "0.6.0+5.3.0-1-ge13ca993e8ccb9ba9847cc330696e02839f328f7",
                &["jemalloc-host-probing"],
            ),
            (
                "jemalloc-sys",
                "0.5.4+5.3.0-patched",
                &["jemalloc-host-probing"],
            ),
            (
                "openssl-src",
                "300.3.1+3.3.1",
                &["openssl-src-build-date-paths"],
            ),
            ("randomx-rs", "0.2.0", &["randomx-rs-native-flags"]),
        ] {
            assert_eq!(ids(db, name, version), expected, "{name}@{version}");
        }
    }

    #[test]
    fn fixed_versions_do_not_match() {
        let db = database();
        for (name, version) in [
            ("i18n-embed-fl", "0.10.0"),
            ("rust-i18n", "3.1.3"),
            ("pest_generator", "2.1.2"),
            ("include_dir", "0.7.0"),
            ("rust-embed", "5.9.0"),
            ("rust-embed-utils", "7.2.0"),
            // The DARCH define of 1.4 and later has no effect; 0.2.1 dropped ARCH=native.
            ("randomx-rs", "0.2.1"),
            ("randomx-rs", "1.4.1"),
            ("randomx-rs", "1.6.0"),
            ("serde", "1.0.0"),
        ] {
            assert_eq!(db.matching(name, version).count(), 0, "{name}@{version}");
        }
        // Stamping crates have no fixed release: SOURCE_DATE_EPOCH is the mitigation.
        for (name, version) in [
            ("vergen", "7.4.2"),
            ("built", "0.7.4"),
            ("shadow-rs", "1.2.1"),
        ] {
            assert!(db.matching(name, version).count() > 0, "{name}@{version}");
        }
        // A pre-release is matched as the release it precedes.
        assert_eq!(db.matching("i18n-embed-fl", "0.9.5-rc.1").count(), 1);
    }

    #[test]
    fn dependent_upgrades_apply_below_the_fixed_release() {
        let db = database();
        let entry = db.matching("i18n-embed-fl", "0.9.4").next().expect("entry");
        assert!(entry.dependent_upgrade("age", "0.11.1").is_some());
        assert!(entry.dependent_upgrade("age", "0.12.0").is_none());
        assert!(entry.dependent_upgrade("other", "0.1.0").is_none());
    }

    /// One entry with every optional field, parsed from text.
    fn sample() -> Database {
        parse(
            r#"
[[entry]]
id = "sample"
crate = "stamp"
also = ["stamp-macro"]
affected = "*"
mechanism = "the build time is stamped"
mitigation = "set SOURCE_DATE_EPOCH"
upstream = ["https://example.org/1"]
note_only = "the tool cannot tell"
verified = false
verification = "made up"

[[entry.requires_features]]
features = ["old-time"]
versions = "<1.0.0"

[[entry.requires_features]]
features = ["time", "clock"]

[[entry.mitigating_env]]
vars = ["SOURCE_DATE_EPOCH"]
versions = ">=0.5.0"
crate = "stamp-macro"
"#,
        )
        .expect("sample parses")
    }

    #[test]
    fn env_mitigations_respect_their_versions() {
        let db = sample();
        let sde = &db.entries[0].mitigating_env[0];
        assert_eq!(sde.crate_name.as_deref(), Some("stamp-macro"));
        assert!(!sde.honoured_by([&Version::new(0, 4, 9)]));
        assert!(sde.honoured_by([&Version::new(0, 5, 0)]));
        // Every copy of the crate must honour them, and some copy must be there.
        assert!(!sde.honoured_by([&Version::new(0, 6, 0), &Version::new(0, 4, 0)]));
        assert!(!sde.honoured_by([]));
        let unversioned = EnvMitigation {
            vars: vec!["X".into()],
            versions: None,
            crate_name: None,
        };
        assert!(unversioned.honoured_by([]));
    }

    #[test]
    fn feature_requirements_hold_for_their_versions() {
        let db = sample();
        let entry = &db.entries[0];
        assert_eq!(
            entry.required_features(&Version::new(0, 9, 0)),
            Some(&["old-time".to_string()][..])
        );
        assert_eq!(
            entry.required_features(&Version::new(1, 2, 0)),
            Some(&["time".to_string(), "clock".to_string()][..])
        );
        assert_eq!(entry.note_only.as_deref(), Some("the tool cannot tell"));
        let none = parse(
            r#"
[[entry]]
id = "plain"
crate = "plain"
affected = "*"
mechanism = "m"
mitigation = "m"
upstream = ["https://example.org/1"]
verified = false
verification = "v"
"#,
        )
        .expect("parses");
        assert_eq!(
            none.entries[0].required_features(&Version::new(1, 0, 0)),
            None
        );
        assert!(none.entries[0].note_only.is_none());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = "[[entry]]\nid = \"x\"\ncrate = \"x\"\naffected = \"*\"\nmechanism = \"m\"\nmitigation = \"m\"\nupstream = []\nverified = false\nverification = \"v\"\nrequires_feature = []\n";
        assert!(parse(text).is_err());
    }
}
