//! Every rule against its fixtures: `tests/fixtures/rules/<rule-id>/{fail,pass}*/`.
//!
//! For each `fail*` fixture, the rule must report at least one finding, and its human and JSON
//! output (with `--only <rule-id>`) must match `check.human` and `check.json` in the fixture
//! (bless with `SNAPSHOTS=overwrite`). For each `pass*` fixture, the rule must report nothing.
//!
//! Every fixture runs with an empty `CARGO_HOME` of its own, so that nothing this machine's cargo
//! has cached or configured (registry index caches, downloaded crates, `config.toml`) changes
//! the result: fixtures bring their crates as directory sources.

use std::path::Path;

use crate::support::{
    assert_snapshot, check_with_env, fixtures, json, outside_dir, rules_found, stderr, stdout,
};

#[test]
fn every_rule_has_fixtures() {
    let out = crate::support::run_in(Path::new("."), &["rules", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut missing = Vec::new();
    for rule in list.as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        for kind in ["fail", "pass"] {
            let has_case = std::fs::read_dir(fixtures().join("rules").join(id))
                .map(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with(kind))
                })
                .unwrap_or(false);
            if !has_case {
                missing.push(format!("{id}/{kind}"));
            }
        }
    }
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}

#[test]
fn rule_fixtures() {
    let root = fixtures().join("rules");
    let cargo_home = outside_dir("rules-cargo-home");
    let home = cargo_home.to_str().unwrap();
    let env = [("CARGO_HOME", home)];
    let check = |case: &Path, args: &[&str]| check_with_env(case, args, &env);
    let mut checked = 0;
    let mut rule_dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    rule_dirs.sort();
    for rule_dir in rule_dirs {
        let id = rule_dir.file_name().unwrap().to_str().unwrap().to_string();
        let mut cases: Vec<_> = std::fs::read_dir(&rule_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        cases.sort();
        for case in cases {
            let name = case.file_name().unwrap().to_str().unwrap().to_string();
            let output = check(&case, &["--offline", "--only", &id, "--format", "json"]);
            let report = json(&output);
            let found = rules_found(&report);
            if name.starts_with("fail") {
                assert!(
                    found.iter().any(|r| r == &id),
                    "{id}/{name}: expected a `{id}` finding, got {found:?}\n{}",
                    stderr(&output)
                );
                assert_snapshot(&case.join("check.json"), &stdout(&output));
                let human = check(&case, &["--offline", "--only", &id]);
                assert_eq!(
                    human.status.code(),
                    output.status.code(),
                    "{id}/{name}: exit codes differ"
                );
                assert_snapshot(&case.join("check.human"), &stdout(&human));
            } else if name.starts_with("pass") {
                assert!(
                    found.is_empty(),
                    "{id}/{name}: expected no finding, got {report:#}"
                );
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{id}/{name}: {}",
                    stderr(&output)
                );
            } else {
                panic!("{id}/{name}: fixture directories start with `fail` or `pass`");
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}
