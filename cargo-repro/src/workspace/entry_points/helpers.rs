//! What a build's binary is for in its job: a *helper* build makes a binary that the job
//! only runs to generate documentation or completions (`./target/debug/app --man >
//! app.1`, `$(EXE) --gen-completions bash`), and that nothing packages, copies or uploads;
//! the released binary is built by another command. Judged from the commands after the build
//! in the same job, and for a make or just recipe from the release recipes that need it.

use super::cargo::cargo_call;
use super::{Command, EntryPoint, Job, Word};

/// Arguments that ask a program for documentation or completions.
fn generates_docs(word: &str) -> bool {
    let word = word.to_ascii_lowercase();
    word.starts_with("--gen")
        || word.contains("complet")
        || word.contains("manpage")
        || word.contains("mangen")
        || matches!(
            word.as_str(),
            "man" | "--man" | "--markdown-help" | "--help-markdown" | "--help-man"
        )
}

/// Where the binaries of a cargo build land, as a path prefix (`target/debug/`,
/// `target/x86_64-unknown-linux-musl/release/`); `None` when it depends on a value the tool
/// cannot know.
fn output_dir(command: &Command) -> Option<String> {
    let call = cargo_call(command)?;
    let target_dir = match super::option_value(call.own_args(), &["--target-dir"]) {
        Some(word) if word.dynamic => return None,
        Some(word) => super::option_text(word, &["--target-dir"]).to_string(),
        None => match command.env_value("CARGO_TARGET_DIR") {
            Some(var) if var.value.dynamic => return None,
            Some(var) => var.value.text.clone(),
            None => "target".to_string(),
        },
    };
    let profile = call.profile()?;
    let profile_dir = match profile.as_str() {
        "dev" | "test" => "debug".to_string(),
        "bench" => "release".to_string(),
        other => other.to_string(),
    };
    let triple = match super::option_value(call.own_args(), &["--target"]) {
        Some(word) if word.dynamic => return None,
        Some(word) => format!("{}/", super::option_text(word, &["--target"])),
        None => String::new(),
    };
    let target_dir = normalise(&target_dir);
    Some(format!("{target_dir}/{triple}{profile_dir}/"))
}

/// A path without a leading `./` or trailing `/`.
fn normalise(path: &str) -> String {
    path.trim_start_matches("./")
        .trim_end_matches('/')
        .to_string()
}

/// Every text a word can be.
fn texts(word: &Word) -> Vec<String> {
    match word.possible() {
        Some(values) => values.into_iter().map(str::to_string).collect(),
        None => vec![word.text.clone()],
    }
}

/// How a later command uses a build's output.
enum Use {
    /// It runs the binary to generate documentation or completions.
    Generates(usize),
    /// It does something else with it (runs it otherwise, copies, packs, uploads it).
    Other,
    None,
}

fn use_of(command: &Command, is_output: &dyn Fn(&str) -> bool, line: usize) -> Use {
    // Recording where the binary is (`echo BIN=… >> $GITHUB_ENV`) is not using it.
    if command.stdout.as_ref().is_some_and(|w| {
        matches!(
            w.text.as_str(),
            "$GITHUB_ENV" | "${GITHUB_ENV}" | "$GITHUB_OUTPUT" | "${GITHUB_OUTPUT}"
        )
    }) {
        return Use::None;
    }
    let runs = texts(command.program()).iter().any(|t| is_output(t));
    if runs {
        return if command.args().iter().any(|w| generates_docs(&w.text)) {
            Use::Generates(line)
        } else {
            Use::Other
        };
    }
    let named = command
        .args()
        .iter()
        .any(|w| texts(w).iter().any(|t| mentions(t, is_output)));
    if named { Use::Other } else { Use::None }
}

/// True when a word names the output somewhere in it (`dist/` copies of `target/release/app`,
/// `--bin-dir=target/release/`).
fn mentions(text: &str, is_output: &dyn Fn(&str) -> bool) -> bool {
    text.split(['=', ' ', ':', ','])
        .any(|part| is_output(part) || is_output(&format!("{}/x", part.trim_end_matches('/'))))
}

/// Why the build `command` (the `index`-th command of `job`) only makes a helper, when it
/// does: "its binary is only run to generate documentation or completions (line 113)".
pub fn helper_build(entry: &EntryPoint, job: &Job, index: usize) -> Option<String> {
    let command = job.commands.get(index)?;
    let call = cargo_call(command)?;
    if !call.builds() || call.installs_remote() {
        return None;
    }
    let mut generator_lines: Vec<usize> = Vec::new();
    let mut judge = |used: Use| -> bool {
        match used {
            Use::Generates(line) => {
                generator_lines.push(line);
                true
            }
            Use::Other => false,
            Use::None => true,
        }
    };
    if let Some(dir) = output_dir(command) {
        let is_output = |text: &str| {
            let text = normalise(text);
            text.strip_prefix(dir.as_str())
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
        };
        for later in &job.commands[index + 1..] {
            let line = entry.file.line_of(later.program().span.start);
            if !judge(use_of(later, &is_output, line)) {
                return None;
            }
        }
        // An action that uploads or attaches it uses it too.
        let build_step = command.step.unwrap_or(0);
        for action in job.actions.iter().filter(|a| a.step > Some(build_step)) {
            for (_, word) in &action.inputs {
                if texts(word).iter().any(|t| mentions(t, &is_output)) {
                    return None;
                }
            }
        }
    }
    // A make or just recipe: what it makes is its name, used by the release recipes that
    // need it.
    if !job.name.is_empty() && entry.kind != super::EntryKind::Workflow {
        let is_output = |text: &str| text == job.name;
        for other in entry
            .jobs
            .iter()
            .filter(|j| j.role.is_release() && j.needs.contains(&job.name))
        {
            for later in &other.commands {
                let line = entry.file.line_of(later.program().span.start);
                if !judge(use_of(later, &is_output, line)) {
                    return None;
                }
            }
        }
    }
    if generator_lines.is_empty() {
        return None;
    }
    generator_lines.sort_unstable();
    generator_lines.dedup();
    let lines: Vec<String> = generator_lines.iter().map(|l| l.to_string()).collect();
    Some(format!(
        "a helper build: its binary is only run to generate documentation or completions (line{} {}) and nothing packages it, so the released binary is built elsewhere",
        if lines.len() == 1 { "" } else { "s" },
        lines.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::EntryKind;

    fn helper(kind: EntryKind, text: &str, index: usize) -> Option<String> {
        let entry = EntryPoint::from_text(kind, text);
        let (job_index, command_index) = entry
            .jobs
            .iter()
            .enumerate()
            .flat_map(|(j, job)| (0..job.commands.len()).map(move |c| (j, c)))
            .nth(index)
            .unwrap();
        helper_build(&entry, &entry.jobs[job_index], command_index)
    }

    #[test]
    fn builds_run_only_for_docs_are_helpers() {
        let man =
            "cargo build\nmkdir -p man\n./target/debug/app --man > man/app.1\n./bin/package\n";
        let found = helper(EntryKind::Script, man, 0).unwrap();
        assert!(found.contains("(line 3)"), "{found}");
        let shipped = "cargo build --release\n./target/release/app --generate man > app.1\n\
                       tar czf app.tgz target/release/app\n";
        assert_eq!(helper(EntryKind::Script, shipped, 0), None);
        let run_otherwise = "cargo build --release\n./target/release/app serve\n";
        assert_eq!(helper(EntryKind::Script, run_otherwise, 0), None);
        let never_run = "cargo build --release\n";
        assert_eq!(helper(EntryKind::Script, never_run, 0), None);
        let other_target = "cargo build --target x86_64-unknown-linux-musl\n\
                            target/x86_64-unknown-linux-musl/debug/app --generate complete-bash\n";
        assert!(helper(EntryKind::Script, other_target, 0).is_some());
    }

    #[test]
    fn a_recipe_whose_target_is_run_for_completions() {
        let make = "EXE=target/$(PROFILE)/app\n\n$(EXE): Cargo.toml\n\tcargo build --profile $(PROFILE) --locked\n\n\
                    app.bash: $(EXE)\n\t$(EXE) --gen-completions bash > $@\n";
        assert!(helper(EntryKind::Makefile, make, 0).is_some());
        let installs = "$(EXE): Cargo.toml\n\tcargo build --release\n\ninstall: $(EXE)\n\tinstall -Dm755 $(EXE) /usr/bin/app\n";
        assert_eq!(helper(EntryKind::Makefile, installs, 0), None);
    }
}
