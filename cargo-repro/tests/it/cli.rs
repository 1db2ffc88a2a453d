//! The command line: output formats, exit codes, colour, level flags, rules and explain.

use crate::support::*;

fn messy() -> std::path::PathBuf {
    workspace_fixture("messy")
}

#[test]
fn clean_workspace_passes_with_exit_0() {
    let out = check(&workspace_fixture("clean"), &["--offline"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "summary: 0 errors, 0 warnings, 0 notes\n");
}

#[test]
fn deny_findings_exit_1_with_human_output() {
    let out = check(&messy(), &["--offline"]);
    assert_eq!(out.status.code(), Some(1));
    assert_snapshot(&messy().join("check.human"), &stdout(&out));
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = check(&messy(), &["--offline", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["format_version"], 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for finding in findings {
        for key in ["rule", "level", "message", "path"] {
            assert!(finding[key].is_string(), "{key} missing in {finding}");
        }
        assert!(finding.get("line").is_some());
    }
    let errors = findings.iter().filter(|f| f["level"] == "deny").count();
    assert_eq!(report["summary"]["errors"], errors);
    let keys: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
                f["column"].as_u64(),
                f["rule"].to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "findings are sorted by path, line, column, rule"
    );
    assert_snapshot(&messy().join("check.json"), &stdout(&out));
}

#[test]
fn sarif_output_is_sarif_2_1_0_with_relative_uris() {
    let out = check(&messy(), &["--offline", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let log = json(&out);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cargo-repro");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains("://"),
            "uri {uri} is not relative"
        );
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
    }
    assert_snapshot(&messy().join("check.sarif"), &stdout(&out));
}

#[test]
fn outputs_are_identical_from_two_checkout_paths() {
    for format in ["human", "json", "sarif"] {
        let mut outputs = Vec::new();
        for place in ["a/first", "b/second/deeper"] {
            let dir = outside_dir(&format!("paths-{format}")).join(place);
            copy_tree(&workspace_fixture("messy"), &dir.join("ws/messy"));
            copy_tree(&fixtures().join("shared"), &dir.join("shared"));
            let out = check(&dir.join("ws/messy"), &["--offline", "--format", format]);
            let text = stdout(&out);
            assert!(
                !text.contains(dir.to_str().unwrap()),
                "absolute path in {format} output:\n{text}"
            );
            outputs.push(text);
        }
        assert_eq!(
            outputs[0], outputs[1],
            "{format} output depends on the checkout path"
        );
    }
}

#[test]
fn deny_warnings_fails_on_warnings() {
    let dir = workspace_fixture("clean");
    let base = fixtures().join("rules/codegen-units/fail-16");
    assert_eq!(
        check(&base, &["--offline", "--only", "codegen-units"])
            .status
            .code(),
        Some(0)
    );
    let out = check(
        &base,
        &["--offline", "--only", "codegen-units", "--deny", "warnings"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("error[codegen-units]"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        check(&dir, &["--offline", "--deny", "warnings"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn level_flags_override_defaults() {
    let base = fixtures().join("rules/codegen-units/fail-16");
    let denied = check(
        &base,
        &[
            "--offline",
            "--only",
            "codegen-units",
            "--deny",
            "codegen-units",
        ],
    );
    assert_eq!(denied.status.code(), Some(1));
    let stale = fixtures().join("rules/lockfile-stale/fail");
    let warned = check(
        &stale,
        &[
            "--offline",
            "--warn",
            "lockfile-stale",
            "--only",
            "lockfile-stale",
        ],
    );
    assert_eq!(warned.status.code(), Some(0));
    assert!(stdout(&warned).starts_with("warning[lockfile-stale]"));
    let allowed = check(
        &stale,
        &[
            "--offline",
            "--allow",
            "lockfile-stale",
            "--only",
            "lockfile-stale",
        ],
    );
    assert_eq!(stdout(&allowed), "summary: 0 errors, 0 warnings, 0 notes\n");
}

#[test]
fn unknown_rule_on_the_command_line_is_a_usage_error() {
    let out = check(&messy(), &["--deny", "no-such-rule"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: unknown rule `no-such-rule`; see `cargo repro rules`\n"
    );
}

#[test]
fn bad_flags_exit_2_and_help_exits_0() {
    let out = run_in(&messy(), &["check", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let help = run_in(&messy(), &["check", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes: 0"), "{}", stdout(&help));
}

#[test]
fn runs_without_the_repro_word_too() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("toolchain-unpinned"));
}

#[test]
fn colour_follows_flag_and_environment() {
    let base = fixtures().join("rules/thin-lto/fail");
    let args = ["--offline", "--only", "thin-lto"];
    let esc = |out: &std::process::Output| stdout(out).contains('\u{1b}');
    assert!(
        !esc(&check(&base, &args)),
        "CARGO_TERM_COLOR=never and a pipe: no colour"
    );
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    assert!(esc(&check(&base, &always)));
    let env_always = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["repro", "check", "--offline", "--only", "thin-lto"])
        .current_dir(&base)
        .env("CARGO_TERM_COLOR", "always")
        .output()
        .unwrap();
    assert!(esc(&env_always));
    let no_color = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args([
            "repro",
            "check",
            "--offline",
            "--only",
            "thin-lto",
            "--color",
            "auto",
        ])
        .current_dir(&base)
        .env("NO_COLOR", "1")
        .env_remove("CARGO_TERM_COLOR")
        .output()
        .unwrap();
    assert!(!esc(&no_color));
}

#[test]
fn rules_lists_every_rule_and_explain_prints_docs() {
    let list = run_in(&messy(), &["rules"]);
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    for id in [
        "toolchain-unpinned",
        "lockfile-stale",
        "known-nondeterministic-crate",
        "image-unpinned",
    ] {
        assert!(text.contains(id), "{id} missing from `rules`");
    }
    let explain = run_in(&messy(), &["explain", "codegen-units"]);
    assert_eq!(explain.status.code(), Some(0));
    let docs = stdout(&explain);
    assert!(docs.starts_with("## `codegen-units`"));
    assert!(docs.contains("### Why it breaks reproducibility"));
    let unknown = run_in(&messy(), &["explain", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        stderr(&unknown),
        "error: unknown rule `nope`; see `cargo repro rules`\n"
    );
}

#[test]
fn pre_commit_runs_only_hygiene_rules_without_cargo() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["repro", "check", "--pre-commit", "--format", "json"])
        .current_dir(messy())
        .env("CARGO", "/nonexistent/cargo")
        .output()
        .unwrap();
    let report = json(&out);
    for rule in rules_found(&report) {
        assert!(
            ["lockfile-missing", "lockfile-stale"].contains(&rule.as_str())
                || rule.starts_with("patch-"),
            "{rule}"
        );
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
