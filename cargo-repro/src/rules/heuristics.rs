//! Shared by the source-heuristic rules: the build-time crates of the graph, and their facts
//! (computed when the workspace is loaded) turned into findings.

use crate::diag::Finding;
use crate::workspace::build_code::{Fact, Outcome};
use crate::workspace::{BuildTimeKind, BuildTimeSource, Package, Workspace};

/// The build-time sources of the given kinds, each with its package.
pub fn build_time_sources<'w>(
    workspace: &'w Workspace,
    kinds: &'w [BuildTimeKind],
) -> impl Iterator<Item = (&'w Package, &'w BuildTimeSource)> {
    workspace
        .build_time_sources
        .iter()
        .filter(|source| kinds.contains(&source.kind))
        .map(|source| (&workspace.graph.packages[source.package], source))
}

/// What the build-time code is, for messages: "build script" or "proc-macro".
pub fn kind_name(kind: BuildTimeKind) -> &'static str {
    match kind {
        BuildTimeKind::BuildScript => "build script",
        BuildTimeKind::ProcMacro => "proc-macro",
    }
}

/// The finding for a fact that reaches the output (a warning naming where) or that the tool
/// lost (a note saying where and why); `None` when it cannot reach the output. `value` names
/// what is followed ("the order", "the time") and `output` what it would reach.
pub fn finding_for(
    rule: &'static str,
    fact: &Fact,
    message: String,
    value: &str,
    output: &str,
) -> Option<Finding> {
    let finding = Finding::new(rule, message, fact.location.clone());
    match fact.outcome.as_ref()? {
        Outcome::Reaches { at, how } => {
            Some(finding.note(format!("{value} reaches {how} at {at}")))
        }
        Outcome::Unknown { at, why } => Some(finding.uncertain(format!(
            "the tool could not tell whether {value} reaches {output}: {why} ({at})"
        ))),
    }
}

/// Names the package of a finding, and says it is a dependency's when it is.
pub fn with_package(finding: Finding, package: &Package) -> Finding {
    finding.package(&package.name, &package.version)
}
