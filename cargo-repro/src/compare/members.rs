//! Archive members (`ar` members, tar entries) matched by name between two runs: their order,
//! their header fields and their contents, compared recursively.

use std::collections::BTreeMap;

use super::strings;
use super::{
    Builder, Context, DifferenceKind, FileComparison, MemberComparison, MemberDifference,
    StringDifference, sniff,
};

/// The most differing members described; the others are counted in a note.
const MAX_MEMBERS_LISTED: usize = 64;

/// One member of an archive, as the comparison sees it.
pub(super) struct Member<'data> {
    pub(super) name: String,
    /// The header fields compared, in a fixed order: `("mode", "644")`, `("uid", "0")`, …
    pub(super) fields: Vec<(&'static str, String)>,
    /// The modification time in seconds since the epoch, if the header has one.
    pub(super) mtime: Option<u64>,
    pub(super) data: &'data [u8],
}

/// What the members of an archive are called, for the header fields and evidence.
pub(super) struct MemberWords {
    /// The header field when the common members come in another order: `member order`.
    pub(super) order_field: &'static str,
    /// The members' name in a timestamp's meaning: `ar member`, `tar entry`.
    pub(super) member: &'static str,
}

/// Adds the members that differ (in run 1's order, then those only in run 2) and the order of
/// the common ones to `builder`.
pub(super) fn compare(
    a: &[Member<'_>],
    b: &[Member<'_>],
    words: &MemberWords,
    cx: &Context<'_>,
    builder: &mut Builder,
) {
    let keys_a = occurrence_keys(a.iter().map(|m| m.name.as_str()));
    let keys_b = occurrence_keys(b.iter().map(|m| m.name.as_str()));
    let index_b: BTreeMap<(&str, usize), usize> =
        keys_b.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let index_a: BTreeMap<(&str, usize), usize> =
        keys_a.iter().enumerate().map(|(i, k)| (*k, i)).collect();

    let common_a: Vec<&str> = keys_a
        .iter()
        .filter(|k| index_b.contains_key(*k))
        .map(|(name, _)| *name)
        .collect();
    let common_b: Vec<&str> = keys_b
        .iter()
        .filter(|k| index_a.contains_key(*k))
        .map(|(name, _)| *name)
        .collect();
    if let Some(ordering) = strings::ordering(&common_a, &common_b, cx.scrubber) {
        builder.header_fields.push(words.order_field.to_string());
        builder.evidence.push(ordering);
    }

    let mut unlisted = 0;
    for (key, member_a) in keys_a.iter().zip(a) {
        let full = builder.members.len() >= MAX_MEMBERS_LISTED;
        let difference = match index_b.get(key) {
            None => Some(MemberDifference::OnlyInRun(1)),
            Some(&i) if full => {
                // Counted, not described: no need to look inside.
                unlisted += usize::from(differs(member_a, &b[i]));
                continue;
            }
            Some(&i) => {
                member_difference(member_a, &b[i], words, cx).map(MemberDifference::Differs)
            }
        };
        if let Some(difference) = difference {
            list(builder, &mut unlisted, cx, (0, &member_a.name), difference);
        }
    }
    for (key, member_b) in keys_b.iter().zip(b) {
        if !index_a.contains_key(key) {
            let difference = MemberDifference::OnlyInRun(2);
            list(builder, &mut unlisted, cx, (1, &member_b.name), difference);
        }
    }
    if unlisted > 0 {
        builder
            .notes
            .push(format!("{unlisted} more differing members not listed"));
    }
}

/// Lists a differing member (its name, from run 0 or 1, scrubbed) or, past the limit, counts it.
fn list(
    builder: &mut Builder,
    unlisted: &mut usize,
    cx: &Context<'_>,
    (run, name): (usize, &str),
    difference: MemberDifference,
) {
    if builder.members.len() >= MAX_MEMBERS_LISTED {
        *unlisted += 1;
        return;
    }
    builder.members.push(MemberComparison {
        name: strings::scrubbed(cx.scrubber, run, name).into_owned(),
        difference,
    });
}

/// Keys that match things by name and, for names that repeat (`.text` sections in objects,
/// members of `ar` archives), by occurrence: `(name, 0)`, `(name, 1)`, …
pub(super) fn occurrence_keys<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    names
        .map(|name| {
            let occurrence = seen.entry(name).or_default();
            let key = (name, *occurrence);
            *occurrence += 1;
            key
        })
        .collect()
}

fn differs(a: &Member<'_>, b: &Member<'_>) -> bool {
    a.data != b.data || a.fields != b.fields
}

/// How two members with the same name differ: their header fields first, then their contents
/// (compared as files of their own); `None` when they do not.
fn member_difference(
    a: &Member<'_>,
    b: &Member<'_>,
    words: &MemberWords,
    cx: &Context<'_>,
) -> Option<FileComparison> {
    if !differs(a, b) {
        return None;
    }
    let mut comparison = if a.data == b.data {
        Builder::new(sniff(&a.name, a.data)).finish()
    } else {
        cx.nested().compare(&a.name, a.data, b.data)
    };
    let header_fields = a
        .fields
        .iter()
        .zip(&b.fields)
        .filter(|(x, y)| x != y)
        .map(|((field, _), _)| (*field).to_string());
    comparison.header_fields.splice(0..0, header_fields);
    if let (Some(mtime_a), Some(mtime_b)) = (a.mtime, b.mtime)
        && mtime_a != mtime_b
    {
        comparison.strings.push(StringDifference {
            kind: DifferenceKind::Timestamp,
            runs: [vec![mtime_a.to_string()], vec![mtime_b.to_string()]],
            meaning: format!("{} mtime, seconds since the epoch", words.member),
        });
        comparison.strings.sort();
    }
    Some(comparison)
}
