//! Release artifacts from a finished build: per binary a `.tar.gz`, per package (on Linux) a
//! `.deb`,
//! `.sha256` sidecars, a sorted `SHA256SUMS`, and an in-toto provenance statement; with a
//! signer, a detached signature of `SHA256SUMS` and a DSSE envelope of the statement (neither
//! is listed in `SHA256SUMS`, which they sign).
//!
//! Everything is computed in memory first and written through one [`Transaction`], so a
//! failure leaves nothing partial in the out dir. No artifact depends on the checkout path:
//! the provenance records the environment with the remapped paths shown as placeholders.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::deb_package::{self, PackageInputs};
use super::env::BuildEnv;
use super::runner::BuildOutcome;
use super::signer::Signer;
use crate::artifacts::attestation::{GitSource, ProvenanceInput, Subject, VendoredPatch};
use crate::artifacts::bundle::{BinaryRelease, release_archives};
use crate::artifacts::checksums::{sha256sums, sidecar};
use crate::artifacts::deb::{DebMetadata, ManifestPackage};
use crate::artifacts::dsse;
use crate::artifacts::{Normalisation, validate_name_segment};
use crate::patch::tree::sha256_hex;
use crate::transaction::Transaction;
use crate::workspace::source_file::io_reason;
use crate::workspace::{Workspace, display_path, scrub_paths};

/// What [`preflight`] found: warnings (a .deb that will be skipped, and why) and notes
/// (metadata keys that are not honoured).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preflight {
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// Checks the packages' release metadata before anything is compiled: invalid metadata (a
/// bad key, an asset, script or unit file that is missing or leads outside the workspace) is
/// an error now, not after the build; what a .deb lacks is a warning (the .deb is then
/// skipped, the other artifacts are written). `packages` limits it to `-p` names.
pub fn preflight(
    workspace: &Workspace,
    triple: &str,
    packages: &[String],
    with_deb: bool,
) -> anyhow::Result<Preflight> {
    let mut found = Preflight::default();
    if !with_deb || !triple.contains("-linux-") {
        return Ok(found);
    }
    for package in workspace_packages(workspace)? {
        let selected = packages.is_empty() || packages.iter().any(|p| *p == package.name.as_str());
        if !selected || !package.targets.iter().any(|t| t.is_bin()) {
            continue;
        }
        let manifest = display_path(&workspace.root, package.manifest_path.as_std_path());
        let (meta, notes) = DebMetadata::parse(package.metadata.get("deb"))
            .map_err(|e| anyhow::anyhow!("{manifest}: {e}"))?;
        found
            .notes
            .extend(notes.into_iter().map(|n| format!("{manifest}: {n}")));
        let manifest_package = ManifestPackage::from(&package);
        let lacks = meta.lacks(&manifest_package);
        if !lacks.is_empty() {
            found.warnings.push(format!(
                "{manifest}: no .deb for {}: it lacks {}; the tar.gz, sums and provenance are written (or pass --no-deb)",
                package.name,
                lacks.join(" and ")
            ));
            continue;
        }
        let package_dir = package_dir(&package);
        let inputs = PackageInputs {
            workspace_root: &workspace.root,
            package_dir: &package_dir,
            package: manifest_package,
            meta,
            triple,
            out_dir: None,
            binaries: BTreeMap::new(),
            bin_names: bin_names(&package),
            docs: BTreeMap::new(),
            epoch: 0,
        };
        deb_package::check(&inputs).map_err(|e| anyhow::anyhow!("{manifest}: {e}"))?;
    }
    Ok(found)
}

fn package_dir(package: &cargo_metadata::Package) -> std::path::PathBuf {
    package
        .manifest_path
        .parent()
        .map(|p| p.as_std_path().to_path_buf())
        .unwrap_or_default()
}

fn bin_names(package: &cargo_metadata::Package) -> Vec<String> {
    package
        .targets
        .iter()
        .filter(|t| t.is_bin())
        .map(|t| t.name.clone())
        .collect()
}

/// Writes the release artifacts of `outcome` into `out_dir`, signed when a `signer` is given;
/// `with_deb` false leaves the .deb out (`--no-deb`). Returns the file names written.
#[allow(clippy::too_many_arguments)]
pub fn write_release(
    workspace: &Workspace,
    env: &BuildEnv,
    outcome: &BuildOutcome,
    cargo_flags: &[String],
    signer: Option<&Signer>,
    out_dir: &Path,
    with_deb: bool,
    err: &mut dyn Write,
) -> anyhow::Result<Vec<String>> {
    let epoch: u64 = env
        .vars
        .get("SOURCE_DATE_EPOCH")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the build environment has no SOURCE_DATE_EPOCH"))?;
    let norm = Normalisation { mtime: epoch };
    let triple = env.triple.clone();
    validate_name_segment(&triple)?;
    let packages = workspace_packages(workspace)?;

    let mut provenance_package = None;
    let mut tarballs = Vec::new();
    // The binaries of each package, in the order built, by package name.
    let mut by_package: BTreeMap<String, (&cargo_metadata::Package, BTreeMap<String, Vec<u8>>)> =
        BTreeMap::new();
    for binary in &outcome.binaries {
        let package = packages
            .iter()
            .find(|p| {
                p.targets
                    .iter()
                    .any(|t| t.is_bin() && t.name == binary.name)
            })
            .ok_or_else(|| {
                anyhow::anyhow!("no workspace package has a binary named `{}`", binary.name)
            })?;
        let version = package.version.to_string();
        for segment in [
            package.name.as_str(),
            version.as_str(),
            binary.name.as_str(),
        ] {
            validate_name_segment(segment)?;
        }
        provenance_package.get_or_insert_with(|| (package.name.to_string(), version.clone()));
        let bytes = std::fs::read(&binary.path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {}", binary.display, io_reason(&e)))?;
        tarballs.push(BinaryRelease {
            bin_name: binary.name.clone(),
            version,
            triple: triple.clone(),
            binary: bytes.clone(),
            docs: release_docs(&workspace.root, &package_dir(package))?,
        });
        by_package
            .entry(package.name.to_string())
            .or_insert_with(|| (package, BTreeMap::new()))
            .1
            .insert(binary.name.clone(), bytes);
    }
    let out_of_build = outcome
        .binaries
        .first()
        .and_then(|b| b.path.parent())
        .map(Path::to_path_buf);
    let mut debs = Vec::new();
    if with_deb && triple.contains("-linux-") {
        for (package, binaries) in by_package.into_values() {
            let manifest = display_path(&workspace.root, package.manifest_path.as_std_path());
            let in_manifest = |e: anyhow::Error| anyhow::anyhow!("{manifest}: {e}");
            let (meta, _) = DebMetadata::parse(package.metadata.get("deb")).map_err(in_manifest)?;
            let manifest_package = ManifestPackage::from(package);
            // What a .deb lacks was said before the build (`preflight`): it is skipped here.
            if !meta.lacks(&manifest_package).is_empty() {
                continue;
            }
            let package_dir = package_dir(package);
            let inputs = PackageInputs {
                workspace_root: &workspace.root,
                package_dir: &package_dir,
                package: manifest_package,
                meta,
                triple: &triple,
                out_dir: out_of_build.as_deref(),
                binaries,
                bin_names: bin_names(package),
                docs: release_docs(&workspace.root, &package_dir)?,
                epoch,
            };
            let (deb, warnings) = deb_package::gather(&inputs).map_err(in_manifest)?;
            for warning in warnings {
                writeln!(err, "warning: {manifest}: {warning}")?;
            }
            debs.push(deb);
        }
    }
    let artifacts = release_archives(&tarballs, &debs, &norm)?;
    let (package, version) = provenance_package
        .ok_or_else(|| anyhow::anyhow!("the build produced no binary to package"))?;

    let provenance = ProvenanceInput {
        subjects: artifacts
            .iter()
            .map(|(name, bytes)| Subject::of(name, bytes))
            .collect(),
        package: package.clone(),
        version: version.clone(),
        bins: outcome.binaries.iter().map(|b| b.name.clone()).collect(),
        target: triple.clone(),
        cargo_flags: cargo_flags.to_vec(),
        env: scrubbed_env(workspace, env),
        source: git_source(&workspace.root)?,
        cargo_lock_sha256: sha256_hex(
            &std::fs::read(workspace.root.join("Cargo.lock")).unwrap_or_default(),
        ),
        vendored_patches: workspace
            .ledger
            .iter()
            .flat_map(|l| {
                l.entries
                    .iter()
                    .map(|(name, entry)| VendoredPatch::from_ledger_entry(name, entry))
            })
            .collect(),
        rustc_version_verbose: super::env::rustc(&workspace.root, &["-vV"])?,
        source_date_epoch: epoch,
    };
    let provenance_stem = format!("{package}-{version}-{triple}");
    let provenance_name = format!("{provenance_stem}.intoto.json");
    let statement = provenance.render()?.into_bytes();

    let mut all = artifacts.clone();
    for (name, bytes) in &artifacts {
        all.insert(format!("{name}.sha256"), sidecar(name, bytes)?.into_bytes());
    }
    let mut summed: Vec<(&str, &[u8])> = artifacts
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    summed.push((&provenance_name, &statement));
    let sums = sha256sums(&summed)?.into_bytes();
    if let Some(signer) = signer {
        // Signed before anything is written, so a failing signer leaves the out dir untouched.
        all.extend(signatures(signer, &sums, &provenance_stem, &statement)?);
    }
    all.insert(provenance_name, statement);
    all.insert("SHA256SUMS".to_string(), sums);

    let shown = display_path(&workspace.root, out_dir);
    std::fs::create_dir_all(out_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {shown}: {}", io_reason(&e)))?;
    // The caller holds the out dir's lock; a release killed while writing is undone first.
    let journal = crate::transaction::out_dir_journal(out_dir);
    if let Some(message) = crate::transaction::recover(out_dir, &journal)? {
        writeln!(err, "{message} in {shown}")?;
    }
    let mut transaction = Transaction::begin(out_dir, &journal, "build --release-artifacts")?;
    // The sums and signatures of an earlier release go first: from here until the new sums
    // are written, no `SHA256SUMS` claims files that are being replaced.
    for path in crate::workspace::read_dir_sorted(out_dir).unwrap_or_default() {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if name == "SHA256SUMS"
            || name.starts_with("SHA256SUMS.")
            || name.ends_with(".intoto.dsse.json")
        {
            transaction.remove_file(&path, &format!("{shown}/{name}"))?;
        }
    }
    // `SHA256SUMS` comes last and its signatures just before it: until the release is whole,
    // there are no sums that claim it is (a kill in between is rolled back by the next run).
    let last = |name: &str| match name {
        "SHA256SUMS" => 2,
        n if n.starts_with("SHA256SUMS.") || n.ends_with(".intoto.dsse.json") => 1,
        _ => 0,
    };
    let mut order: Vec<&String> = all.keys().collect();
    order.sort_by_key(|name| (last(name), name.as_str()));
    for name in order {
        transaction.write_file(&out_dir.join(name), &format!("{shown}/{name}"), &all[name])?;
    }
    transaction.commit();
    Ok(all.into_keys().collect())
}

/// `SHA256SUMS.asc` (or `.sig`), the detached signature of `SHA256SUMS`, and
/// `PROVENANCE_STEM.intoto.dsse.json`, the provenance statement in a signed DSSE envelope.
fn signatures(
    signer: &Signer,
    sums: &[u8],
    provenance_stem: &str,
    statement: &[u8],
) -> anyhow::Result<[(String, Vec<u8>); 2]> {
    let sums_signature = signer.sign(sums)?;
    let envelope_signature = dsse::Signature {
        keyid: signer.keyid().to_string(),
        sig: signer.sign_envelope(&dsse::pae(dsse::IN_TOTO_PAYLOAD_TYPE, statement))?,
    };
    let envelope = dsse::envelope(dsse::IN_TOTO_PAYLOAD_TYPE, statement, &[envelope_signature])?;
    Ok([
        (signer.signature_file_name("SHA256SUMS"), sums_signature),
        (
            format!("{provenance_stem}.intoto.dsse.json"),
            envelope.into_bytes(),
        ),
    ])
}

/// The workspace's packages with their targets and metadata (`cargo metadata --no-deps`).
fn workspace_packages(workspace: &Workspace) -> anyhow::Result<Vec<cargo_metadata::Package>> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(workspace.root.join("Cargo.toml"))
        .no_deps()
        .other_options(vec!["--locked".to_string(), "--offline".to_string()])
        .exec()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read the package metadata: {}",
                scrub_paths(&e.to_string(), &workspace.root, &workspace.cargo_home)
            )
        })?;
    Ok(metadata.packages)
}

/// The documents a release carries: the package's README and LICENSE files, and for each
/// kind the package lacks, the workspace root's.
fn release_docs(root: &Path, package_dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut docs = package_docs(root, package_dir)?;
    if package_dir != root {
        let is_licence = crate::artifacts::is_licence_file;
        let has_readme = docs.keys().any(|n| !is_licence(n));
        let has_licence = docs.keys().any(|n| is_licence(n));
        for (name, bytes) in package_docs(root, root)? {
            if (is_licence(&name) && !has_licence) || (!is_licence(&name) && !has_readme) {
                docs.insert(name, bytes);
            }
        }
    }
    Ok(docs)
}

/// README and LICENSE files of a package, by file name. Each must be a regular file inside the
/// workspace, symlinks resolved: a `LICENSE` linking to `/etc/passwd` is refused, not packaged.
fn package_docs(root: &Path, dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut docs = BTreeMap::new();
    for path in crate::workspace::read_dir_sorted(dir).unwrap_or_default() {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let is_doc = crate::artifacts::is_licence_file(name)
            || name.to_ascii_uppercase().starts_with("README");
        // Directories named so (`licenses/`) are not documents.
        if !is_doc || path.is_dir() {
            continue;
        }
        let shown = crate::workspace::display_path(root, &path);
        if !crate::guard::paths::inside(root, &path) {
            anyhow::bail!(
                "{shown} is a symbolic link leading outside the workspace; replace it with the file itself"
            );
        }
        let bytes = crate::guard::read::read_bytes(&path, crate::guard::read::LIMIT)
            .map_err(|e| anyhow::anyhow!("cannot read {shown}: it {}", e.reason()))?;
        docs.insert(name.to_string(), bytes);
    }
    Ok(docs)
}

/// The build environment with machine paths shown as `$WORKSPACE`, `$CARGO_HOME` and `$SYSROOT`
/// (the remap sources), so the provenance does not depend on where the checkout is.
fn scrubbed_env(workspace: &Workspace, env: &BuildEnv) -> BTreeMap<String, String> {
    let sysroot = super::env::sysroot(&workspace.root).ok();
    env.vars
        .iter()
        .map(|(key, value)| {
            let mut value = value.replace('\u{1f}', " ");
            if let Some(sysroot) = &sysroot {
                value = value.replace(&sysroot.display().to_string(), "$SYSROOT");
            }
            (
                key.clone(),
                scrub_paths(&value, &workspace.root, &workspace.cargo_home),
            )
        })
        .collect()
}

/// The commit built, and the `origin` remote when there is one.
fn git_source(root: &Path) -> anyhow::Result<GitSource> {
    let run = |args: &[&str]| -> Option<String> {
        let out = duct::cmd("git", args)
            .dir(root)
            .stdout_capture()
            .stderr_null()
            .unchecked()
            .run()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = run(&["rev-parse", "HEAD"]).ok_or_else(|| {
        anyhow::anyhow!("the workspace has no git commit to record in the provenance; commit first")
    })?;
    let remote = run(&["remote", "get-url", "origin"]).filter(|r| is_shareable_remote(r));
    Ok(GitSource { remote, commit })
}

/// A remote another machine can fetch from: not a local path (which would also put this
/// machine's directory layout into the provenance).
fn is_shareable_remote(url: &str) -> bool {
    let local = url.is_empty()
        || url.starts_with('/')
        || url.starts_with('.')
        || url.starts_with("file:")
        || url.starts_with('~');
    !local
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_remotes_are_not_recorded() {
        for local in [
            "/work/main",
            "../upstream",
            "file:///srv/git/x",
            "~/src/x",
            "",
        ] {
            assert!(!super::is_shareable_remote(local), "{local}");
        }
        for shared in [
            "https://github.com/o/r",
            "git@github.com:o/r.git",
            "ssh://git@host/r",
        ] {
            assert!(super::is_shareable_remote(shared), "{shared}");
        }
    }
}
