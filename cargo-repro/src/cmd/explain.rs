//! `cargo repro explain RULE`: a rule's documentation.

use crate::cli::ExplainArgs;
use crate::{exit_code, rules};

/// Prints the docs of one rule.
pub fn run(args: &ExplainArgs, out: &mut dyn std::io::Write) -> anyhow::Result<u8> {
    let rule = rules::find(&args.rule)
        .ok_or_else(|| anyhow::anyhow!("unknown rule `{}`; see `cargo repro rules`", args.rule))?;
    writeln!(out, "{}", rule_markdown(rule))?;
    Ok(exit_code::SUCCESS)
}

/// The Markdown section for one rule, shared with `docs/rules.md`.
pub fn rule_markdown(rule: &rules::Rule) -> String {
    let mut text = format!("## `{}`\n\n", rule.id);
    text.push_str(&format!("Default level: **{}**", rule.default_level));
    if rule.heuristic {
        text.push_str(" · heuristic");
    }
    if rule.pre_commit {
        text.push_str(" · runs in `--pre-commit`");
    }
    text.push_str(&format!("\n\n{}.\n\n", capitalise(rule.summary)));
    text.push_str(rule.docs.trim());
    text.push('\n');
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
