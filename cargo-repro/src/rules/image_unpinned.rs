//! `image-unpinned`: PLACEHOLDER being written.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "image-unpinned",
    default_level: Level::Warn,
    summary: "placeholder",
    docs: "### What it finds\n### Why it breaks reproducibility\n### Example\n### Fix\n",
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(_: &Workspace, _: &mut Vec<Finding>) {}
