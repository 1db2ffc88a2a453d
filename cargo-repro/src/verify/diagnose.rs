//! From two runs that differ to a diagnosis: the culprit units with their evidence, the kind of
//! difference and the likely fix, and the crates that differ only because of them.

use std::collections::BTreeSet;

use super::explain::{Explanation, explain};
use super::localise::{PackageDeps, localise};
use super::report::{Consequence, Culprit};
use super::run::RunRecord;
use super::units::{UnitKey, UnitKind};
use crate::compare::{DifferenceKind, suggestion};

/// How kinds of difference rank when a unit shows several: the first present names it.
const KIND_PRECEDENCE: &[DifferenceKind] = &[
    DifferenceKind::Timestamp,
    DifferenceKind::BuildPath,
    DifferenceKind::TargetDir,
    DifferenceKind::CargoHome,
    DifferenceKind::HomeDirectory,
    DifferenceKind::Ordering,
];

/// What check reports about a proc-macro crate, by `name@version`.
pub type MacroFindings = std::collections::BTreeMap<String, Vec<String>>;

/// The diagnosis of runs `a` and `b`.
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    pub culprits: Vec<Culprit>,
    pub consequences: Vec<Consequence>,
    pub unpaired: Vec<String>,
}

/// Localises the difference between `a` and `b` and explains each culprit.
pub fn diagnose(
    a: &RunRecord,
    b: &RunRecord,
    deps: &PackageDeps,
    macro_findings: &MacroFindings,
) -> anyhow::Result<Diagnosis> {
    let found = localise(&a.units, &b.units, deps);
    let mut culprits = Vec::new();
    for key in &found.culprits {
        culprits.push(culprit(key, a, b, deps, macro_findings)?);
    }
    let mut consequences: Vec<Consequence> = Vec::new();
    for key in &found.consequences {
        match consequences
            .iter_mut()
            .find(|c| c.krate == key.package && c.version == key.version)
        {
            Some(existing) => existing.units.push(key.kind),
            None => consequences.push(Consequence {
                krate: key.package.clone(),
                version: key.version.clone(),
                units: vec![key.kind],
            }),
        }
    }
    for consequence in &mut consequences {
        consequence.units.sort();
        consequence.units.dedup();
    }
    Ok(Diagnosis {
        culprits,
        consequences,
        unpaired: found
            .unpaired
            .iter()
            .map(|k| format!("{} {} ({})", k.package, k.version, k.kind.describe()))
            .collect(),
    })
}

fn culprit(
    key: &UnitKey,
    a: &RunRecord,
    b: &RunRecord,
    deps: &PackageDeps,
    macro_findings: &MacroFindings,
) -> anyhow::Result<Culprit> {
    let (unit_a, unit_b) = (&a.units[key], &b.units[key]);
    let mut evidence = Vec::new();
    let mut kinds = BTreeSet::new();
    let labels: BTreeSet<&String> = unit_a.files.keys().chain(unit_b.files.keys()).collect();
    for label in labels {
        match (unit_a.files.get(label), unit_b.files.get(label)) {
            (Some(fa), Some(fb)) if fa.sha256 != fb.sha256 => {
                let Explanation {
                    lines,
                    kinds: found,
                } = explain(
                    label,
                    &fa.path,
                    &fb.path,
                    [a, b],
                    key.kind == UnitKind::BuildScriptRun,
                )?;
                evidence.extend(lines);
                kinds.extend(found);
            }
            (Some(_), None) | (None, Some(_)) => {
                evidence.push(format!("{label} exists in one run only"));
            }
            _ => {}
        }
    }
    let package = (key.package.clone(), key.version.clone());
    let macros: Vec<String> = if matches!(key.kind, UnitKind::Lib | UnitKind::Bin) {
        deps.macros_used_by(&package)
            .into_iter()
            .map(|(name, version)| format!("{name}@{version}"))
            .collect()
    } else {
        Vec::new()
    };
    let found = KIND_PRECEDENCE.iter().copied().find(|k| kinds.contains(k));
    let explained_by_paths_or_time = found.is_some_and(|k| k != DifferenceKind::Ordering);
    let expansion = !macros.is_empty() && !explained_by_paths_or_time;
    if expansion {
        evidence.push(format!(
            "the proc-macro crates it uses ({}) are identical in both runs, so their expansion differs between runs",
            macros.join(", ")
        ));
        for name in &macros {
            for finding in macro_findings.get(name).into_iter().flatten() {
                evidence.push(format!("check: {finding}"));
            }
        }
    }
    let (kind, fix) = match found {
        _ if expansion => (
            "proc-macro-expansion".to_string(),
            "the expansion depends on hash-map iteration order or other state of the compiler process: make the macro emit in a defined order (BTreeMap, or sort), see `cargo repro explain proc-macro-hash-iteration`, or vendor a fixed version with `cargo repro patch add`".to_string(),
        ),
        Some(DifferenceKind::Timestamp) if key.kind == UnitKind::BuildScriptRun => (
            "timestamp".to_string(),
            "the build script writes the time of the build: read SOURCE_DATE_EPOCH (cargo repro build sets it) instead of the clock, or drop the timestamp".to_string(),
        ),
        Some(kind) => (kind_name(kind), suggestion(kind).to_string()),
        None => ("unknown".to_string(), suggestion(DifferenceKind::Other).to_string()),
    };
    Ok(Culprit {
        krate: key.package.clone(),
        version: key.version.clone(),
        unit: key.kind,
        kind,
        evidence,
        macros: if expansion { macros } else { Vec::new() },
        fix,
    })
}

/// The kebab-case name of a kind, as in the JSON of `compare`.
fn kind_name(kind: DifferenceKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "unknown".to_string())
}
