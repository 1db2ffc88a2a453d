//! Generated documentation stays in sync with the code.

#[test]
fn rules_md_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = cargo_repro::cmd::rules::rules_markdown();
    assert!(
        committed == generated,
        "docs/rules.md is stale: run `cargo xtask codegen` and commit the result"
    );
}
