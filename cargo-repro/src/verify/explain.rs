//! How two files of two runs differ, in words: the bridge from verify's runs to
//! [`crate::compare`], which reads the formats (ELF, ar, tar, gzip, text).

use std::collections::BTreeSet;
use std::path::Path;

use super::run::RunRecord;
use crate::compare::{DifferenceKind, RunPaths, compare_files};
use crate::workspace::source_file::io_reason;

/// A difference, explained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Lines of evidence, without absolute paths.
    pub lines: Vec<String>,
    /// The kinds of difference recognised (none when nothing was).
    pub kinds: BTreeSet<DifferenceKind>,
}

/// Explains how `a` (from run `runs[0]`) and `b` (from run `runs[1]`) differ. With
/// `normalise_paths`, text is compared with each run's paths replaced first (build-script
/// output, where cargo itself puts them).
pub fn explain(
    label: &str,
    a: &Path,
    b: &Path,
    runs: [&RunRecord; 2],
    normalise_paths: bool,
) -> anyhow::Result<Explanation> {
    let read = |path: &Path, run: &RunRecord| -> anyhow::Result<Vec<u8>> {
        if normalise_paths {
            super::units::normalised_bytes(path, &run.prefixes)
        } else {
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {label}: {}", io_reason(&e)))
        }
    };
    let (bytes_a, bytes_b) = (read(a, runs[0])?, read(b, runs[1])?);
    let comparison = compare_files(
        label,
        &bytes_a,
        &bytes_b,
        &[run_paths(runs[0]), run_paths(runs[1])],
    );
    let mut lines = vec![format!("{label} differs ({})", comparison.format.name())];
    lines.extend(comparison.render_lines(2));
    let kinds = comparison
        .kinds()
        .into_iter()
        .filter(|k| *k != DifferenceKind::Other)
        .collect();
    Ok(Explanation { lines, kinds })
}

/// The paths of a run that compare recognises in its outputs.
fn run_paths(run: &RunRecord) -> RunPaths {
    RunPaths {
        root: run.prefixes.root.clone(),
        cargo_home: run.prefixes.cargo_home.clone(),
        home: run.home.clone(),
        target_dir: run.prefixes.target_dir.clone(),
    }
}
