//! One binary's release archives: `BIN-VERSION-TARGET.tar.gz` and, for Linux targets, the
//! `.deb`, compressed side by side.
//!
//! Deflate at level 9 is nearly all of the packaging time, and the two archives are
//! independent streams, so each is compressed on its own thread. The bytes do not depend on
//! the threads: each archive is the same pure function of its inputs as when run alone.

use std::collections::BTreeMap;

use super::deb::{DebContents, DebControl, deb};
use super::tarball::tar_gz;
use super::{ArtifactFile, Normalisation, validate_name_segment};

/// What one binary's archives are made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryRelease {
    /// The `[[bin]]` name: the executable's name in the archives.
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
}

/// The `.tar.gz` and, given a control file, the `.deb` of `release`, by file name.
pub fn binary_archives(
    release: &BinaryRelease,
    deb_control: Option<&DebControl>,
    norm: &Normalisation,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let stem = release.stem()?;
    let mut files = vec![ArtifactFile {
        path_in_archive: release.bin_name.clone(),
        bytes: release.binary.clone(),
        executable: true,
    }];
    files.extend(release.docs.iter().map(|(name, bytes)| ArtifactFile {
        path_in_archive: name.clone(),
        bytes: bytes.clone(),
        executable: false,
    }));
    let package = |control: &DebControl| -> anyhow::Result<(String, Vec<u8>)> {
        let contents = DebContents {
            bin_name: release.bin_name.clone(),
            binary: release.binary.clone(),
            docs: release.docs.clone(),
        };
        Ok((control.file_name()?, deb(control, &contents, norm)?))
    };
    let (tarball, debian) = std::thread::scope(|scope| {
        let debian = deb_control.map(|control| scope.spawn(move || package(control)));
        let tarball = tar_gz(&files, &stem, norm);
        let debian = debian.map(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (tarball, debian)
    });
    let mut archives = BTreeMap::from([(format!("{stem}.tar.gz"), tarball?)]);
    if let Some(debian) = debian {
        let (name, bytes) = debian?;
        archives.insert(name, bytes);
    }
    Ok(archives)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::deb::ManifestPackage;
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
        DebControl::from_manifest_metadata(&package, None, "x86_64-unknown-linux-gnu")
            .unwrap()
            .control
    }

    #[test]
    fn the_archives_are_those_each_writer_makes_alone() {
        let archives = binary_archives(&release(), Some(&control()), &NORM).unwrap();
        let names: Vec<&str> = archives.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
                "hello_1.0.0-1_amd64.deb"
            ]
        );
        let files = [
            ArtifactFile {
                path_in_archive: "hello".to_string(),
                bytes: release().binary,
                executable: true,
            },
            ArtifactFile {
                path_in_archive: "README.md".to_string(),
                bytes: b"# hello\n".to_vec(),
                executable: false,
            },
        ];
        let alone = tar_gz(&files, "hello-1.0.0-x86_64-unknown-linux-gnu", &NORM).unwrap();
        assert_eq!(
            archives["hello-1.0.0-x86_64-unknown-linux-gnu.tar.gz"],
            alone
        );
        let contents = DebContents {
            bin_name: "hello".to_string(),
            binary: release().binary,
            docs: release().docs,
        };
        assert_eq!(
            archives["hello_1.0.0-1_amd64.deb"],
            deb(&control(), &contents, &NORM).unwrap()
        );
    }

    #[test]
    fn without_a_control_there_is_only_the_tarball_and_bad_names_are_refused() {
        let archives = binary_archives(&release(), None, &NORM).unwrap();
        assert_eq!(archives.len(), 1);
        let escaping = BinaryRelease {
            version: "1/../..".to_string(),
            ..release()
        };
        assert!(binary_archives(&escaping, Some(&control()), &NORM).is_err());
    }
}
