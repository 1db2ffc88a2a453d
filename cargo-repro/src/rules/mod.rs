//! The rule registry and the engine that runs rules, applies configured levels and exceptions.
//!
//! A rule is one file in this folder: a `static RULE` with its id, default level, docs and a
//! `check` function that reads the [`Workspace`] and pushes [`Finding`]s. Add it to [`RULES`].

use crate::config::Config;
use crate::diag::{Finding, Level, Report, Summary, sort_findings};
use crate::workspace::Workspace;

pub mod action_unpinned;
pub mod archive_unnormalised;
pub mod build_script_randomness;
pub mod build_script_timestamp;
pub mod build_script_unsorted_readdir;
pub mod build_script_vcs_stamp;
pub mod codegen_units;
pub mod entry_point_unlocked;
pub mod git_dep_unpinned;
pub mod heuristics;
pub mod image_unpinned;
pub mod incremental_release;
pub mod known_nondeterministic_crate;
pub mod lockfile_missing;
pub mod lockfile_stale;
pub mod manifest_dir_embedded;
pub mod patch_drift;
pub mod patch_obsolete;
pub mod patch_undocumented;
pub mod patch_unrecorded;
pub mod patch_unused;
pub mod patch_version_mismatch;
pub mod path_dep_outside_workspace;
pub mod path_remap_missing;
pub mod proc_macro_hash_iteration;
pub mod rustflags_override;
pub mod target_cpu_native;
pub mod thin_lto;
pub mod toolchain_mismatch;
pub mod toolchain_unpinned;
pub mod unused_exception;

/// A check with a stable id.
#[derive(Debug)]
pub struct Rule {
    /// Stable kebab-case id, used in configuration and output. Never renamed.
    pub id: &'static str,
    /// The level when configuration says nothing.
    pub default_level: Level,
    /// One line, lowercase, no trailing period.
    pub summary: &'static str,
    /// Markdown with the sections `### What it finds`, `### Why it breaks reproducibility`,
    /// `### Example` and `### Fix`.
    pub docs: &'static str,
    /// The rule guesses from source patterns; its findings say so.
    pub heuristic: bool,
    /// The rule is more precise with the resolved graph from `cargo metadata`.
    pub uses_graph: bool,
    /// The rule runs in `--pre-commit` mode (lockfile and patch hygiene).
    pub pre_commit: bool,
    /// Pushes the rule's findings.
    pub check: fn(&Workspace, &mut Vec<Finding>),
}

/// Every rule, sorted by id (a test keeps it so).
pub static RULES: &[&Rule] = &[
    &action_unpinned::RULE,
    &archive_unnormalised::RULE,
    &build_script_randomness::RULE,
    &build_script_timestamp::RULE,
    &build_script_unsorted_readdir::RULE,
    &build_script_vcs_stamp::RULE,
    &codegen_units::RULE,
    &entry_point_unlocked::RULE,
    &git_dep_unpinned::RULE,
    &image_unpinned::RULE,
    &incremental_release::RULE,
    &known_nondeterministic_crate::RULE,
    &lockfile_missing::RULE,
    &lockfile_stale::RULE,
    &manifest_dir_embedded::RULE,
    &patch_drift::RULE,
    &patch_obsolete::RULE,
    &patch_undocumented::RULE,
    &patch_unrecorded::RULE,
    &patch_unused::RULE,
    &patch_version_mismatch::RULE,
    &path_dep_outside_workspace::RULE,
    &path_remap_missing::RULE,
    &proc_macro_hash_iteration::RULE,
    &rustflags_override::RULE,
    &target_cpu_native::RULE,
    &thin_lto::RULE,
    &toolchain_mismatch::RULE,
    &toolchain_unpinned::RULE,
    &unused_exception::RULE,
];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// Which rules to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every rule (`check`).
    All,
    /// Lockfile and patch hygiene (`check --pre-commit`).
    PreCommit,
    /// The `patch-*` rules (`patch check`).
    Patch,
}

impl Selection {
    /// Whether the selection includes a rule.
    pub fn includes(self, rule: &Rule) -> bool {
        match self {
            Selection::All => true,
            Selection::PreCommit => rule.pre_commit,
            Selection::Patch => rule.id.starts_with("patch-"),
        }
    }
}

/// Runs each rule's check on a share of the threads; results come back in rule order.
fn check_in_parallel(workspace: &Workspace, planned: &[(&Rule, Level)]) -> Vec<Vec<Finding>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let chunk = planned.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = planned
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(rule, _)| {
                            let mut found = Vec::new();
                            (rule.check)(workspace, &mut found);
                            found
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a rule panicked"))
            .collect()
    })
}

/// Runs the selected rules and applies the configuration: levels, exceptions, `--deny warnings`.
pub fn run(workspace: &Workspace, config: &Config, selection: Selection) -> Report {
    let mut findings = Vec::new();
    let mut ran = Vec::new();
    let mut planned: Vec<(&Rule, Level)> = Vec::new();
    // `unused-exception` can only judge an exception if the rule it names has run; under
    // `--only unused-exception` those rules run silently (their findings are not shown).
    let judge_exceptions = config.level_of(&unused_exception::RULE) != Level::Allow;
    for rule in RULES {
        if !selection.includes(rule) {
            continue;
        }
        if rule.id == unused_exception::RULE.id {
            continue;
        }
        let named_by_exception = config.exceptions.iter().any(|e| e.rule == rule.id);
        let level = if judge_exceptions && named_by_exception && config.left_out_by_only(rule) {
            match config.configured_level(rule) {
                Level::Allow => continue,
                _ => Level::Allow,
            }
        } else {
            config.level_of(rule)
        };
        if level == Level::Allow && !(judge_exceptions && named_by_exception) {
            continue;
        }
        ran.push(rule.id);
        planned.push((*rule, level));
    }
    for ((rule, level), found) in planned.iter().zip(check_in_parallel(workspace, &planned)) {
        let (rule, level) = (*rule, *level);
        for mut finding in found {
            debug_assert_eq!(finding.rule, rule.id, "a rule reports under its own id");
            let as_note = finding.mitigated
                || finding.uncertain
                || (finding.development && !config.strict_entry_points);
            finding.level = match (level, as_note) {
                (Level::Allow, _) => Level::Allow,
                (_, true) => Level::Note,
                (level, false) => level,
            };
            if rule.heuristic {
                finding.notes.push(
                    "this finding comes from a heuristic: review the code; a false positive can be \
                     excepted in repro.toml with a reason"
                        .to_string(),
                );
            }
            findings.push(finding);
        }
    }

    let mut used = vec![false; config.exceptions.len()];
    findings.retain(
        |finding| match config.exceptions.iter().position(|e| e.matches(finding)) {
            Some(index) => {
                used[index] = true;
                false
            }
            None => true,
        },
    );
    if selection == Selection::All {
        let level = config.level_of(&unused_exception::RULE);
        if judge_exceptions {
            for (exception, used) in config.exceptions.iter().zip(used) {
                if !used && ran.contains(&exception.rule.as_str()) {
                    let mut finding = unused_exception::finding(exception);
                    finding.level = level;
                    findings.push(finding);
                }
            }
        }
    }
    for finding in &mut findings {
        if finding.level == Level::Warn && config.deny_warnings {
            finding.level = Level::Deny;
        }
    }
    findings.retain(|f| f.level != Level::Allow);
    sort_findings(&mut findings);

    let mut summary = Summary::count(&findings);
    let graph_rules: Vec<&'static str> = RULES
        .iter()
        .filter(|r| r.uses_graph && ran.contains(&r.id))
        .map(|r| r.id)
        .collect();
    if !graph_rules.is_empty() {
        summary.toolchain_fallback = workspace.toolchain_fallback.clone();
        summary.default_features_only = workspace.graph_default_features_only.clone();
        if let Some(reason) = &workspace.graph_problem {
            summary.limited_reason = Some(reason.clone());
            summary.limited_rules = graph_rules;
        }
    }
    if RULES.iter().any(|r| r.heuristic && ran.contains(&r.id)) {
        summary.unread_sources = workspace
            .build_time_sources
            .iter()
            .flat_map(|s| s.code.unreadable.iter().map(|(_, reason)| reason.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
    }
    Report { findings, summary }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_unique_and_kebab_case() {
        let ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "RULES must be sorted by id with no duplicates");
        for id in ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id} is not kebab-case"
            );
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for rule in RULES {
            for heading in [
                "### What it finds",
                "### Why it breaks reproducibility",
                "### Example",
                "### Fix",
            ] {
                assert!(
                    rule.docs.contains(heading),
                    "{} docs lack `{heading}`",
                    rule.id
                );
            }
            assert!(
                !rule.summary.ends_with('.'),
                "{} summary ends with a period",
                rule.id
            );
            assert_ne!(rule.default_level, Level::Note, "{} default level", rule.id);
        }
    }

    #[test]
    fn every_rule_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            // `heuristics.rs` holds what the source-heuristic rules share.
            if stem == "mod" || stem == "heuristics" {
                continue;
            }
            let id = stem.replace('_', "-");
            if find(&id).is_none() {
                missing.push(id);
            }
        }
        assert!(missing.is_empty(), "add these rules to RULES: {missing:?}");
    }
}
