//! `--bisect`: which variation makes the outputs differ. A trial with no variation first (a
//! difference there means time or randomness), then halving the set of variations while one
//! half alone still reproduces the difference.
//!
//! Each trial is one more build in a fresh copy that starts from the baseline's target
//! directory with the culprit packages cleaned: cargo rebuilds the culprits, what depends on
//! them, and whatever the trial's variation itself invalidates (a path or `CARGO_HOME` change
//! does invalidate the units that see it), and nothing else.

use std::collections::BTreeSet;
use std::io::Write;

use super::report::{Bisection, names};
use super::run::{self, RunRecord};
use super::variation::{RunSetup, Variation};
use super::{VerifyOptions, differs};

/// Finds the smallest set of variations that still makes the outputs differ from `baseline`.
pub fn bisect(
    options: &VerifyOptions,
    baseline: &RunRecord,
    culprits: &[String],
    cpus: usize,
    err: &mut dyn Write,
) -> anyhow::Result<Bisection> {
    let mut request = options.request.clone();
    request.seed = Some((
        baseline.setup.kept_at(&request.verify_dir).join("target"),
        culprits.to_vec(),
    ));
    let mut next_index = options.runs + 1;
    let mut trials = Vec::new();
    let mut trial = |set: &BTreeSet<Variation>, err: &mut dyn Write| -> anyhow::Result<bool> {
        let setup = RunSetup::new(
            next_index,
            set,
            &options.request.verify_dir,
            &options.request.cargo_home,
            cpus,
        );
        next_index += 1;
        writeln!(err, "   Bisecting with {}", describe(set))?;
        let record = run::run(&request, &setup, err)?;
        let differ = differs(baseline, &record);
        trials.push(format!(
            "{}: {}",
            describe(set),
            if differ { "differs" } else { "identical" }
        ));
        Ok(differ)
    };
    if trial(&BTreeSet::new(), err)? {
        return Ok(Bisection {
            cause: Vec::new(),
            trials,
        });
    }
    let mut candidates: Vec<Variation> = options.variations.iter().copied().collect();
    while candidates.len() > 1 {
        let (left, right) = candidates.split_at(candidates.len() / 2);
        let (left, right) = (left.to_vec(), right.to_vec());
        if trial(&left.iter().copied().collect(), err)? {
            candidates = left;
        } else if trial(&right.iter().copied().collect(), err)? {
            candidates = right;
        } else {
            // Neither half alone: the variations act together.
            break;
        }
    }
    Ok(Bisection {
        cause: candidates,
        trials,
    })
}

fn describe(set: &BTreeSet<Variation>) -> String {
    if set.is_empty() {
        "no variation".to_string()
    } else {
        names(&set.iter().copied().collect::<Vec<_>>())
    }
}
