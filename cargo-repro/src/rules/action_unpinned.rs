//! `action-unpinned`: a release job uses an action by tag or branch, or pipes a download into a shell.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::toolchains::is_commit_sha;
use crate::workspace::entry_points::{ActionUse, EntryKind, EntryPoint, Job, in_job};

pub static RULE: Rule = Rule {
    id: "action-unpinned",
    default_level: Level::Warn,
    summary: "a release job runs an action by tag or branch, or a downloaded script",
    docs: r#"
### What it finds
In a release job (see "Roles"): a `uses:` of an action or reusable workflow by tag or branch
(`actions/checkout@v4`, `org/action@main`) instead of a full commit SHA, and a download piped
into a shell (`curl … | sh`, `wget -O- … | bash`). Local actions (`./…`) and `docker://`
images (see `image-unpinned`) are not reported. Development jobs get notes.

### Why it breaks reproducibility
A tag or branch is moved by whoever controls the action's repository: the next run of the same
release workflow executes other code, with the job's secrets and over the artifacts it builds,
uploads or signs. A script piped from the network is the same, with no record of what ran.

### Example
```yaml
- uses: softprops/action-gh-release@v2
- run: curl -sSf https://sh.rustup.rs | sh -s -- -y
```

### Fix
Pin the commit and keep the tag as a comment (Dependabot and Renovate update both):
```yaml
- uses: softprops/action-gh-release@c95fe1489396fe8a9eb87c0abf8aa5b2ef267fda # v2.2.1
```
Download scripts to a file, check their sha256, then run them, or use a pinned action.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &workspace.entry_points {
        check_entry(entry, out);
    }
}

fn check_entry(entry: &EntryPoint, out: &mut Vec<Finding>) {
    if entry.kind == EntryKind::Workflow {
        // One decision per workflow and role: pinning its actions. The first unpinned action
        // carries the finding; the others are listed in its notes.
        for release in [true, false] {
            let unpinned: Vec<(&Job, &ActionUse)> = entry
                .jobs
                .iter()
                .filter(|job| job.role.is_release() == release)
                .flat_map(|job| job.actions.iter().map(move |a| (job, a)))
                .filter(|(_, action)| is_unpinned(action))
                .collect();
            let Some(((job, first), rest)) = unpinned.split_first() else {
                continue;
            };
            let (name, reference) = first.name_and_ref();
            let reference = reference.unwrap_or("");
            let mut message = if reference.is_empty() {
                format!("`{name}` is used without a ref: it runs whatever its default branch holds")
            } else {
                format!(
                    "`{name}@{reference}` is used by tag or branch: its owner can move `{reference}` to other code"
                )
            };
            if !rest.is_empty() {
                message.push_str(&format!(
                    " (and {} more in this workflow's {} jobs)",
                    rest.len(),
                    if release { "release" } else { "development" }
                ));
            }
            let mut finding = Finding::new(RULE.id, message, entry.location(&first.uses.span))
                .help(format!(
                    "pin each action's commit with the tag as a comment: `{name}@<40-hex commit> # {}`",
                    if reference.is_empty() { "vX.Y.Z" } else { reference }
                ));
            for (other_job, action) in rest {
                let line = entry.file.line_of(action.uses.span.start);
                finding = finding.note(format!(
                    "also `{}` at line {line} (job `{}`)",
                    action.uses.text, other_job.name
                ));
            }
            out.push(in_job(finding, job));
        }
    }
    for job in &entry.jobs {
        for window in job.commands.windows(2) {
            let [download, shell] = window else { continue };
            let downloads = matches!(download.program_name(), "curl" | "wget");
            let runs = matches!(
                shell.program_name(),
                "sh" | "bash" | "zsh" | "dash" | "python" | "python3"
            );
            let reads_stdin = reads_script_from_stdin(shell);
            let same_line = entry.file.line_of(download.program().span.start)
                == entry.file.line_of(shell.program().span.start);
            if downloads && runs && reads_stdin && same_line {
                let finding = Finding::new(
                    RULE.id,
                    format!("`{} … | {}` runs a downloaded script that nothing pins or checks", download.program_name(), shell.program_name()),
                    entry.location(&download.program().span),
                )
                .help("download to a file, check its sha256 against a committed value, then run it; or use a pinned action or package");
                out.push(in_job(finding, job));
            }
        }
    }
}

/// True when a shell reads its script from standard input: no script file before `-s` or `--`
/// (`sh`, `sh -s -- -y --profile minimal`), not `sh ./install.sh`.
fn reads_script_from_stdin(shell: &crate::workspace::entry_points::Command) -> bool {
    for word in shell.args() {
        match word.text.as_str() {
            "-s" | "--" | "-" => return true,
            "-c" => return false,
            text if text.starts_with('-') => {}
            _ => return false,
        }
    }
    true
}

/// An action referenced by tag, branch or nothing (not local, not an image).
fn is_unpinned(action: &ActionUse) -> bool {
    let (name, reference) = action.name_and_ref();
    !action.uses.dynamic
        && !name.starts_with("./")
        && !name.starts_with("docker://")
        && !reference.is_some_and(is_commit_sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(kind: EntryKind, text: &str) -> Vec<String> {
        let entry = EntryPoint::from_text(kind, text);
        let mut out = Vec::new();
        check_entry(&entry, &mut out);
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn tags_branches_and_piped_downloads() {
        let found = messages(
            EntryKind::Workflow,
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n\
             \x20     - uses: actions/checkout@v4\n\
             \x20     - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1\n\
             \x20     - uses: ./.github/actions/local\n\
             \x20     - uses: org/tool@main\n\
             \x20     - run: curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal\n\
             \x20     - run: curl -o x.sh https://e.org/x.sh && sha256sum -c x.sha && sh x.sh\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("`actions/checkout@v4`"));
        assert!(found[0].contains("(and 1 more in this workflow's release jobs)"));
        assert!(found[1].contains("`curl … | sh`"));
    }
}
