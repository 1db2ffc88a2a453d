//! What the release builds compile: the packages, features and platforms of the cargo command
//! lines of release entry points, for the graph's feature resolution.

use std::collections::BTreeSet;

use super::build_code::cfg::host_triple;
use super::entry_points::EntryPoint;
use super::entry_points::cargo::{Selection, cargo_call};

/// The selections of the release builds (deduplicated; empty when no release build is known,
/// which the graph reads as the workspace's defaults) and the triples they compile for,
/// target and host sides (this machine's when none is named).
pub fn release_builds(entry_points: &[EntryPoint]) -> (Vec<Selection>, Vec<String>) {
    let mut selections: Vec<Selection> = Vec::new();
    let mut triples = BTreeSet::new();
    for entry in entry_points {
        for (job, command) in entry.commands() {
            if !job.role.is_release() {
                continue;
            }
            let Some(call) = cargo_call(command) else {
                continue;
            };
            if !call.builds() || call.installs_remote() {
                continue;
            }
            let selection = call.selection();
            if !selections.contains(&selection) {
                selections.push(selection);
            }
            if let Some(target) = call.target() {
                triples.insert(target.to_string());
            }
            if let Some(host) = &job.host_target {
                triples.insert(host.clone());
            }
        }
    }
    if triples.is_empty() {
        triples.extend(host_triple().map(str::to_string));
    }
    (selections, triples.into_iter().collect())
}
