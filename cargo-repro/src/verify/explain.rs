//! How two files of two runs differ, in words: the bridge from verify's runs to
//! [`crate::compare`], which reads the formats (ELF, ar, tar, gzip, text).

use std::collections::BTreeSet;
use std::path::Path;

use super::run::RunRecord;
use crate::workspace::source_file::io_reason;

/// A difference, explained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Lines of evidence, without absolute paths.
    pub lines: Vec<String>,
    /// The kinds of difference recognised (`timestamp`, `build-path`, …).
    pub kinds: BTreeSet<String>,
}

/// Explains how `a` (from run `run_a`) and `b` (from run `run_b`) differ. With
/// `normalise_paths`, text is compared with each run's paths replaced first (build-script
/// output, whose paths cargo itself puts there).
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
    let bytes_a = read(a, runs[0])?;
    let bytes_b = read(b, runs[1])?;
    Ok(Explanation {
        lines: vec![format!(
            "{label} differs ({} vs {} bytes)",
            bytes_a.len(),
            bytes_b.len()
        )],
        kinds: BTreeSet::new(),
    })
}
