//! What the release builds compile: the packages, features and platforms of the cargo command
//! lines of release entry points, for the graph's feature resolution.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::build_code::cfg::host_triple;
use super::entry_points::EntryPoint;
use super::entry_points::cargo::{Selection, cargo_call};

/// The selections of the release builds (deduplicated; empty when no release build is known,
/// which the graph reads as the workspace's defaults) and the triples they compile for,
/// target and host sides (this machine's when none is named). `members` are the workspace's
/// (name, directory relative to the root): `cargo install --path DIR` selects the member in
/// DIR, and one outside the workspace (another workspace) is not a build of this one.
pub fn release_builds(
    entry_points: &[EntryPoint],
    members: &[(String, PathBuf)],
) -> (Vec<Selection>, Vec<String>) {
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
            let mut selection = call.selection();
            if let Some(path) = selection.install_path.take() {
                let dir = normalise(&Path::new(&command.directory).join(path));
                match members.iter().find(|(_, member)| normalise(member) == dir) {
                    Some((name, _)) => selection.packages.push(name.clone()),
                    None => continue,
                }
            }
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

/// Each member's name and directory relative to the workspace root.
pub fn member_dirs(root: &Path, members: &[super::Member]) -> Vec<(String, PathBuf)> {
    members
        .iter()
        .map(|m| {
            let relative = m.dir.strip_prefix(root).unwrap_or(&m.dir);
            (m.name.clone(), relative.to_path_buf())
        })
        .collect()
}

/// A relative path without `.` and with `..` applied.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
