//! `repro.toml` and `[workspace.metadata.repro]`: levels, exceptions and their errors.

use crate::support::*;

const THIN: &str = "\n[profile.release]\nlto = \"thin\"\n";

fn run(dir: &std::path::Path) -> std::process::Output {
    check(
        dir,
        &[
            "--offline",
            "--only",
            "thin-lto",
            "--only",
            "unused-exception",
            "--format",
            "json",
        ],
    )
}

#[test]
fn repro_toml_sets_levels() {
    let dir = outside_dir("config-levels");
    tiny_workspace(
        &dir,
        THIN,
        &[("repro.toml", "[rules]\nthin-lto = \"deny\"\n")],
    );
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["findings"][0]["level"], "deny");
}

#[test]
fn workspace_metadata_configures_too() {
    let dir = outside_dir("config-metadata");
    let extra = format!("{THIN}\n[workspace.metadata.repro.rules]\nthin-lto = \"allow\"\n");
    tiny_workspace(&dir, &extra, &[]);
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(rules_found(&json(&out)).is_empty());
}

#[test]
fn exceptions_silence_matching_findings_only() {
    let dir = outside_dir("config-exception");
    let config = "[[allow]]\nrule = \"thin-lto\"\npath = \"Cargo.toml\"\nreason = \"measured stable\"\n\n\
                  [[allow]]\nrule = \"thin-lto\"\npath = \"elsewhere.toml\"\nreason = \"stale\"\n";
    tiny_workspace(&dir, THIN, &[("repro.toml", config)]);
    let out = run(&dir);
    let report = json(&out);
    assert_eq!(rules_found(&report), ["unused-exception"]);
    assert_eq!(report["findings"][0]["path"], "repro.toml");
    assert_eq!(report["findings"][0]["line"], 6);
}

#[test]
fn config_errors_name_the_file_and_line_and_exit_2() {
    let cases = [
        (
            "[[allow]]\nrule = \"thin-lto\"\n",
            "error: repro.toml:1: the [[allow]] entry for `thin-lto` needs a `reason = \"…\"` saying why\n",
        ),
        (
            "[rules]\nno-such-rule = \"deny\"\n",
            "error: repro.toml:2: unknown rule `no-such-rule`; see `cargo repro rules`\n",
        ),
        (
            "[rules]\nthin-lto = \"fatal\"\n",
            "error: repro.toml:2: the level of `thin-lto` must be \"allow\", \"warn\" or \"deny\"\n",
        ),
        (
            "colour = true\n",
            "error: repro.toml:1: unknown key `colour` in the cargo-repro configuration; expected `rules`, `allow` or `entry-points`\n",
        ),
        (
            "[rules\n",
            "error: repro.toml:1:7: invalid TOML: unclosed table, expected `]`; fix the syntax\n",
        ),
    ];
    for (index, (config, expected)) in cases.into_iter().enumerate() {
        let dir = outside_dir(&format!("config-error-{index}"));
        tiny_workspace(&dir, THIN, &[("repro.toml", config)]);
        let out = run(&dir);
        assert_eq!(out.status.code(), Some(2), "{config}");
        assert_eq!(stderr(&out), expected, "{config}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn two_configurations_are_refused() {
    let dir = outside_dir("config-both");
    let extra = format!("{THIN}\n[workspace.metadata.repro.rules]\nthin-lto = \"allow\"\n");
    tiny_workspace(
        &dir,
        &extra,
        &[("repro.toml", "[rules]\nthin-lto = \"deny\"\n")],
    );
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("both configure cargo-repro; keep one"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn strict_holds_development_findings_and_an_unseen_release_to_their_level() {
    let dir = outside_dir("config-strict");
    let ci = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: cargo build\n";
    let files = [
        ("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n"),
        (".github/workflows/ci.yml", ci),
    ];
    tiny_workspace(&dir, "", &files);
    let args = [
        "--offline",
        "--only",
        "toolchain-unpinned",
        "--only",
        "entry-point-unlocked",
        "--format",
        "json",
    ];
    let levels = |out: &std::process::Output| -> Vec<(String, String)> {
        json(out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let rule = f["rule"].as_str().unwrap().to_string();
                (rule, f["level"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let relaxed = check(&dir, &args);
    assert_eq!(relaxed.status.code(), Some(0), "{}", stderr(&relaxed));
    assert_eq!(
        levels(&relaxed),
        [
            ("entry-point-unlocked".to_string(), "note".to_string()),
            ("toolchain-unpinned".to_string(), "note".to_string()),
        ]
    );
    write_files(&dir, &[("repro.toml", "[entry-points]\nstrict = true\n")]);
    let strict = check(&dir, &args);
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(
        levels(&strict),
        [
            ("entry-point-unlocked".to_string(), "warn".to_string()),
            ("toolchain-unpinned".to_string(), "deny".to_string()),
        ]
    );
}
