//! Explains how one file from two builds differs: which ELF sections, archive members and header
//! fields, and which strings, each classified (a leaked path, a timestamp, an ordering).
//!
//! [`compare_files`] sniffs the format (magic bytes; the file name, then the content, for text),
//! compares structurally where it can, recurses into archive members, and falls back to a byte
//! comparison where it cannot (saying so in [`FileComparison::notes`]). It never fails and never
//! panics: a truncated or corrupt file is compared as bytes.
//!
//! Results are data; [`FileComparison::render_lines`] is the human renderer. No absolute path of
//! a run reaches a result: each run's own paths are replaced by `$TARGET`, `$WORKSPACE`,
//! `$CARGO_HOME` and `~` before anything is kept. Everything is ordered deterministically.
//!
//! Cost: equal parts are recognised by comparing slices (`memcmp`, no hashing needed since both
//! files are in memory), whole files first, then ELF sections and archive members; strings are
//! extracted only from the regions that differ, and the evidence kept is capped.

mod archive;
mod binary;
mod elf;
mod members;
mod paths;
mod render;
mod strings;
mod tarball;
mod text;
mod time;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use paths::Scrubber;
use strings::Evidence;

/// The absolute paths of one build run, used to recognise leaked paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPaths {
    /// The checkout (workspace root) of the run; shown as `$WORKSPACE`.
    pub root: PathBuf,
    /// The run's `CARGO_HOME`; shown as `$CARGO_HOME`.
    pub cargo_home: PathBuf,
    /// The run's `HOME`, when it has one; shown as `~`.
    pub home: Option<PathBuf>,
    /// The run's target directory; shown as `$TARGET` (recognised before the root it may be in).
    pub target_dir: PathBuf,
}

/// What a difference is, as far as can be told.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceKind {
    /// The checkout path of each run.
    BuildPath,
    /// The target directory of each run.
    TargetDir,
    /// The `CARGO_HOME` of each run.
    CargoHome,
    /// The home directory of each run.
    HomeDirectory,
    /// A time: an epoch integer or a date/time text, or a time field of an archive header.
    Timestamp,
    /// The same things in another order.
    Ordering,
    /// Anything not recognised.
    Other,
}

impl DifferenceKind {
    /// A short human name: `build path`, `timestamp`, …
    pub fn label(self) -> &'static str {
        match self {
            DifferenceKind::BuildPath => "build path",
            DifferenceKind::TargetDir => "target directory",
            DifferenceKind::CargoHome => "CARGO_HOME path",
            DifferenceKind::HomeDirectory => "home directory",
            DifferenceKind::Timestamp => "timestamp",
            DifferenceKind::Ordering => "ordering",
            DifferenceKind::Other => "other",
        }
    }
}

/// The likely fix for a kind of difference.
pub fn suggestion(kind: DifferenceKind) -> &'static str {
    match kind {
        DifferenceKind::BuildPath => {
            "remap the checkout path (`--remap-path-prefix=<root>=/build` in the rustflags, as `cargo repro build` does, or `-Ztrim-paths`); code that embeds `env!(\"CARGO_MANIFEST_DIR\")` or `file!()` keeps the path of each checkout"
        }
        DifferenceKind::TargetDir => {
            "remap the target directory as well (`--remap-path-prefix=<target dir>=/target`); paths under `OUT_DIR` (`include!(concat!(env!(\"OUT_DIR\"), …))`) reach the binary through it"
        }
        DifferenceKind::CargoHome => {
            "remap `CARGO_HOME` (`--remap-path-prefix=<CARGO_HOME>=/cargo`, as `cargo repro build` does); dependencies' sources live under it"
        }
        DifferenceKind::HomeDirectory => {
            "remap the home directory (`--remap-path-prefix=<HOME>=/home`), or stop build scripts from reading `HOME`"
        }
        DifferenceKind::Timestamp => {
            "take times from `SOURCE_DATE_EPOCH` instead of the clock (build scripts, archive mtimes); `cargo repro build` sets it to the last commit's time"
        }
        DifferenceKind::Ordering => {
            "iterate in a defined order: `BTreeMap`/`BTreeSet` instead of `HashMap`/`HashSet`, or sort before emitting (directory listings too); `cargo repro check` finds many of these"
        }
        DifferenceKind::Other => {
            "look closer (diffoscope on the two files), and run `cargo repro check` for known nondeterministic crates and build-script patterns"
        }
    }
}

/// The format a file was compared as.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Elf,
    /// An `ar` archive, such as an rlib (`.o` members and `lib.rmeta`).
    Ar,
    /// A Debian package: `ar` whose first member is `debian-binary`.
    Deb,
    Tar,
    TarGz,
    /// Gzip of something other than a tar stream.
    Gzip,
    Text,
    Binary,
}

impl Format {
    /// The name used in text and JSON: `elf`, `tar-gz`, …
    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::Ar => "ar",
            Format::Deb => "deb",
            Format::Tar => "tar",
            Format::TarGz => "tar-gz",
            Format::Gzip => "gzip",
            Format::Text => "text",
            Format::Binary => "binary",
        }
    }
}

/// How one file differs between two runs.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct FileComparison {
    pub format: Format,
    pub identical: bool,
    /// Differing ELF sections, in the file order of run 1, then those only in run 2.
    pub sections: Vec<String>,
    /// Differing header fields, in the order they were found: `gzip mtime`, `entry order`,
    /// `mtime`, `mode`, `size`, `ELF entry point`, …
    pub header_fields: Vec<String>,
    /// Archive members that differ, in the order of run 1, then those only in run 2.
    pub members: Vec<MemberComparison>,
    /// Classified differing strings, deduplicated, sorted by kind then content, at most a few
    /// per kind.
    pub strings: Vec<StringDifference>,
    /// How many more distinct differing strings were found but not kept.
    pub strings_left_out: usize,
    /// What could not be compared structurally and why, and what was left out.
    pub notes: Vec<String>,
}

/// One archive member (ar member, tar entry, decompressed gzip content) that differs.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct MemberComparison {
    /// The member's name or path inside the archive.
    pub name: String,
    pub difference: MemberDifference,
}

/// How an archive member differs.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MemberDifference {
    /// In both runs, with different contents or header fields (its own `header_fields`).
    Differs(FileComparison),
    /// Only in this run (1 or 2).
    OnlyInRun(u8),
}

/// One differing string, or group of strings, and what it is.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StringDifference {
    pub kind: DifferenceKind,
    /// The evidence from run 1 and run 2, placeholders in place of each run's paths: for a path,
    /// the same scrubbed path twice; for a timestamp, the differing values; for an ordering, a
    /// few strings in each run's order; otherwise an excerpt around the first difference. An
    /// empty side means the string is absent from that run.
    pub runs: [Vec<String>; 2],
    /// What the evidence means: "the checkout path of each run", "seconds since the epoch", …
    pub meaning: String,
}

impl FileComparison {
    /// The comparison of two identical files.
    fn identical(format: Format) -> FileComparison {
        FileComparison {
            identical: true,
            ..Builder::new(format).finish()
        }
    }

    /// Every kind of difference found here and in the members, recursively. A file that differs
    /// without anything recognised gives [`DifferenceKind::Other`].
    pub fn kinds(&self) -> BTreeSet<DifferenceKind> {
        let mut kinds = BTreeSet::new();
        self.collect_kinds(&mut kinds);
        if kinds.is_empty() && !self.identical {
            kinds.insert(DifferenceKind::Other);
        }
        kinds
    }

    fn collect_kinds(&self, kinds: &mut BTreeSet<DifferenceKind>) {
        kinds.extend(self.strings.iter().map(|s| s.kind));
        for member in &self.members {
            if let MemberDifference::Differs(comparison) = &member.difference {
                comparison.collect_kinds(kinds);
            }
        }
    }
}

/// Compares one file (`name` is its file name or path, used to sniff text and name members)
/// from two runs.
pub fn compare_files(name: &str, a: &[u8], b: &[u8], runs: &[RunPaths; 2]) -> FileComparison {
    let scrubber = Scrubber::new(runs);
    Context {
        scrubber: &scrubber,
        depth: 0,
    }
    .compare(name, a, b)
}

/// Archives nest (a `.deb` holds `data.tar.gz`, which holds files); deeper than this, members are
/// compared as bytes.
const MAX_DEPTH: usize = 6;

/// What every comparison needs: how to scrub paths, and how deep in archives it is.
struct Context<'s> {
    scrubber: &'s Scrubber,
    depth: usize,
}

impl<'s> Context<'s> {
    fn compare(&self, name: &str, a: &[u8], b: &[u8]) -> FileComparison {
        let format = sniff(name, a);
        if a == b {
            return FileComparison::identical(format);
        }
        let format_b = sniff(name, b);
        if format != format_b {
            let mut comparison = self.compare_bytes(
                a,
                b,
                Format::Binary,
                format!(
                    "run 1 is {}, run 2 is {}: compared as bytes",
                    format.name(),
                    format_b.name()
                ),
            );
            comparison.header_fields.insert(0, "format".to_string());
            return comparison;
        }
        if self.depth > MAX_DEPTH {
            let note = format!("nested more than {MAX_DEPTH} archives deep: compared as bytes");
            return self.compare_bytes(a, b, format, note);
        }
        let structured = match format {
            Format::Elf => elf::compare(a, b, self),
            Format::Ar | Format::Deb => archive::compare(a, b, self),
            Format::Tar => tarball::compare_tar(a, b, self),
            Format::TarGz | Format::Gzip => tarball::compare_gzip(name, a, b, self),
            Format::Text => Ok(text::compare(name, a, b, self)),
            Format::Binary => Ok(binary::compare(a, b, self)),
        };
        match structured {
            Ok(builder) => builder.finish(),
            Err(Unreadable(problem)) => {
                self.compare_bytes(a, b, format, format!("{problem}: compared as bytes"))
            }
        }
    }

    /// The byte comparison of a file that could not be compared as `format`, and why.
    fn compare_bytes(&self, a: &[u8], b: &[u8], format: Format, note: String) -> FileComparison {
        let mut builder = binary::compare(a, b, self);
        builder.format = format;
        builder.notes.push(note);
        builder.finish()
    }

    /// The context for the members of an archive.
    fn nested(&self) -> Context<'s> {
        Context {
            scrubber: self.scrubber,
            depth: self.depth + 1,
        }
    }
}

/// Why a file could not be compared structurally: "run 2 is not a readable ELF file (…)".
struct Unreadable(String);

impl Unreadable {
    fn new(run: usize, what: &str, detail: impl std::fmt::Display) -> Unreadable {
        Unreadable(format!(
            "run {} is not a readable {what} ({detail})",
            run + 1
        ))
    }
}

/// A comparison being put together; [`Builder::finish`] caps and sorts the evidence.
struct Builder {
    format: Format,
    sections: Vec<String>,
    header_fields: Vec<String>,
    members: Vec<MemberComparison>,
    notes: Vec<String>,
    evidence: Evidence,
}

impl Builder {
    fn new(format: Format) -> Builder {
        Builder {
            format,
            sections: Vec::new(),
            header_fields: Vec::new(),
            members: Vec::new(),
            notes: Vec::new(),
            evidence: Evidence::default(),
        }
    }

    fn finish(mut self) -> FileComparison {
        if self.evidence.not_examined > 0 {
            self.notes.push(format!(
                "{} differing strings not examined (too many)",
                self.evidence.not_examined
            ));
        }
        let (strings, strings_left_out) = self.evidence.finish();
        FileComparison {
            format: self.format,
            identical: false,
            sections: self.sections,
            header_fields: self.header_fields,
            members: self.members,
            strings,
            strings_left_out,
            notes: self.notes,
        }
    }
}

/// The format of `bytes` (named `name`): magic bytes first, then the name or content for text.
fn sniff(name: &str, bytes: &[u8]) -> Format {
    if bytes.starts_with(b"\x7fELF") {
        Format::Elf
    } else if bytes.starts_with(b"!<arch>\n") {
        if bytes
            .get(8..24)
            .is_some_and(|n| n.starts_with(b"debian-binary"))
        {
            Format::Deb
        } else {
            Format::Ar
        }
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        if tarball::is_tar_gz_name(name) {
            Format::TarGz
        } else {
            Format::Gzip
        }
    } else if tarball::is_tar(bytes) {
        Format::Tar
    } else if text::is_text(name, bytes) {
        Format::Text
    } else {
        Format::Binary
    }
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests;
