//! A release's archives: per binary `BIN-VERSION-TARGET.tar.gz`, and per package its `.deb`,
//! all compressed side by side.
//!
//! Deflate at level 9 is nearly all of the packaging time, and the archives are independent
//! streams, so each is compressed on its own thread. The bytes do not depend on the threads:
//! each archive is the same pure function of its inputs as when made alone.

use std::collections::BTreeMap;

use super::deb::{DebPackage, deb};
use super::tarball::tar_gz;
use super::{ArtifactFile, Normalisation, validate_name_segment};

/// What one binary's tarball is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryRelease {
    /// The `[[bin]]` name: the executable's name in the archive.
    pub bin_name: String,
    /// The package version, as in `Cargo.toml`.
    pub version: String,
    /// The target triple built for.
    pub triple: String,
    pub binary: Vec<u8>,
    /// README, LICENSE* and the like, by file name.
    pub docs: BTreeMap<String, Vec<u8>>,
}

impl BinaryRelease {
    /// `BIN-VERSION-TARGET`: the tarball's name without `.tar.gz`, and its top directory.
    pub fn stem(&self) -> anyhow::Result<String> {
        for segment in [&self.bin_name, &self.version, &self.triple] {
            validate_name_segment(segment)?;
        }
        Ok(format!(
            "{}-{}-{}",
            self.bin_name, self.version, self.triple
        ))
    }

    /// The tarball's name and bytes.
    pub fn tarball(&self, norm: &Normalisation) -> anyhow::Result<(String, Vec<u8>)> {
        let stem = self.stem()?;
        let mut files = vec![ArtifactFile::new(
            self.bin_name.clone(),
            self.binary.clone(),
            true,
        )];
        files.extend(
            self.docs
                .iter()
                .map(|(name, bytes)| ArtifactFile::new(name.clone(), bytes.clone(), false)),
        );
        Ok((format!("{stem}.tar.gz"), tar_gz(&files, &stem, norm)?))
    }
}

/// The tarballs of `binaries` and the `.deb`s of `packages`, by file name; two archives with
/// one name are an error.
pub fn release_archives(
    binaries: &[BinaryRelease],
    packages: &[DebPackage],
    norm: &Normalisation,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let results: Vec<anyhow::Result<(String, Vec<u8>)>> = std::thread::scope(|scope| {
        let tarballs = binaries
            .iter()
            .map(|b| scope.spawn(move || b.tarball(norm)));
        let debs = packages
            .iter()
            .map(|p| scope.spawn(move || Ok((p.control.file_name()?, deb(p, norm)?))));
        let threads: Vec<_> = tarballs.chain(debs).collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut archives = BTreeMap::new();
    for result in results {
        let (name, bytes) = result?;
        if archives.insert(name.clone(), bytes).is_some() {
            anyhow::bail!(
                "two archives would both be named {name}; give the packages distinct [package.metadata.deb] names, or build one binary at a time with --bin NAME"
            );
        }
    }
    Ok(archives)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::deb::{DebControl, DebMetadata, ManifestPackage};
    use crate::artifacts::test_support::NORM;

    fn release() -> BinaryRelease {
        BinaryRelease {
            bin_name: "hello".to_string(),
            version: "1.0.0".to_string(),
            triple: "x86_64-unknown-linux-gnu".to_string(),
            binary: b"\x7fELF pretend".to_vec(),
            docs: BTreeMap::from([("README.md".to_string(), b"# hello\n".to_vec())]),
        }
    }

    fn control() -> DebControl {
        let package = ManifestPackage {
            name: "hello".to_string(),
            version: "1.0.0".to_string(),
            description: Some("Says hello".to_string()),
            authors: vec!["Ada <ada@example.org>".to_string()],
            ..ManifestPackage::default()
        };
        DebMetadata::parse(None)
            .unwrap()
            .0
            .control(&package, "x86_64-unknown-linux-gnu", &[], None)
            .unwrap()
    }

    fn package() -> DebPackage {
        DebPackage {
            control: control(),
            files: vec![ArtifactFile::new("usr/bin/hello", release().binary, true)],
            ..DebPackage::default()
        }
    }

    #[test]
    fn the_archives_are_those_each_writer_makes_alone() {
        let archives = release_archives(&[release()], &[package()], &NORM).unwrap();
        let names: Vec<&str> = archives.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
                "hello_1.0.0-1_amd64.deb"
            ]
        );
        let files = [
            ArtifactFile::new("hello", release().binary, true),
            ArtifactFile::new("README.md", b"# hello\n".to_vec(), false),
        ];
        let alone = tar_gz(&files, "hello-1.0.0-x86_64-unknown-linux-gnu", &NORM).unwrap();
        assert_eq!(
            archives["hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz"],
            alone
        );
        assert_eq!(
            archives["hello_1.0.0-1_amd64.deb"],
            deb(&package(), &NORM).unwrap()
        );
    }

    #[test]
    fn clashing_names_and_bad_names_are_refused() {
        assert!(release_archives(&[release(), release()], &[], &NORM).is_err());
        let escaping = BinaryRelease {
            version: "1/../..".to_string(),
            ..release()
        };
        assert!(release_archives(&[escaping], &[], &NORM).is_err());
    }
}
