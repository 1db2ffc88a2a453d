//! `ar` archives: rlibs (`.o` members and `lib.rmeta`) and Debian packages (`debian-binary`,
//! `control.tar.*`, `data.tar.*`), compared member by member.

use object::read::archive::{ArchiveFile, ArchiveKind};

use super::members::{self, Member, MemberWords};
use super::{Builder, Context, Format, Unreadable};

const WORDS: MemberWords = MemberWords {
    order_field: "member order",
    member: "ar member",
};

/// One `ar` archive: its flavour, its symbol table (names only) and its members.
struct Archive<'data> {
    kind: ArchiveKind,
    symbols: Vec<&'data [u8]>,
    members: Vec<Member<'data>>,
}

/// Compares two `ar` archives: flavour, symbol table, member order, then each member.
pub(super) fn compare(a: &[u8], b: &[u8], cx: &Context<'_>) -> Result<Builder, Unreadable> {
    let archive_a = read(a).map_err(|e| Unreadable::new(0, "ar archive", e))?;
    let archive_b = read(b).map_err(|e| Unreadable::new(1, "ar archive", e))?;
    let is_deb = archive_a
        .members
        .first()
        .is_some_and(|m| m.name == "debian-binary");
    let mut builder = Builder::new(if is_deb { Format::Deb } else { Format::Ar });
    if archive_a.kind != archive_b.kind {
        builder
            .header_fields
            .push("ar flavour (GNU, BSD, …)".to_string());
    }
    if archive_a.symbols != archive_b.symbols {
        builder
            .header_fields
            .push("archive symbol table".to_string());
    }
    members::compare(
        &archive_a.members,
        &archive_b.members,
        &WORDS,
        cx,
        &mut builder,
    );
    if builder.members.is_empty() && builder.header_fields.is_empty() {
        builder
            .header_fields
            .push("archive layout (special members or padding)".to_string());
    }
    Ok(builder)
}

fn read(data: &[u8]) -> object::read::Result<Archive<'_>> {
    let archive = ArchiveFile::parse(data)?;
    let mut symbols = Vec::new();
    if let Some(iterator) = archive.symbols()? {
        for symbol in iterator {
            symbols.push(symbol?.name());
        }
    }
    let mut members = Vec::new();
    for member in archive.members() {
        let member = member?;
        let number = |value: Option<u64>| value.map_or_else(|| "?".to_string(), |v| v.to_string());
        members.push(Member {
            name: String::from_utf8_lossy(member.name()).into_owned(),
            fields: vec![
                ("mtime", number(member.date())),
                ("uid", number(member.uid())),
                ("gid", number(member.gid())),
                (
                    "mode",
                    member
                        .mode()
                        .map_or_else(|| "?".to_string(), |m| format!("{m:o}")),
                ),
            ],
            mtime: member.date(),
            data: member.data(data)?,
        });
    }
    Ok(Archive {
        kind: archive.kind(),
        symbols,
        members,
    })
}
