//! What a binary in a .deb needs and how it is stripped, read from the ELF file itself and
//! never from the build host: the `NEEDED` libraries and the versions of their symbols it
//! references give the `$auto` dependencies, through [`LIBRARIES`]; stripping removes the
//! symbol table and debug sections with the `object` crate's ELF rewriter, so the result is
//! a pure function of the input bytes (no `strip` program, whose version would change them).

use std::collections::BTreeMap;

use object::Endian as _;
use object::build::elf::{Builder, Dynamic, SectionData, VersionData};
use object::elf;

/// The shared libraries a package may depend on, by soname: the Debian 12 package that ships
/// it, and the symbol-version prefix whose highest value referenced becomes the minimum
/// version (`GLIBC_2.34` gives `libc6 (>= 2.34)`). A library not listed here needs an explicit
/// `depends` entry (the release says which).
pub const LIBRARIES: &[(&str, &str, Option<&str>)] = &[
    ("libc.so.6", "libc6", Some("GLIBC_")),
    ("libm.so.6", "libc6", Some("GLIBC_")),
    ("libdl.so.2", "libc6", Some("GLIBC_")),
    ("libpthread.so.0", "libc6", Some("GLIBC_")),
    ("librt.so.1", "libc6", Some("GLIBC_")),
    ("libutil.so.1", "libc6", Some("GLIBC_")),
    ("libresolv.so.2", "libc6", Some("GLIBC_")),
    ("ld-linux-x86-64.so.2", "libc6", Some("GLIBC_")),
    ("ld-linux-aarch64.so.1", "libc6", Some("GLIBC_")),
    ("ld-linux-armhf.so.3", "libc6", Some("GLIBC_")),
    ("ld-linux.so.2", "libc6", Some("GLIBC_")),
    ("libgcc_s.so.1", "libgcc-s1", Some("GCC_")),
    ("libstdc++.so.6", "libstdc++6", None),
    ("libz.so.1", "zlib1g", None),
    ("libssl.so.3", "libssl3", Some("OPENSSL_")),
    ("libcrypto.so.3", "libssl3", Some("OPENSSL_")),
    ("libsqlite3.so.0", "libsqlite3-0", None),
    ("libdbus-1.so.3", "libdbus-1-3", None),
    ("libudev.so.1", "libudev1", None),
    ("libsystemd.so.0", "libsystemd0", None),
    ("liblzma.so.5", "liblzma5", None),
    ("libzstd.so.1", "libzstd1", None),
    ("libbz2.so.1.0", "libbz2-1.0", None),
    ("libseccomp.so.2", "libseccomp2", None),
    ("libpcsclite.so.1", "libpcsclite1", None),
    ("libusb-1.0.so.0", "libusb-1.0-0", None),
];

/// What one binary needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// `package (>= version)` or `package`, sorted, one per package.
    pub depends: Vec<String>,
    /// `NEEDED` sonames that [`LIBRARIES`] does not know.
    pub unknown: Vec<String>,
}

/// The dependencies of an ELF binary; a file that is not ELF needs nothing.
pub fn needs(bytes: &[u8]) -> anyhow::Result<Needs> {
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(Needs::default());
    }
    let builder =
        Builder::read(bytes).map_err(|e| anyhow::anyhow!("cannot read the binary as ELF: {e}"))?;
    let mut needed = Vec::new();
    for section in builder.sections.iter() {
        if let SectionData::Dynamic(entries) = &section.data {
            for entry in entries {
                if let Dynamic::String { tag, val } = entry
                    && *tag == elf::DT_NEEDED
                {
                    needed.push(String::from_utf8_lossy(val.as_slice()).into_owned());
                }
            }
        }
    }
    // The highest version of each prefix referenced from each library, as (major, minor, …).
    let mut versions: BTreeMap<String, Vec<Vec<u64>>> = BTreeMap::new();
    for version in builder.versions.iter() {
        if let VersionData::Need(need) = &version.data {
            let file =
                String::from_utf8_lossy(builder.version_files.get(need.file).name.as_slice())
                    .into_owned();
            let name = String::from_utf8_lossy(need.name.as_slice()).into_owned();
            if let Some((_, _, Some(prefix))) = LIBRARIES.iter().find(|(so, _, _)| *so == file)
                && let Some(number) = name.strip_prefix(prefix)
                && let Some(parts) = number
                    .split('.')
                    .map(|p| p.parse::<u64>().ok())
                    .collect::<Option<Vec<u64>>>()
            {
                versions.entry(file).or_default().push(parts);
            }
        }
    }
    let mut by_package: BTreeMap<&str, Option<Vec<u64>>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for soname in &needed {
        match LIBRARIES.iter().find(|(so, _, _)| so == soname) {
            Some((_, package, _)) => {
                let highest = versions.get(soname).and_then(|v| v.iter().max().cloned());
                let slot = by_package.entry(package).or_default();
                if highest > *slot {
                    *slot = highest;
                }
            }
            None => unknown.push(soname.clone()),
        }
    }
    unknown.sort();
    unknown.dedup();
    let depends = by_package
        .into_iter()
        .map(|(package, version)| match version {
            Some(parts) => {
                let shown: Vec<String> = parts.iter().map(u64::to_string).collect();
                format!("{package} (>= {})", shown.join("."))
            }
            None => package.to_string(),
        })
        .collect();
    Ok(Needs { depends, unknown })
}

/// The `$auto` dependencies of several binaries: per package the highest minimum.
pub fn merge(all: &[Needs]) -> Needs {
    let mut by_package: BTreeMap<String, String> = BTreeMap::new();
    for entry in all.iter().flat_map(|n| &n.depends) {
        let package = entry
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let keep = match by_package.get(&package) {
            None => true,
            Some(existing) => version_of(entry) > version_of(existing),
        };
        if keep {
            by_package.insert(package, entry.clone());
        }
    }
    let mut unknown: Vec<String> = all.iter().flat_map(|n| n.unknown.clone()).collect();
    unknown.sort();
    unknown.dedup();
    Needs {
        depends: by_package.into_values().collect(),
        unknown,
    }
}

fn version_of(entry: &str) -> Vec<u64> {
    entry
        .split_once("(>= ")
        .map(|(_, v)| {
            v.trim_end_matches(')')
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A stripped binary and, when asked, its debug file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stripped {
    pub binary: Vec<u8>,
    /// The binary's GNU build id (hex), which names the debug file in
    /// `usr/lib/debug/.build-id/`.
    pub build_id: Option<String>,
}

/// `bytes` without its symbol table and debug sections (`strip --strip-all` in effect);
/// the same bytes back when there is nothing to strip or it is not ELF.
pub fn strip(bytes: &[u8]) -> anyhow::Result<Stripped> {
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(Stripped {
            binary: bytes.to_vec(),
            build_id: None,
        });
    }
    let mut builder =
        Builder::read(bytes).map_err(|e| anyhow::anyhow!("cannot read the binary as ELF: {e}"))?;
    let build_id = build_id(&builder);
    let mut changed = false;
    for section in builder.sections.iter_mut() {
        let name = section.name.as_slice();
        let strippable = section.sh_type == elf::SHT_SYMTAB
            || matches!(
                section.data,
                SectionData::Symbol | SectionData::String | SectionData::SymbolSectionIndex
            )
            || name.starts_with(b".debug")
            || name.starts_with(b".zdebug")
            || name == b".comment";
        if strippable && !section.sh_flags.contains(elf::SHF_ALLOC) {
            section.delete = true;
            changed = true;
        }
    }
    if !changed {
        return Ok(Stripped {
            binary: bytes.to_vec(),
            build_id,
        });
    }
    for symbol in builder.symbols.iter_mut() {
        symbol.delete = true;
    }
    builder.delete_orphans();
    let mut out = Vec::new();
    builder
        .write(&mut out)
        .map_err(|e| anyhow::anyhow!("cannot write the stripped binary: {e}"))?;
    Ok(Stripped {
        binary: out,
        build_id,
    })
}

/// The GNU build id note's descriptor, as lowercase hex.
fn build_id(builder: &Builder<'_>) -> Option<String> {
    for section in builder.sections.iter() {
        if section.name.as_slice() != b".note.gnu.build-id" {
            continue;
        }
        let SectionData::Note(data) = &section.data else {
            continue;
        };
        // namesz, descsz, type (4 bytes each, native endian), name padded to 4, descriptor.
        let data: &[u8] = data;
        let word = |at: usize| -> Option<usize> {
            let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(if builder.endian.is_little_endian() {
                u32::from_le_bytes(bytes)
            } else {
                u32::from_be_bytes(bytes)
            } as usize)
        };
        let (namesz, descsz) = (word(0)?, word(4)?);
        let start = 12 + namesz.div_ceil(4) * 4;
        let descriptor = data.get(start..start + descsz)?;
        return Some(descriptor.iter().map(|b| format!("{b:02x}")).collect());
    }
    None
}
