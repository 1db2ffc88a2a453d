//! `cargo repro verify`: build twice or more under varied conditions, compare every output,
//! and when they differ, name the culprit crate, the kind of difference and the fix.
//!
//! - [`variation`]: what differs between the runs, and each run's concrete [`RunSetup`].
//! - [`checkout`]: the fresh copy of the source each run builds in.
//! - [`run`]: one run, as a child `cargo repro build`; its units, binaries and artifacts.
//! - [`units`]: the compilation units of a run from cargo's messages, with file hashes.
//! - [`localise`]: the differing units, split into culprits and consequences.
//! - [`explain`] and [`mod@diagnose`]: the evidence, kind and fix of each culprit.
//! - [`against`]: comparing a rebuild with published hashes (SHA256SUMS or provenance).
//! - [`integrity`]: the published release's own checks before the rebuild: its signatures
//!   (gpg, ssh, DSSE) and the hashes of the listed files beside it.
//! - [`bisect`]: which variation causes a difference.
//! - [`report`]: the result as data, and its human and JSON renderings.

pub mod against;
pub mod bisect;
pub mod checkout;
pub mod diagnose;
pub mod explain;
pub mod integrity;
pub mod localise;
pub mod report;
pub mod run;
pub mod units;
pub mod variation;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

pub use report::VerifyReport;
pub use variation::{RunSetup, Variation};

use self::diagnose::{MacroFindings, diagnose};
use self::localise::PackageDeps;
use self::report::{ArtifactKind, ArtifactReport};
use self::run::{RunRecord, RunRequest};
use crate::workspace::Workspace;

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub request: RunRequest,
    pub variations: BTreeSet<Variation>,
    /// At least 2.
    pub runs: u32,
    pub bisect: bool,
}

/// The scratch directory of a verification of `root`: in the system's temporary directory,
/// outside any workspace (so no parent `.cargo/config.toml` applies twice).
pub fn scratch_dir(root: &std::path::Path) -> PathBuf {
    let digest = crate::patch::tree::sha256_hex(root.to_string_lossy().as_bytes());
    std::env::temp_dir().join(format!(
        "cargo-repro-verify-{}-{}",
        &digest[..12],
        std::process::id()
    ))
}

/// Runs the builds and compares them.
pub fn verify(
    workspace: &Workspace,
    options: &VerifyOptions,
    err: &mut dyn Write,
) -> anyhow::Result<VerifyReport> {
    let request = &options.request;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut records: Vec<RunRecord> = Vec::new();
    for index in 1..=options.runs {
        let setup = RunSetup::new(
            index,
            &options.variations,
            &request.verify_dir,
            &request.cargo_home,
            cpus,
        );
        writeln!(
            err,
            "   Verifying run {index} of {} ({})",
            options.runs,
            setup.describe()
        )?;
        records.push(run::run(request, &setup, err)?);
    }
    let mut report = VerifyReport::of_outputs(
        options.runs,
        options.variations.iter().copied().collect(),
        request.source_date_epoch,
        compare_outputs(&records)?,
    );
    if report.reproducible {
        return Ok(report);
    }
    let baseline = &records[0];
    let Some(other) = records[1..].iter().find(|r| differs(baseline, r)) else {
        return Ok(report);
    };
    writeln!(
        err,
        "   Localising the difference between run 1 and run {}",
        other.setup.index
    )?;
    let deps = PackageDeps::from_graph(&workspace.graph);
    let diagnosis = diagnose(baseline, other, &deps, &macro_findings(workspace))?;
    report.culprits = diagnosis.culprits;
    report.consequences = diagnosis.consequences;
    report.unpaired_units = diagnosis.unpaired;
    if options.bisect {
        let culprits: Vec<String> = report
            .culprits
            .iter()
            .map(|c| format!("{}@{}", c.krate, c.version))
            .collect();
        report.bisect = Some(bisect::bisect(options, baseline, &culprits, cpus, err)?);
    }
    Ok(report)
}

/// Whether any output of `b` differs from `a`'s.
fn differs(a: &RunRecord, b: &RunRecord) -> bool {
    let hashes = |r: &RunRecord| -> Vec<(String, String)> {
        r.binaries
            .iter()
            .chain(&r.artifacts)
            .map(|(n, o)| (n.clone(), o.sha256.clone()))
            .collect()
    };
    hashes(a) != hashes(b)
}

/// Every binary and artifact with its hash per run; the first differing pair explained.
fn compare_outputs(records: &[RunRecord]) -> anyhow::Result<Vec<ArtifactReport>> {
    let mut names: BTreeMap<(ArtifactKind, String), ()> = BTreeMap::new();
    for record in records {
        names.extend(
            record
                .binaries
                .keys()
                .map(|n| ((ArtifactKind::Binary, n.clone()), ())),
        );
        names.extend(
            record
                .artifacts
                .keys()
                .map(|n| ((ArtifactKind::ReleaseArtifact, n.clone()), ())),
        );
    }
    let mut out = Vec::new();
    for (kind, name) in names.into_keys() {
        let outputs: Vec<Option<&run::Output>> = records
            .iter()
            .map(|r| match kind {
                ArtifactKind::Binary => r.binaries.get(&name),
                ArtifactKind::ReleaseArtifact => r.artifacts.get(&name),
            })
            .collect();
        let sha256: Vec<Option<String>> = outputs
            .iter()
            .map(|o| o.map(|o| o.sha256.clone()))
            .collect();
        let identical = sha256.iter().all(|h| h.is_some() && *h == sha256[0]);
        let mut differences = Vec::new();
        if !identical
            && let Some(second) = (1..records.len()).find(|&i| sha256[i] != sha256[0])
            && let (Some(a), Some(b)) = (outputs[0], outputs[second])
        {
            differences = explain::explain(
                &name,
                &a.path,
                &b.path,
                [&records[0], &records[second]],
                false,
            )?
            .lines;
        }
        out.push(ArtifactReport {
            name,
            kind,
            sha256,
            identical,
            differences,
        });
    }
    Ok(out)
}

/// What `check`'s proc-macro rules say, by `name@version` of the macro crate.
fn macro_findings(workspace: &Workspace) -> MacroFindings {
    let overrides = crate::config::CliOverrides {
        only: vec!["proc-macro-hash-iteration".to_string()],
        ..crate::config::CliOverrides::default()
    };
    let mut out = MacroFindings::new();
    let Ok(report) =
        crate::cmd::check::audit_workspace(workspace, &overrides, crate::rules::Selection::All)
    else {
        return out;
    };
    for finding in report.findings {
        if let Some(package) = &finding.package {
            out.entry(package.clone()).or_default().push(format!(
                "{} [{}] at {}{}",
                finding.message,
                finding.rule,
                finding.location.path,
                finding
                    .location
                    .line
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}
