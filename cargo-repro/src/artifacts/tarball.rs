//! Deterministic `.tar.gz`: sorted GNU-format entries with normalised metadata, gzip with a
//! fixed header.
//!
//! Every entry (files and the directories that hold them) is sorted by path, owned by 0/0 with
//! empty user and group names, dated `SOURCE_DATE_EPOCH`, and is 0755 (directories,
//! executables) or the file's own mode (0644 by default). Paths are written byte for byte (so `./usr/bin/x` keeps its `./`, as
//! Debian packages want); names over 100 bytes use GNU `././@LongLink` entries.

use std::collections::BTreeMap;
use std::io::Write as _;

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::{ArtifactFile, Normalisation, validate_name_segment, validate_relative_path};

/// The longest name a tar header holds without a GNU long-name entry.
const NAME_FIELD_LEN: usize = 100;

/// What one archive entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    Directory,
    File { mode: u32 },
}

impl EntryKind {
    fn mode(self) -> u32 {
        match self {
            EntryKind::Directory => 0o755,
            EntryKind::File { mode } => mode,
        }
    }

    fn entry_type(self) -> EntryType {
        match self {
            EntryKind::Directory => EntryType::Directory,
            EntryKind::File { .. } => EntryType::Regular,
        }
    }
}

/// A `.tar.gz` of `files` under `top_dir/` (`.` for `./`-prefixed paths, as in a `.deb`).
///
/// The same files give the same bytes whatever order they are passed in.
pub fn tar_gz(
    files: &[ArtifactFile],
    top_dir: &str,
    norm: &Normalisation,
) -> anyhow::Result<Vec<u8>> {
    gzip(&tar_stream(files, top_dir, norm)?)
}

/// The uncompressed tar stream of [`tar_gz`].
pub fn tar_stream(
    files: &[ArtifactFile],
    top_dir: &str,
    norm: &Normalisation,
) -> anyhow::Result<Vec<u8>> {
    if top_dir != "." {
        validate_name_segment(top_dir)?;
    }
    let entries = sorted_entries(files, top_dir)?;
    let mut builder = tar::Builder::new(Vec::new());
    for (name, (kind, bytes)) in &entries {
        append_entry(&mut builder, name, *kind, bytes, norm)?;
    }
    Ok(builder.into_inner()?)
}

/// Every file and every directory above it, by full archive path (directories end in `/`).
fn sorted_entries<'a>(
    files: &'a [ArtifactFile],
    top_dir: &str,
) -> anyhow::Result<BTreeMap<String, (EntryKind, &'a [u8])>> {
    let mut entries = BTreeMap::new();
    entries.insert(format!("{top_dir}/"), (EntryKind::Directory, &[][..]));
    for file in files {
        validate_relative_path(&file.path_in_archive)?;
        let mut dir = format!("{top_dir}/");
        let segments: Vec<&str> = file.path_in_archive.split('/').collect();
        for segment in &segments[..segments.len() - 1] {
            dir.push_str(segment);
            dir.push('/');
            entries.insert(dir.clone(), (EntryKind::Directory, &[][..]));
        }
        let path = format!("{top_dir}/{}", file.path_in_archive);
        if file.mode & !0o777 != 0 {
            anyhow::bail!(
                "{:?} has mode {:o}; give plain permission bits (at most 0777), no setuid, setgid or sticky bit",
                file.path_in_archive,
                file.mode
            );
        }
        let kind = EntryKind::File { mode: file.mode };
        if entries.insert(path, (kind, &file.bytes[..])).is_some() {
            anyhow::bail!(
                "{:?} is given twice; every artifact file needs its own path",
                file.path_in_archive
            );
        }
    }
    if let Some(clash) = files_that_are_also_directories(&entries).next() {
        anyhow::bail!("{clash:?} is both a file and a directory in the archive; rename one");
    }
    Ok(entries)
}

fn files_that_are_also_directories<'a>(
    entries: &'a BTreeMap<String, (EntryKind, &[u8])>,
) -> impl Iterator<Item = &'a str> {
    entries
        .iter()
        .filter(|(_, (kind, _))| *kind != EntryKind::Directory)
        .map(|(name, _)| name.as_str())
        .filter(|name| entries.contains_key(&format!("{name}/")))
}

/// Appends one entry with normalised metadata, preceded by a long-name entry when needed.
fn append_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: EntryKind,
    bytes: &[u8],
    norm: &Normalisation,
) -> anyhow::Result<()> {
    if name.len() > NAME_FIELD_LEN {
        append_long_name(builder, name)?;
    }
    let mut header = normalised_header(kind.entry_type(), kind.mode(), bytes.len() as u64, norm);
    set_name_bytes(&mut header, name);
    header.set_cksum();
    builder.append(&header, bytes)?;
    Ok(())
}

/// The GNU `././@LongLink` entry that carries a name longer than the header's field (dated 0,
/// as GNU tar does).
fn append_long_name(builder: &mut tar::Builder<Vec<u8>>, name: &str) -> anyhow::Result<()> {
    let mut data = name.as_bytes().to_vec();
    data.push(0);
    let mut header = normalised_header(
        EntryType::GNULongName,
        0o644,
        data.len() as u64,
        &Normalisation { mtime: 0 },
    );
    set_name_bytes(&mut header, "././@LongLink");
    header.set_cksum();
    builder.append(&header, &data[..])?;
    Ok(())
}

/// A GNU header owned by 0/0 (user and group names left empty), dated `norm.mtime`.
fn normalised_header(entry_type: EntryType, mode: u32, size: u64, norm: &Normalisation) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(norm.mtime);
    header.set_size(size);
    header
}

/// Writes the name as is (at most the field's length; a long-name entry carries the rest).
fn set_name_bytes(header: &mut Header, name: &str) {
    let field = &mut header.as_old_mut().name;
    let bytes = &name.as_bytes()[..name.len().min(NAME_FIELD_LEN)];
    field[..bytes.len()].copy_from_slice(bytes);
}

/// Gzip at level 9 with no file name, mtime 0 and a fixed OS byte.
///
/// The deflate implementation is flate2's zlib-rs backend (a pure-Rust port of zlib-ng),
/// chosen in the workspace `Cargo.toml` and pinned by `Cargo.lock`, with flate2's runtime CPU
/// detection off. Its output is stable for a given version; another backend (miniz_oxide,
/// zlib) or version gives other (valid) bytes, so the backend must never change silently: the
/// test `level_9_output_is_pinned` fails when it does.
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::{NORM, ScratchDir, run};

    fn file(path: &str, bytes: &str, executable: bool) -> ArtifactFile {
        ArtifactFile {
            path_in_archive: path.to_string(),
            bytes: bytes.as_bytes().to_vec(),
            mode: if executable { 0o755 } else { 0o644 },
        }
    }

    fn sample() -> Vec<ArtifactFile> {
        vec![
            file("hello", "#!/bin/sh\necho hi\n", true),
            file("README.md", "# hello\n", false),
            file("doc/guide/intro.md", "intro\n", false),
            file("LICENSE-MIT", "MIT\n", false),
        ]
    }

    #[test]
    fn same_bytes_whatever_the_input_order() {
        let forward = tar_gz(&sample(), "hello-1.0.0", &NORM).unwrap();
        let mut reversed = sample();
        reversed.reverse();
        assert_eq!(forward, tar_gz(&reversed, "hello-1.0.0", &NORM).unwrap());
    }

    #[test]
    fn gnu_tar_lists_sorted_normalised_entries() {
        let scratch = ScratchDir::new("tarball-list");
        let archive = tar_gz(&sample(), "hello-1.0.0", &NORM).unwrap();
        std::fs::write(scratch.path().join("a.tar.gz"), archive).unwrap();
        let listing = run("tar", &["-tvzf", "a.tar.gz"], scratch.path());
        let lines: Vec<Vec<&str>> = listing
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let summary: Vec<(&str, &str, &str, &str, &str)> = lines
            .iter()
            .map(|f| (f[0], f[1], f[3], f[4], f[5]))
            .collect();
        let date = ("2023-11-14", "22:13");
        assert_eq!(
            summary,
            [
                ("drwxr-xr-x", "0/0", date.0, date.1, "hello-1.0.0/"),
                (
                    "-rw-r--r--",
                    "0/0",
                    date.0,
                    date.1,
                    "hello-1.0.0/LICENSE-MIT"
                ),
                ("-rw-r--r--", "0/0", date.0, date.1, "hello-1.0.0/README.md"),
                ("drwxr-xr-x", "0/0", date.0, date.1, "hello-1.0.0/doc/"),
                (
                    "drwxr-xr-x",
                    "0/0",
                    date.0,
                    date.1,
                    "hello-1.0.0/doc/guide/"
                ),
                (
                    "-rw-r--r--",
                    "0/0",
                    date.0,
                    date.1,
                    "hello-1.0.0/doc/guide/intro.md"
                ),
                ("-rwxr-xr-x", "0/0", date.0, date.1, "hello-1.0.0/hello"),
            ]
        );
    }

    #[test]
    fn gnu_tar_extracts_long_names_and_dot_prefixes() {
        let scratch = ScratchDir::new("tarball-long");
        let long = format!("{}/file.txt", "d".repeat(120));
        let archive = tar_gz(&[file(&long, "long\n", false)], ".", &NORM).unwrap();
        std::fs::write(scratch.path().join("a.tar.gz"), archive).unwrap();
        let listing = run("tar", &["-tzf", "a.tar.gz"], scratch.path());
        let expected = format!("./\n./{}/\n./{long}\n", "d".repeat(120));
        assert_eq!(listing, expected);
        run("tar", &["-xzf", "a.tar.gz"], scratch.path());
        let extracted = std::fs::read_to_string(scratch.path().join(&long)).unwrap();
        assert_eq!(extracted, "long\n");
    }

    #[test]
    fn gzip_header_has_no_name_and_no_time() {
        let archive = tar_gz(&sample(), "hello-1.0.0", &NORM).unwrap();
        assert_eq!(
            archive[..4],
            [0x1f, 0x8b, 8, 0],
            "no FNAME/FEXTRA/FCOMMENT flags"
        );
        assert_eq!(archive[4..8], [0, 0, 0, 0], "mtime 0");
        assert_eq!(archive[8], 2, "XFL: maximum compression");
        let scratch = ScratchDir::new("tarball-gzip");
        std::fs::write(scratch.path().join("a.tar.gz"), &archive).unwrap();
        let listing = run("gzip", &["-lvN", "a.tar.gz"], scratch.path());
        assert!(listing.contains("a.tar"), "{listing}");
        run("gzip", &["-t", "a.tar.gz"], scratch.path());
    }

    /// Text with repeats at many distances, so the match finder's choices show in the output.
    fn compressible_sample() -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let words = [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "reproducible",
            "build",
            "\n",
        ];
        let mut text = Vec::new();
        while text.len() < 200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.extend_from_slice(words[(state % words.len() as u64) as usize].as_bytes());
            text.extend_from_slice(&state.to_le_bytes()[..(state >> 61) as usize]);
        }
        text
    }

    #[test]
    fn level_9_output_is_pinned() {
        // Changing the deflate backend, its version or the level changes every artifact's
        // bytes; that must be a deliberate change of this hash (and a note in the changelog).
        let compressed = gzip(&compressible_sample()).unwrap();
        assert_eq!(
            crate::patch::tree::sha256_hex(&compressed),
            "3e5dc656e110a330e4b31188fbe2913f69c22cd9e7e0f0fb651afeecc7cd5f68"
        );
    }

    #[test]
    fn refuses_paths_that_escape_or_clash() {
        for bad in ["../x", "/abs", "a//b", ""] {
            assert!(
                tar_gz(&[file(bad, "", false)], "top", &NORM).is_err(),
                "{bad}"
            );
        }
        let twice = [file("a", "1", false), file("a", "2", false)];
        assert!(tar_gz(&twice, "top", &NORM).is_err());
        let clash = [file("a", "1", false), file("a/b", "2", false)];
        assert!(tar_gz(&clash, "top", &NORM).is_err());
        assert!(tar_gz(&sample(), "../up", &NORM).is_err());
    }
}
