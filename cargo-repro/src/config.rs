//! The audit's configuration: `repro.toml` or `[workspace.metadata.repro]`, plus CLI overrides.
//!
//! ```toml
//! [rules]
//! codegen-units = "deny"        # allow | warn | deny
//!
//! [[allow]]
//! rule = "known-nondeterministic-crate"
//! package = "const-random"      # optional: name or name@version
//! path = "build.rs"             # optional: the finding's file
//! reason = "CONST_RANDOM_SEED is set by our release Dockerfile"
//! ```

use std::collections::BTreeMap;

use toml_edit::{Item, Table};

use crate::diag::{Finding, Level, Location};
use crate::rules::{self, Rule};
use crate::workspace::{TomlFile, Workspace};

/// An `[[allow]]` entry: findings it matches are not reported.
#[derive(Clone, Debug)]
pub struct Exception {
    pub rule: String,
    pub package: Option<String>,
    pub path: Option<String>,
    pub reason: String,
    /// Where the entry is, for `unused-exception`.
    pub location: Location,
}

impl Exception {
    /// True when the exception covers the finding.
    pub fn matches(&self, finding: &Finding) -> bool {
        if self.rule != finding.rule {
            return false;
        }
        if let Some(package) = &self.package {
            let Some(found) = &finding.package else {
                return false;
            };
            let name = found.split('@').next().unwrap_or_default();
            if package != found && package != name {
                return false;
            }
        }
        if let Some(path) = &self.path
            && path != &finding.location.path
        {
            return false;
        }
        true
    }
}

/// Levels and exceptions in force.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Per-rule levels from the file, then the command line.
    pub levels: BTreeMap<&'static str, Level>,
    pub exceptions: Vec<Exception>,
    /// `--deny warnings`.
    pub deny_warnings: bool,
    /// When not empty, only these rules run.
    pub only: Vec<&'static str>,
    /// Where the configuration came from, for messages.
    pub source: Option<String>,
    /// `[entry-points] strict = true`: findings in development entry points keep their rule's
    /// level instead of being notes.
    pub strict_entry_points: bool,
}

/// Level overrides given on the command line.
#[derive(Clone, Debug, Default)]
pub struct CliOverrides {
    pub deny: Vec<String>,
    pub warn: Vec<String>,
    pub allow: Vec<String>,
    /// `--only`: run just these rules.
    pub only: Vec<String>,
}

impl Config {
    /// The level of a rule after configuration (`allow` for rules left out by `--only`).
    pub fn level_of(&self, rule: &Rule) -> Level {
        if self.left_out_by_only(rule) {
            return Level::Allow;
        }
        self.configured_level(rule)
    }

    /// The level from the file and the command line, ignoring `--only`.
    pub fn configured_level(&self, rule: &Rule) -> Level {
        self.levels
            .get(rule.id)
            .copied()
            .unwrap_or(rule.default_level)
    }

    /// True when `--only` was given and does not name the rule.
    pub fn left_out_by_only(&self, rule: &Rule) -> bool {
        !self.only.is_empty() && !self.only.contains(&rule.id)
    }

    /// Reads `repro.toml` or `[workspace.metadata.repro]` (not both), then applies CLI overrides.
    pub fn load(workspace: &Workspace, overrides: &CliOverrides) -> anyhow::Result<Config> {
        let path = workspace.root.join("repro.toml");
        let in_manifest = workspace
            .root_manifest
            .get(&["workspace", "metadata", "repro"])
            .is_some();
        let mut config = if crate::guard::read::present(&path) {
            let file = TomlFile::read(&path, "repro.toml".into())?;
            if in_manifest {
                anyhow::bail!(
                    "Cargo.toml: [workspace.metadata.repro] and repro.toml both configure cargo-repro; keep one"
                );
            }
            let table = file.root().clone();
            Config::from_table(&file, &table, "repro.toml")?
        } else if in_manifest {
            let file = &workspace.root_manifest;
            let table = file
                .get(&["workspace", "metadata", "repro"])
                .and_then(Item::as_table_like)
                .map(table_from)
                .ok_or_else(|| {
                    anyhow::anyhow!("Cargo.toml: [workspace.metadata.repro] must be a table")
                })?;
            Config::from_table(file, &table, "Cargo.toml [workspace.metadata.repro]")?
        } else {
            Config::default()
        };
        config.apply_overrides(overrides)?;
        Ok(config)
    }

    fn from_table(file: &TomlFile, table: &Table, source: &str) -> anyhow::Result<Config> {
        let mut config = Config {
            source: Some(source.to_string()),
            ..Config::default()
        };
        let here = |item: &Item| -> String {
            let loc = file.item_location(item);
            format!("{}:{}", loc.path, loc.line.unwrap_or(1))
        };
        for (key, item) in table.iter() {
            match key {
                "rules" => {
                    let rules = item.as_table_like().ok_or_else(|| {
                        anyhow::anyhow!(
                            "{}: `rules` must be a table of rule = \"level\"",
                            here(item)
                        )
                    })?;
                    for (id, value) in rules.iter() {
                        let rule = rules::find(id).ok_or_else(|| {
                            anyhow::anyhow!(
                                "{}: unknown rule `{id}`; see `cargo repro rules`",
                                here(value)
                            )
                        })?;
                        let level = value.as_str().and_then(Level::parse_configurable).ok_or_else(|| {
                            anyhow::anyhow!(
                                "{}: the level of `{id}` must be \"allow\", \"warn\" or \"deny\"",
                                here(value)
                            )
                        })?;
                        config.levels.insert(rule.id, level);
                    }
                }
                "allow" => {
                    let entries = item.as_array_of_tables().ok_or_else(|| {
                        anyhow::anyhow!(
                            "{}: `allow` must be an array of tables ([[allow]])",
                            here(item)
                        )
                    })?;
                    for entry in entries.iter() {
                        config.exceptions.push(parse_exception(file, entry, &here)?);
                    }
                }
                "entry-points" => {
                    let table = item.as_table_like().ok_or_else(|| {
                        anyhow::anyhow!("{}: `entry-points` must be a table", here(item))
                    })?;
                    for (key, value) in table.iter() {
                        match (key, value.as_bool()) {
                            ("strict", Some(strict)) => config.strict_entry_points = strict,
                            ("strict", None) => anyhow::bail!(
                                "{}: `entry-points.strict` must be true or false",
                                here(value)
                            ),
                            (other, _) => anyhow::bail!(
                                "{}: unknown key `{other}` in [entry-points]; expected `strict`",
                                here(value)
                            ),
                        }
                    }
                }
                other => anyhow::bail!(
                    "{}: unknown key `{other}` in the cargo-repro configuration; expected `rules`, `allow` or `entry-points`",
                    here(item)
                ),
            }
        }
        Ok(config)
    }

    fn apply_overrides(&mut self, overrides: &CliOverrides) -> anyhow::Result<()> {
        for id in &overrides.only {
            let rule = rules::find(id)
                .ok_or_else(|| anyhow::anyhow!("unknown rule `{id}`; see `cargo repro rules`"))?;
            self.only.push(rule.id);
        }
        let lists = [
            (&overrides.allow, Level::Allow),
            (&overrides.warn, Level::Warn),
            (&overrides.deny, Level::Deny),
        ];
        for (ids, level) in lists {
            for id in ids {
                if id == "warnings" && level == Level::Deny {
                    self.deny_warnings = true;
                    continue;
                }
                let rule = rules::find(id).ok_or_else(|| {
                    anyhow::anyhow!("unknown rule `{id}`; see `cargo repro rules`")
                })?;
                self.levels.insert(rule.id, level);
            }
        }
        Ok(())
    }
}

fn table_from(table: &dyn toml_edit::TableLike) -> Table {
    let mut out = Table::new();
    for (key, item) in table.iter() {
        out.insert(key, item.clone());
    }
    out
}

fn parse_exception(
    file: &TomlFile,
    entry: &Table,
    here: &dyn Fn(&Item) -> String,
) -> anyhow::Result<Exception> {
    let at = file.table_location(entry);
    let at_text = format!("{}:{}", at.path, at.line.unwrap_or(1));
    let mut rule = None;
    let mut package = None;
    let mut path = None;
    let mut reason = None;
    for (key, value) in entry.iter() {
        let text = value
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("{}: `{key}` must be a string", here(value)))?
            .to_string();
        match key {
            "rule" => {
                if rules::find(&text).is_none() {
                    anyhow::bail!(
                        "{}: unknown rule `{text}`; see `cargo repro rules`",
                        here(value)
                    );
                }
                rule = Some(text);
            }
            "package" => package = Some(text),
            "path" => path = Some(text),
            "reason" => reason = Some(text),
            other => anyhow::bail!(
                "{}: unknown key `{other}` in [[allow]]; expected rule, package, path, reason",
                here(value)
            ),
        }
    }
    let rule =
        rule.ok_or_else(|| anyhow::anyhow!("{at_text}: an [[allow]] entry needs `rule = \"…\"`"))?;
    let reason = reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
        anyhow::anyhow!(
            "{at_text}: the [[allow]] entry for `{rule}` needs a `reason = \"…\"` saying why"
        )
    })?;
    Ok(Exception {
        rule,
        package,
        path,
        reason,
        location: at,
    })
}
