//! What the source heuristics find in a crate, as plain data the rules judge: each source (a
//! hash-map iteration, a directory listing, a clock read…) with what became of it.

mod clock;
mod dir_listing;
mod hash_iteration;
pub mod macro_calls;
mod manifest_dir;
mod native_flags;
mod randomness;
mod vcs_stamp;

use super::CodeFile;
use super::flow::{self, Sources, Verdict};
use super::index::Crate;
use crate::diag::Location;
use crate::workspace::BuildTimeKind;

/// What became of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It reaches the output at `at` (`path:line`), through `how`.
    Reaches { at: String, how: String },
    /// The tool lost it at `at`: `why`.
    Unknown { at: String, why: String },
}

/// One source found in the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub location: Location,
    /// What the code does there ("iterates `names`, a std HashMap or HashSet").
    pub what: String,
    /// `None` when it cannot reach the output.
    pub outcome: Option<Outcome>,
}

/// The facts of one crate.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Proc-macros: iterations of std hash maps and sets.
    pub hash_iterations: Vec<Fact>,
    /// Build scripts: directory listings in filesystem order.
    pub dir_listings: Vec<Fact>,
    /// Build scripts: wall-clock reads.
    pub clock_reads: Vec<Fact>,
    /// Build scripts and proc-macros: random values.
    pub random_draws: Vec<Fact>,
    /// Build scripts: version-control state (commit, ref, describe) read at build time.
    pub vcs_stamps: Vec<Fact>,
    /// Build scripts: native-CPU flags given to a compiler (outcome is always set).
    pub native_flags: Vec<Fact>,
    /// True when the code names `SOURCE_DATE_EPOCH`.
    pub reads_source_date_epoch: bool,
}

/// Runs every analysis that applies to this kind of crate.
pub fn compute(files: &[CodeFile], kind: BuildTimeKind) -> Facts {
    let krate = Crate::new(files);
    let mut facts = Facts {
        reads_source_date_epoch: files
            .iter()
            .any(|f| f.file.text.contains("SOURCE_DATE_EPOCH")),
        ..Facts::default()
    };
    // Most crates mention none of an analysis's words: it is not run on them.
    let mentions = |words: &[&str]| {
        files
            .iter()
            .any(|f| words.iter().any(|w| f.file.text.contains(w)))
    };
    let analyse = |words: &[&str], sources: &dyn Sources| {
        if mentions(words) {
            run(&krate, sources)
        } else {
            Vec::new()
        }
    };
    match kind {
        BuildTimeKind::ProcMacro => {
            facts.hash_iterations =
                analyse(hash_iteration::MENTIONS, &hash_iteration::HashIterations);
            facts.random_draws = analyse(
                randomness::MENTIONS,
                &randomness::Randomness(flow::Output::Tokens),
            );
        }
        BuildTimeKind::BuildScript => {
            facts.dir_listings = analyse(dir_listing::MENTIONS, &dir_listing::DirListings);
            facts.clock_reads = analyse(clock::MENTIONS, &clock::ClockReads);
            facts.random_draws = analyse(
                randomness::MENTIONS,
                &randomness::Randomness(flow::Output::BuildScript),
            );
            if mentions(native_flags::MENTIONS) {
                facts.native_flags = native_flags::find(&krate);
            }
            facts.vcs_stamps = analyse(vcs_stamp::MENTIONS, &vcs_stamp::VcsStamps);
        }
    }
    facts
}

/// Build paths that workspace code keeps in the binary (`env!("CARGO_MANIFEST_DIR")`).
pub fn embedded_paths(files: &[CodeFile]) -> Vec<Fact> {
    manifest_dir::find(&Crate::new(files))
}

/// The sources of one analysis with their outcomes.
fn run(krate: &Crate, sources: &dyn Sources) -> Vec<Fact> {
    let report = flow::analyse(krate, sources);
    let at = |pos: super::index::Pos| format!("{}:{}", krate.path(pos.file), pos.line);
    report
        .sources
        .into_iter()
        .map(|(found, verdict)| Fact {
            location: krate.location(found.pos),
            what: found.what,
            outcome: verdict.map(|v| match v {
                Verdict::Reaches { pos, how } => Outcome::Reaches { at: at(pos), how },
                Verdict::Unknown { pos, why } => Outcome::Unknown { at: at(pos), why },
            }),
        })
        .collect()
}

/// Parses `text` as one file `path` with `cfg` evaluated for no features on the host.
#[cfg(test)]
pub fn test_files(path: &str, text: &str, proc_macro: bool) -> Vec<CodeFile> {
    let mut ast = syn::parse_file(text).expect("test code parses");
    super::CfgContext::host(Some(Default::default()), proc_macro).strip(&mut ast);
    vec![CodeFile {
        file: crate::workspace::SourceFile::new(path.into(), path.into(), text.into()),
        ast,
    }]
}

/// (line, "warn" | "note") for each fact with an outcome.
#[cfg(test)]
pub fn outcomes(facts: &[Fact]) -> Vec<(usize, &'static str)> {
    facts
        .iter()
        .filter_map(|f| {
            let kind = match f.outcome.as_ref()? {
                Outcome::Reaches { .. } => "warn",
                Outcome::Unknown { .. } => "note",
            };
            Some((f.location.line.unwrap_or(0), kind))
        })
        .collect()
}
