//! Helpers for the comparison tests: run paths under a fake base, real compilations.

use super::RunPaths;

/// Two runs under `base`: checkouts `run1`/`run2` with their target directories inside, homes
/// `home1`/`home2` with `CARGO_HOME` inside.
pub(super) fn runs_under(base: &str) -> [RunPaths; 2] {
    [1, 2].map(|n| RunPaths {
        root: format!("{base}/run{n}").into(),
        cargo_home: format!("{base}/home{n}/.cargo").into(),
        home: Some(format!("{base}/home{n}").into()),
        target_dir: format!("{base}/run{n}/target").into(),
    })
}

use std::path::{Path, PathBuf};

use crate::artifacts::test_support::ScratchDir;

/// The rustc of the toolchain under test (`RUSTC`, as cargo sets it, else `rustc`).
fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

/// Writes `source` to `root/relative` and compiles it with `args` in `root` (so debug info's
/// compilation directory is `root`), returning the output file's bytes.
pub(super) fn compile(root: &Path, relative: &str, source: &str, args: &[&str]) -> Vec<u8> {
    let source_path = root.join(relative);
    std::fs::create_dir_all(source_path.parent().expect("a file in a directory"))
        .expect("create source dir");
    std::fs::write(&source_path, source).expect("write source");
    let output = root.join("compiled.out");
    let result = std::process::Command::new(rustc())
        .args(["--edition", "2024", "-o"])
        .arg(&output)
        .args(args)
        .arg(&source_path)
        .current_dir(root)
        .env("LC_ALL", "C")
        .output()
        .expect("run rustc");
    assert!(
        result.status.success(),
        "rustc failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::read(&output).expect("read the compiled file")
}

/// A scratch directory with `run1` and `run2` checkouts, and the run paths that go with it.
pub(super) struct TwoRuns {
    pub(super) scratch: ScratchDir,
    pub(super) runs: [RunPaths; 2],
}

impl TwoRuns {
    pub(super) fn new(name: &str) -> TwoRuns {
        let scratch = ScratchDir::new(name);
        let base = scratch.path().to_str().expect("UTF-8 temp dir").to_string();
        let runs = runs_under(&base);
        TwoRuns { scratch, runs }
    }

    pub(super) fn root(&self, run: usize) -> PathBuf {
        self.runs[run].root.clone()
    }

    /// The scratch directory's path as text (to check it never reaches a result).
    pub(super) fn base(&self) -> String {
        self.scratch.path().display().to_string()
    }
}

/// One section of a [`synthetic_elf`]: name, `sh_type`, `sh_flags` and contents.
pub(super) type SyntheticSection<'a> = (&'a str, u32, u64, &'a [u8]);

/// A minimal little-endian ELF64 executable with these sections (plus the null section and
/// `.shstrtab`), laid out one after the other, then the section header table.
pub(super) fn synthetic_elf(sections: &[SyntheticSection<'_>]) -> Vec<u8> {
    const HEADER: usize = 64;
    const SECTION_HEADER: usize = 64;
    let mut names = vec![0u8];
    let mut name_offsets = Vec::new();
    for (name, ..) in sections.iter().chain([&(".shstrtab", 3, 0, &[][..])]) {
        name_offsets.push(names.len() as u32);
        names.extend_from_slice(name.as_bytes());
        names.push(0);
    }
    let total: usize = sections.iter().map(|s| s.3.len()).sum::<usize>() + names.len();
    let mut out = Vec::with_capacity(HEADER + total + 8 + SECTION_HEADER * (sections.len() + 2));
    out.resize(HEADER, 0);
    let mut placed = Vec::new();
    for (_, _, _, data) in sections {
        placed.push((out.len(), data.len()));
        out.extend_from_slice(data);
    }
    placed.push((out.len(), names.len()));
    out.extend_from_slice(&names);
    while out.len() % 8 != 0 {
        out.push(0);
    }
    let section_headers_at = out.len();
    out.extend_from_slice(&[0; SECTION_HEADER]);
    let types = sections.iter().map(|s| (s.1, s.2)).chain([(3, 0)]);
    for ((name, (sh_type, flags)), (offset, size)) in name_offsets.iter().zip(types).zip(&placed) {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&sh_type.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
        out.extend_from_slice(&(*offset as u64).to_le_bytes());
        out.extend_from_slice(&(*size as u64).to_le_bytes());
        out.extend_from_slice(&[0; 8]); // sh_link, sh_info
        out.extend_from_slice(&1u64.to_le_bytes()); // sh_addralign
        out.extend_from_slice(&0u64.to_le_bytes()); // sh_entsize
    }
    let section_count = (sections.len() + 2) as u16;
    let header = &mut out[..HEADER];
    header[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    header[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    header[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    header[20..24].copy_from_slice(&1u32.to_le_bytes());
    header[40..48].copy_from_slice(&(section_headers_at as u64).to_le_bytes());
    header[52..54].copy_from_slice(&(HEADER as u16).to_le_bytes());
    header[54..56].copy_from_slice(&56u16.to_le_bytes());
    header[58..60].copy_from_slice(&(SECTION_HEADER as u16).to_le_bytes());
    header[60..62].copy_from_slice(&section_count.to_le_bytes());
    header[62..64].copy_from_slice(&(section_count - 1).to_le_bytes());
    out
}
