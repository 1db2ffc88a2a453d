//! `cargo xtask bench package`: packaging a 50 MiB binary with the release-artifact writer
//! (`.tar.gz`, `.deb`, `.sha256` sidecars, `SHA256SUMS`) against GNU
//! `tar --sort=name … | gzip -9n` plus `sha256sum`, on the same file, alternately.
//!
//! The binary is real machine code: the pinned toolchain's own executables (`bin/*` of its
//! sysroot, sorted by name) concatenated and cut at 50 MiB, so it compresses like a release
//! binary, and it is the same file wherever the same toolchain is installed.
//!
//! The writer must run optimised, so in a debug build this re-runs itself through
//! `cargo run --release`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use cargo_repro::artifacts::ArtifactFile;
use cargo_repro::artifacts::Normalisation;
use cargo_repro::artifacts::bundle::{BinaryRelease, release_archives};
use cargo_repro::artifacts::checksums::{sha256sums, sidecar};
use cargo_repro::artifacts::deb::{DebMetadata, DebPackage, ManifestPackage};

use super::{alternate, median, ms, parse_numbers, time_command};
use crate::{cargo, project_root, step};

/// The size of the benchmark binary.
const BINARY_SIZE: usize = 50 * 1024 * 1024;
/// The binary's name, in both archives.
const BIN: &str = "app";
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// The reference: what release scripts run by hand.
const GNU_PIPELINE: &str = "tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1 -c app | gzip -9n > app.tar.gz && sha256sum app.tar.gz > app.tar.gz.sha256";

/// Runs the benchmark and prints a Markdown table.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let mut runs = 7;
    parse_numbers(args, &mut [("--runs", &mut runs)])?;
    let root = project_root();
    if cfg!(debug_assertions) {
        step("re-running optimised (cargo run --release -p xtask)");
        let mut command = vec!["run", "--release", "--locked", "-q", "-p", "xtask", "--"];
        command.extend(["bench", "package"]);
        command.extend(args.iter().map(String::as_str));
        duct::cmd(cargo(), command).dir(&root).run()?;
        return Ok(());
    }
    let dir = root.join("target/bench/package");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("gnu"))?;
    let binary = toolchain_binaries(&root)?;
    std::fs::write(dir.join("gnu").join(BIN), &binary)?;
    let input = dir.join(BIN);
    std::fs::write(&input, &binary)?;
    step(&format!(
        "measuring {} MiB ({runs} runs each, alternating)",
        binary.len() >> 20
    ));

    let ours_dir = dir.join("ours");
    let (ours, gnu) = alternate(
        runs,
        || {
            let _ = std::fs::remove_dir_all(&ours_dir);
            std::fs::create_dir_all(&ours_dir)?;
            let start = Instant::now();
            package(&input, &ours_dir)?;
            Ok(start.elapsed())
        },
        || {
            time_command(
                duct::cmd("sh", ["-c", GNU_PIPELINE]).dir(dir.join("gnu")),
                "tar | gzip -9n",
                &[0],
            )
        },
    )?;
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len() as f64 / 1_048_576.0);
    let (ours, gnu) = (median(&ours), median(&gnu));
    let table = format!(
        "| input | ours: .tar.gz + .deb + sidecars + SHA256SUMS (median) | GNU tar \\| gzip -9n + sha256sum (median) | ratio | .tar.gz size, ours / GNU |\n| ---: | ---: | ---: | ---: | ---: |\n| {} MiB | {:.0} ms | {:.0} ms | {:.2} | {:.2} MiB / {:.2} MiB |\n",
        binary.len() >> 20,
        ms(ours),
        ms(gnu),
        ms(ours) / ms(gnu),
        size(&ours_dir.join(format!("{BIN}-1.0.0-{TRIPLE}.tar.gz")))?,
        size(&dir.join("gnu/app.tar.gz"))?,
    );
    use std::io::Write as _;
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}

/// What `cargo repro build --release-artifacts` does with one built binary, minus the
/// provenance: read it, make both archives, their sidecars and `SHA256SUMS`, write them.
fn package(input: &Path, out_dir: &Path) -> anyhow::Result<()> {
    let release = BinaryRelease {
        bin_name: BIN.to_string(),
        version: "1.0.0".to_string(),
        triple: TRIPLE.to_string(),
        binary: std::fs::read(input)?,
        docs: BTreeMap::new(),
    };
    let manifest = ManifestPackage {
        name: BIN.to_string(),
        version: release.version.clone(),
        description: Some("The packaging benchmark's binary".to_string()),
        authors: vec!["Bench <bench@example.com>".to_string()],
        ..ManifestPackage::default()
    };
    let control = DebMetadata::parse(None)?
        .0
        .control(&manifest, TRIPLE, &[], None)?;
    let deb = DebPackage {
        control,
        files: vec![ArtifactFile::new(
            format!("usr/bin/{BIN}"),
            release.binary.clone(),
            true,
        )],
        ..DebPackage::default()
    };
    let archives = release_archives(&[release], &[deb], &Normalisation { mtime: 1 })?;
    let mut files = BTreeMap::new();
    for (name, bytes) in &archives {
        files.insert(format!("{name}.sha256"), sidecar(name, bytes)?.into_bytes());
    }
    let summed: Vec<(&str, &[u8])> = archives
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    files.insert("SHA256SUMS".to_string(), sha256sums(&summed)?.into_bytes());
    for (name, bytes) in archives.iter().chain(&files) {
        std::fs::write(out_dir.join(name), bytes)?;
    }
    Ok(())
}

/// The executables of the toolchain in force for `root`, sorted by name, concatenated and cut
/// at [`BINARY_SIZE`].
fn toolchain_binaries(root: &Path) -> anyhow::Result<Vec<u8>> {
    let sysroot = duct::cmd("rustc", ["--print", "sysroot"])
        .dir(root)
        .read()?;
    let mut paths: Vec<_> = std::fs::read_dir(Path::new(sysroot.trim()).join("bin"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let mut bytes = Vec::with_capacity(BINARY_SIZE);
    for path in paths {
        if bytes.len() >= BINARY_SIZE {
            break;
        }
        let file = std::fs::read(&path)?;
        if file.starts_with(b"\x7fELF") {
            bytes.extend_from_slice(&file);
        }
    }
    if bytes.len() < BINARY_SIZE {
        anyhow::bail!(
            "the toolchain's executables hold only {} bytes; the benchmark needs {BINARY_SIZE}",
            bytes.len()
        );
    }
    bytes.truncate(BINARY_SIZE);
    Ok(bytes)
}
