//! The profiles release entry points build with: `--release`, `--profile NAME` with its
//! `inherits` chain, `[profile.dist]` for dist, and what their environment sets for a profile
//! (`CARGO_PROFILE_<NAME>_*`, `-C codegen-units=…` in RUSTFLAGS).

use super::entry_points::cargo::cargo_call;
use super::entry_points::{EntryPoint, EnvVar};
use super::{ProfileSetting, Workspace};

/// A release build's setting made by its entry point's environment.
#[derive(Clone, Debug)]
pub struct EnvSetting {
    /// The value it sets (`1`, `false`, `fat`).
    pub value: String,
    /// `path:line` of the variable.
    pub place: String,
}

/// One cargo build of a release job.
struct ReleaseBuild<'a> {
    entry: &'a EntryPoint,
    env: &'a [EnvVar],
    profile: String,
}

impl Workspace {
    /// True when the workspace ships binaries: a member with a binary target, or an entry
    /// point with a release job. Rules about binary releases only note libraries.
    pub fn ships_binaries(&self) -> bool {
        self.members.iter().any(|m| m.has_bin)
            || self
                .entry_points
                .iter()
                .any(|e| e.jobs.iter().any(|j| j.role.is_release()))
    }

    /// Why the tool sees no release, when the workspace has CI workflows and no entry point
    /// makes a release (no job publishes or builds on tags, no Dockerfile, recipe or script
    /// is a release). Findings about the release's compiler and profile are then development
    /// findings: the project's automation builds nothing that is released (a source-only
    /// release, like a crate published to crates.io), and a release made by hand is held to
    /// the release standard with `[entry-points] strict = true`. `None` when some entry point
    /// is a release, or when there are no workflows at all: then a release can only be built
    /// by hand, with the workspace's own settings.
    pub fn release_unseen(&self) -> Option<String> {
        let any_release = self
            .entry_points
            .iter()
            .any(|e| e.jobs.iter().any(|j| j.role.is_release()));
        let workflows: Vec<&str> = self
            .entry_points
            .iter()
            .filter(|e| e.kind == super::EntryKind::Workflow)
            .map(|e| e.file.display_path.as_str())
            .collect();
        if any_release || workflows.is_empty() {
            return None;
        }
        let (named, verbs) = match workflows.as_slice() {
            [one] => (format!("the workflow {one}"), ("publishes", "builds")),
            _ => (
                format!("the workflows {}", workflows.join(", ")),
                ("publish", "build"),
            ),
        };
        Some(format!(
            "development: no entry point makes a release ({named} {} nothing and {} nothing on tags; no Dockerfile, recipe or script is a release), so nothing the project's automation builds is released; if releases are built by hand, `[entry-points] strict = true` holds this to the release standard",
            verbs.0, verbs.1
        ))
    }

    /// A finding about the release's compiler or profile: a development finding (a note
    /// unless `strict`) when no release is seen ([`Workspace::release_unseen`]).
    pub fn about_release(&self, finding: crate::diag::Finding) -> crate::diag::Finding {
        match self.release_unseen() {
            Some(why) => finding.note(why).development(),
            None => finding,
        }
    }

    fn release_builds(&self) -> Vec<ReleaseBuild<'_>> {
        let mut out = Vec::new();
        for entry in &self.entry_points {
            for (job, command) in entry.commands() {
                if !job.role.is_release() {
                    continue;
                }
                let profile = match cargo_call(command) {
                    Some(call) if call.builds() && !call.installs_remote() => call.profile(),
                    Some(call) if call.subcommand == "dist" => Some("dist".to_string()),
                    None if matches!(command.program_name(), "dist" | "cargo-dist")
                        && command.args().first().is_some_and(|w| w.text == "build") =>
                    {
                        Some("dist".to_string())
                    }
                    _ => None,
                };
                if let Some(profile) = profile.filter(|p| p != "dev") {
                    out.push(ReleaseBuild {
                        entry,
                        env: &command.env,
                        profile,
                    });
                }
            }
        }
        out
    }

    /// The profiles release builds use, sorted; `release` when no release build is known.
    pub fn release_profiles(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .release_builds()
            .into_iter()
            .map(|b| b.profile)
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            names.push("release".to_string());
        }
        names
    }

    /// The setting `key` of profile `name` as cargo resolves it: a cargo config (nearest
    /// first) overrides the root manifest, and a profile without the key takes it from the
    /// profile it `inherits` (custom profiles) or none (`release`, `dev`).
    pub fn profile_setting(&self, name: &str, key: &str) -> Option<ProfileSetting<'_>> {
        let mut current = name.to_string();
        for _ in 0..16 {
            let files = self
                .cargo_configs
                .iter()
                .chain(std::iter::once(&self.root_manifest));
            let mut inherits = None;
            for file in files {
                let Some(table) = file.get(&["profile", &current]).and_then(|t| t.as_table())
                else {
                    continue;
                };
                if let Some(item) = table.get(key) {
                    return Some(ProfileSetting { file, table, item });
                }
                if inherits.is_none() {
                    inherits = table
                        .get("inherits")
                        .and_then(|i| i.as_str())
                        .map(str::to_string);
                }
            }
            match inherits {
                Some(parent) if !matches!(current.as_str(), "release" | "dev") => current = parent,
                _ => return None,
            }
        }
        None
    }

    /// The value every release build of profile `name` sets for `key` through its
    /// environment (`CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1`; for `codegen-units`, also
    /// `-C codegen-units=1` in RUSTFLAGS), when all of them do.
    pub fn env_profile_setting(&self, name: &str, key: &str) -> Option<EnvSetting> {
        let variable = format!(
            "CARGO_PROFILE_{}_{}",
            name.to_ascii_uppercase().replace('-', "_"),
            key.to_ascii_uppercase().replace('-', "_")
        );
        let builds: Vec<ReleaseBuild<'_>> = self
            .release_builds()
            .into_iter()
            .filter(|b| b.profile == name)
            .collect();
        let mut found: Option<EnvSetting> = None;
        for build in &builds {
            let set = build.env.iter().rev().find_map(|var| {
                if var.name == variable {
                    return Some((var.value.text.clone(), var));
                }
                if key == "codegen-units"
                    && matches!(var.name.as_str(), "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS")
                {
                    return codegen_units_flag(&var.value.text).map(|v| (v, var));
                }
                None
            });
            let (value, var) = set?;
            let line = build.entry.file.line_of(var.name_span.start);
            found.get_or_insert(EnvSetting {
                value,
                place: format!("{}:{line}", build.entry.file.display_path),
            });
        }
        found
    }
}

/// `1` from `-C codegen-units=1`, `-Ccodegen-units=1`.
fn codegen_units_flag(flags: &str) -> Option<String> {
    let at = flags.rfind("codegen-units=")?;
    let value: String = flags[at + "codegen-units=".len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codegen_flags() {
        assert_eq!(
            codegen_units_flag("-C codegen-units=1 -C x").as_deref(),
            Some("1")
        );
        assert_eq!(
            codegen_units_flag("-Ccodegen-units=16").as_deref(),
            Some("16")
        );
        assert_eq!(codegen_units_flag("-C opt-level=3"), None);
    }
}
