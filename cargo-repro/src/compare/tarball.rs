//! Tar streams and gzip files (`.tar.gz`, `.crate`, a `.deb`'s `data.tar.gz`): gzip header
//! fields, then the tar entries (order, header fields, contents, recursively) or, for gzip of
//! anything else, the decompressed content.

use std::io::Read as _;

use flate2::read::MultiGzDecoder;

use super::members::{self, Member, MemberWords};
use super::{
    Builder, Context, DifferenceKind, Format, MemberComparison, MemberDifference, StringDifference,
    Unreadable, binary,
};

const WORDS: MemberWords = MemberWords {
    order_field: "entry order",
    member: "tar entry",
};

/// Decompressed data larger than this is not compared (a guard against gzip bombs).
const MAX_DECOMPRESSED: u64 = 4 << 30;

/// Gzip header flags (RFC 1952).
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;

/// Whether `bytes` start with a POSIX or GNU tar header.
pub(super) fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Whether a gzip file's name says it holds a tar stream.
pub(super) fn is_tar_gz_name(name: &str) -> bool {
    [".tar.gz", ".tgz", ".crate"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Compares two tar streams entry by entry.
pub(super) fn compare_tar(a: &[u8], b: &[u8], cx: &Context<'_>) -> Result<Builder, Unreadable> {
    let mut builder = Builder::new(Format::Tar);
    add_tar(a, b, cx, &mut builder)?;
    Ok(builder)
}

fn add_tar(a: &[u8], b: &[u8], cx: &Context<'_>, builder: &mut Builder) -> Result<(), Unreadable> {
    let entries_a = entries(a).map_err(|e| Unreadable::new(0, "tar stream", e))?;
    let entries_b = entries(b).map_err(|e| Unreadable::new(1, "tar stream", e))?;
    members::compare(&entries_a, &entries_b, &WORDS, cx, builder);
    if builder.members.is_empty() && builder.header_fields.is_empty() {
        builder
            .header_fields
            .push("tar layout (headers not read as fields, or end-of-archive padding)".to_string());
    }
    Ok(())
}

fn entries(bytes: &[u8]) -> std::io::Result<Vec<Member<'_>>> {
    let mut archive = tar::Archive::new(bytes);
    let mut members = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let header = entry.header();
        let start = usize::try_from(entry.raw_file_position()).map_err(std::io::Error::other)?;
        let size = usize::try_from(entry.size()).map_err(std::io::Error::other)?;
        let data = start
            .checked_add(size)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| std::io::Error::other("an entry's data runs past the end"))?;
        let lossy =
            |field: Option<&[u8]>| String::from_utf8_lossy(field.unwrap_or_default()).into_owned();
        let format = if header.as_gnu().is_some() {
            "gnu"
        } else if header.as_ustar().is_some() {
            "ustar"
        } else {
            "v7"
        };
        // A field that does not parse is shown as `?` rather than making the archive unreadable.
        let number = |value: std::io::Result<u64>, radix_8: bool| match value {
            Ok(v) if radix_8 => format!("{v:o}"),
            Ok(v) => v.to_string(),
            Err(_) => "?".to_string(),
        };
        let mtime = header.mtime().ok();
        members.push(Member {
            name: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            fields: vec![
                ("type", format!("{:?}", header.entry_type())),
                ("mode", number(header.mode().map(u64::from), true)),
                ("uid", number(header.uid(), false)),
                ("gid", number(header.gid(), false)),
                ("uname", lossy(header.username_bytes())),
                ("gname", lossy(header.groupname_bytes())),
                ("mtime", number(header.mtime(), false)),
                ("size", size.to_string()),
                ("link target", lossy(entry.link_name_bytes().as_deref())),
                ("tar format", format.to_string()),
            ],
            mtime,
            data,
        });
    }
    Ok(members)
}

/// Compares two gzip files: header fields, then the decompressed tar stream entry by entry, or
/// other decompressed content as one member.
pub(super) fn compare_gzip(
    name: &str,
    a: &[u8],
    b: &[u8],
    cx: &Context<'_>,
) -> Result<Builder, Unreadable> {
    let header_a = GzipHeader::parse(a).map_err(|e| Unreadable::new(0, "gzip file", e))?;
    let header_b = GzipHeader::parse(b).map_err(|e| Unreadable::new(1, "gzip file", e))?;
    let inner_a = gunzip(a).map_err(|e| Unreadable::new(0, "gzip file", e))?;
    let inner_b = gunzip(b).map_err(|e| Unreadable::new(1, "gzip file", e))?;
    let holds_tar = is_tar(&inner_a) && is_tar(&inner_b);
    let mut builder = Builder::new(if holds_tar {
        Format::TarGz
    } else {
        Format::Gzip
    });
    for ((field, value_a), (_, value_b)) in header_a.fields().iter().zip(&header_b.fields()) {
        if value_a != value_b {
            builder.header_fields.push(format!("gzip {field}"));
        }
    }
    if header_a.mtime != header_b.mtime {
        builder.evidence.push(StringDifference {
            kind: DifferenceKind::Timestamp,
            runs: [header_a.mtime, header_b.mtime].map(|t| vec![t.to_string()]),
            meaning: "gzip header mtime, seconds since the epoch".to_string(),
        });
    }
    if inner_a == inner_b {
        if builder.header_fields.is_empty() {
            builder.header_fields.push(
                "gzip compressed data (same content, another compressor or level)".to_string(),
            );
        }
    } else if holds_tar {
        if let Err(Unreadable(problem)) = add_tar(&inner_a, &inner_b, cx, &mut builder) {
            builder
                .notes
                .push(format!("{problem}: decompressed data compared as bytes"));
            binary::explain(&inner_a, &inner_b, cx, &mut builder.evidence);
        }
    } else {
        let inner_name = name.strip_suffix(".gz").unwrap_or("decompressed data");
        builder.members.push(MemberComparison {
            name: inner_name.to_string(),
            difference: MemberDifference::Differs(
                cx.nested().compare(inner_name, &inner_a, &inner_b),
            ),
        });
    }
    Ok(builder)
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(std::io::Error::other(format!(
            "decompresses to more than {} GiB",
            MAX_DECOMPRESSED >> 30
        )));
    }
    Ok(out)
}

/// The fixed header of a gzip member (RFC 1952), with its optional fields.
struct GzipHeader {
    flags: u8,
    mtime: u32,
    extra_flags: u8,
    os: u8,
    extra: Vec<u8>,
    file_name: Vec<u8>,
    comment: Vec<u8>,
}

impl GzipHeader {
    fn parse(bytes: &[u8]) -> Result<GzipHeader, String> {
        let fixed = bytes
            .get(..10)
            .ok_or_else(|| "shorter than a gzip header".to_string())?;
        let mut header = GzipHeader {
            flags: fixed[3],
            mtime: u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            extra_flags: fixed[8],
            os: fixed[9],
            extra: Vec::new(),
            file_name: Vec::new(),
            comment: Vec::new(),
        };
        let truncated = || "truncated gzip header".to_string();
        let mut at = 10;
        if header.flags & FEXTRA != 0 {
            let length = bytes.get(at..at + 2).ok_or_else(truncated)?;
            let length = usize::from(u16::from_le_bytes([length[0], length[1]]));
            header.extra = bytes
                .get(at + 2..at + 2 + length)
                .ok_or_else(truncated)?
                .to_vec();
            at += 2 + length;
        }
        for (flag, field) in [
            (FNAME, &mut header.file_name),
            (FCOMMENT, &mut header.comment),
        ] {
            if header.flags & flag != 0 {
                let rest = bytes.get(at..).ok_or_else(truncated)?;
                let end = rest.iter().position(|b| *b == 0).ok_or_else(truncated)?;
                *field = rest[..end].to_vec();
                at += end + 1;
            }
        }
        Ok(header)
    }

    /// The fields compared, by name.
    fn fields(&self) -> [(&'static str, Vec<u8>); 7] {
        [
            ("flags", vec![self.flags]),
            ("mtime", self.mtime.to_le_bytes().to_vec()),
            ("XFL (compression level)", vec![self.extra_flags]),
            ("OS", vec![self.os]),
            ("extra field", self.extra.clone()),
            ("file name", self.file_name.clone()),
            ("comment", self.comment.clone()),
        ]
    }
}
