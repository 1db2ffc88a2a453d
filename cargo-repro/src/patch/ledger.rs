//! The ledger of vendored patches, `vendor/patches.toml`: one table per patched crate.
//!
//! ```toml
//! [i18n-embed-fl]
//! version = "0.9.4"                          # the upstream release the tree was taken from
//! path = "vendor/i18n-embed-fl"              # the vendored tree
//! diff = "vendor/i18n-embed-fl.patch"        # unified diff from upstream to the tree
//! upstream-sha256 = "…"                      # sha256 of the upstream .crate
//! tree-sha256 = "…"                          # hash of the vendored tree (see `Tree::hash`)
//! reason = "fl! emits arguments in HashMap order"
//! upstream = "https://github.com/kellpossible/cargo-i18n/pull/151"
//! resolves = ["i18n-embed-fl-hashmap-args"]  # known-crates database ids
//! remove-when = "age depends on i18n-embed-fl 0.10 (age 0.12)"
//! ```
//!
//! The file is written in this exact form (sorted by crate, fixed key order, no timestamps),
//! so the same state always gives the same bytes.

use std::collections::BTreeMap;

use toml_edit::Item;

use crate::diag::Location;
use crate::workspace::{SourceFile, TomlFile};

/// Where the ledger lives, relative to the workspace root.
pub const LEDGER_PATH: &str = "vendor/patches.toml";

/// One vendored patch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub version: String,
    pub path: String,
    pub diff: String,
    pub upstream_sha256: String,
    pub tree_sha256: String,
    pub reason: Option<String>,
    pub upstream: Option<String>,
    pub resolves: Vec<String>,
    pub remove_when: Option<String>,
    /// Where the entry's table starts in the ledger (for findings).
    pub location: Option<Location>,
}

/// The whole ledger.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub entries: BTreeMap<String, Entry>,
}

const KEYS: &[&str] = &[
    "version",
    "path",
    "diff",
    "upstream-sha256",
    "tree-sha256",
    "reason",
    "upstream",
    "resolves",
    "remove-when",
];

impl Ledger {
    /// Parses the ledger; errors name the file, line and key.
    pub fn parse(file: SourceFile) -> anyhow::Result<Ledger> {
        let toml = TomlFile::parse(file)?;
        let shown = toml.file.display_path.clone();
        let mut ledger = Ledger::default();
        for (name, item) in toml.root().iter() {
            let here = |item: &Item| toml.item_location(item).line.unwrap_or(1);
            let table = item.as_table().ok_or_else(|| {
                anyhow::anyhow!(
                    "{shown}:{}: `{name}` must be a table ([{name}]) describing one patch",
                    here(item)
                )
            })?;
            for (key, value) in table.iter() {
                if !KEYS.contains(&key) {
                    anyhow::bail!(
                        "{shown}:{}: unknown key `{key}` in [{name}]; expected one of {}",
                        here(value),
                        KEYS.join(", ")
                    );
                }
            }
            let required = |key: &str| -> anyhow::Result<String> {
                match table.get(key) {
                    Some(value) => value.as_str().map(str::to_string).ok_or_else(|| {
                        anyhow::anyhow!(
                            "{shown}:{}: `{key}` in [{name}] must be a string",
                            here(value)
                        )
                    }),
                    None => anyhow::bail!(
                        "{shown}:{}: [{name}] has no `{key}`; run `cargo repro patch refresh {name}` to record it",
                        toml.table_location(table).line.unwrap_or(1)
                    ),
                }
            };
            let optional = |key: &str| -> anyhow::Result<Option<String>> {
                table
                    .get(key)
                    .map(|_| required(key))
                    .transpose()
                    .map(|v| v.filter(|s| !s.trim().is_empty()))
            };
            let resolves = match table.get("resolves") {
                None => Vec::new(),
                Some(value) => value
                    .as_array()
                    .and_then(|a| {
                        a.iter()
                            .map(|v| v.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "{shown}:{}: `resolves` in [{name}] must be an array of strings",
                            here(value)
                        )
                    })?,
            };
            let entry = Entry {
                version: required("version")?,
                path: required("path")?,
                diff: required("diff")?,
                upstream_sha256: required("upstream-sha256")?,
                tree_sha256: required("tree-sha256")?,
                reason: optional("reason")?,
                upstream: optional("upstream")?,
                resolves,
                remove_when: optional("remove-when")?,
                location: Some(toml.table_location(table)),
            };
            // These become paths (scratch directories, files the commands write and delete).
            let at = |key: &str| format!("{shown}:{}", table.get(key).map_or(1, &here));
            let line = format!("{shown}:{}", toml.table_location(table).line.unwrap_or(1));
            crate::guard::paths::segment(name, "crate name", &line)?;
            crate::guard::paths::version(&entry.version, "`version`", &at("version"))?;
            crate::guard::paths::relative(&entry.path, "`path`", &at("path"))?;
            crate::guard::paths::relative(&entry.diff, "`diff`", &at("diff"))?;
            ledger.entries.insert(name.to_string(), entry);
        }
        Ok(ledger)
    }

    /// The ledger's text: deterministic, sorted by crate, fixed key order.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Vendored crate patches, recorded by `cargo repro patch`.\n\
             # Edit reason, upstream, resolves and remove-when freely; the tool writes the hashes.\n",
        );
        for (name, entry) in &self.entries {
            out.push_str(&format!("\n[{}]\n", key(name)));
            let mut fields: Vec<(&str, String)> = vec![
                ("version", quote(&entry.version)),
                ("path", quote(&entry.path)),
                ("diff", quote(&entry.diff)),
                ("upstream-sha256", quote(&entry.upstream_sha256)),
                ("tree-sha256", quote(&entry.tree_sha256)),
            ];
            if let Some(reason) = &entry.reason {
                fields.push(("reason", quote(reason)));
            }
            if let Some(upstream) = &entry.upstream {
                fields.push(("upstream", quote(upstream)));
            }
            if !entry.resolves.is_empty() {
                let items: Vec<String> = entry.resolves.iter().map(|r| quote(r)).collect();
                fields.push(("resolves", format!("[{}]", items.join(", "))));
            }
            if let Some(when) = &entry.remove_when {
                fields.push(("remove-when", quote(when)));
            }
            for (k, v) in fields {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        out
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_string()
}

/// A bare key when possible, a quoted one otherwise.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_string()
    } else {
        quote(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Ledger> {
        Ledger::parse(SourceFile::new(
            LEDGER_PATH.into(),
            LEDGER_PATH.into(),
            text.into(),
        ))
    }

    #[test]
    fn render_then_parse_round_trips() {
        let mut ledger = Ledger::default();
        ledger.entries.insert(
            "i18n-embed-fl".into(),
            Entry {
                version: "0.9.4".into(),
                path: "vendor/i18n-embed-fl".into(),
                diff: "vendor/i18n-embed-fl.patch".into(),
                upstream_sha256: "aa".into(),
                tree_sha256: "bb".into(),
                reason: Some("fl! emits \"args\" in HashMap order".into()),
                upstream: None,
                resolves: vec!["i18n-embed-fl-hashmap-args".into()],
                remove_when: None,
                location: None,
            },
        );
        let text = ledger.render();
        let mut parsed = parse(&text).unwrap();
        assert_eq!(parsed.render(), text);
        parsed.entries.values_mut().for_each(|e| e.location = None);
        assert_eq!(parsed.entries, ledger.entries);
    }

    #[test]
    fn errors_name_line_and_key() {
        let err = parse("[x]\nversion = \"1\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("vendor/patches.toml:3: unknown key `bogus` in [x]"),
            "{err}"
        );
        let err = parse("[x]\nversion = \"1\"\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "vendor/patches.toml:1: [x] has no `path`; run `cargo repro patch refresh x` to record it"
        );
    }
}
