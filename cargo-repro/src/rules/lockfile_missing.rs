//! `lockfile-missing`: no `Cargo.lock`, or one that git ignores or does not track.

use crate::diag::{Finding, Level, Location};
use crate::rules::Rule;
use crate::workspace::{GitStatus, Workspace};

pub static RULE: Rule = Rule {
    id: "lockfile-missing",
    default_level: Level::Deny,
    summary: "Cargo.lock is missing, git-ignored or not committed",
    docs: r#"
### What it finds
A workspace without `Cargo.lock`, or whose `Cargo.lock` is ignored by a `.gitignore` pattern or
not tracked by git.

### Why it breaks reproducibility
Without a committed lockfile, every build resolves dependency versions afresh: a rebuild picks
up whatever was published since, and nobody can rebuild the exact release.

### Example
```text
# .gitignore
Cargo.lock
```

### Fix
Run `cargo generate-lockfile` if needed, remove the ignore pattern, and `git add Cargo.lock`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    if workspace.lockfile.is_none() {
        out.push(
            Finding::new(
                RULE.id,
                "Cargo.lock is missing: dependency versions are resolved afresh on every build",
                Location::file("Cargo.lock"),
            )
            .help("run `cargo generate-lockfile` and commit Cargo.lock"),
        );
        return;
    }
    match &workspace.lockfile_git {
        GitStatus::Tracked | GitStatus::NoRepository => {}
        GitStatus::Untracked => out.push(
            Finding::new(
                RULE.id,
                "Cargo.lock is not tracked by git",
                Location::file("Cargo.lock"),
            )
            .help("commit it: `git add Cargo.lock`"),
        ),
        GitStatus::Ignored {
            source,
            line,
            pattern,
        } => {
            let location = ignore_location(workspace, source, *line, pattern);
            out.push(
                Finding::new(
                    RULE.id,
                    format!("Cargo.lock is ignored by git (pattern `{pattern}`)"),
                    location,
                )
                .help("remove the pattern and commit Cargo.lock: `git add Cargo.lock`"),
            );
        }
    }
}

/// The `.gitignore` line that ignores the lockfile, when it is inside the workspace.
fn ignore_location(workspace: &Workspace, source: &str, line: usize, pattern: &str) -> Location {
    let path = workspace.root.join(source);
    if line == 0 || !workspace.contains(&path) {
        return Location::file("Cargo.lock");
    }
    match crate::workspace::SourceFile::read(&path, workspace.display(&path)) {
        Ok(file) if line <= file.line_count() => file.find_on_line(line, pattern),
        _ => Location::file("Cargo.lock"),
    }
}
