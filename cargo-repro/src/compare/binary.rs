//! Byte-level comparison: the regions where two buffers differ, and the strings in those regions.
//!
//! Binary integers are not read as timestamps: in code, debug info and hashes, values that differ
//! in a byte or two and fall between 2000 and 2100 as seconds are too common to mean a time.

use std::ops::Range;

use super::strings::{self, Evidence};
use super::{Builder, Context, Format};

/// Buffers are scanned in blocks this large: equal blocks are skipped with one slice comparison.
const BLOCK: usize = 256;
/// Differences closer than this are one region.
const MERGE_GAP: usize = 64;

/// Where two buffers differ: the same range in both when their lengths are equal, else the part
/// between their common prefix and common suffix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Region {
    pub(super) a: Range<usize>,
    pub(super) b: Range<usize>,
}

/// Compares two buffers as bytes (the fallback for every format).
pub(super) fn compare(a: &[u8], b: &[u8], cx: &Context<'_>) -> Builder {
    let mut builder = Builder::new(Format::Binary);
    if a.len() != b.len() {
        builder.header_fields.push("size".to_string());
    }
    explain(a, b, cx, &mut builder.evidence);
    builder
}

/// Adds the strings of the regions where `a` and `b` differ to `evidence`, explained.
pub(super) fn explain(a: &[u8], b: &[u8], cx: &Context<'_>, evidence: &mut Evidence) {
    let mut strings = [Vec::new(), Vec::new()];
    differing_strings(a, b, &mut strings);
    strings::explain(&strings[0], &strings[1], cx.scrubber, evidence);
}

/// Appends the strings of the regions where `a` and `b` differ to `strings` (run 1's, run 2's),
/// in order, each region grown to whole strings.
pub(super) fn differing_strings<'d>(a: &'d [u8], b: &'d [u8], strings: &mut [Vec<&'d str>; 2]) {
    for region in widened_to_strings(a, b, differing_regions(a, b)) {
        strings::extract(&a[region.a], &mut strings[0]);
        strings::extract(&b[region.b], &mut strings[1]);
    }
}

/// The regions where `a` and `b` differ, in order.
pub(super) fn differing_regions(a: &[u8], b: &[u8]) -> Vec<Region> {
    if a.len() != b.len() {
        let (prefix, suffix) = common_ends(a, b);
        return vec![Region {
            a: prefix..a.len() - suffix,
            b: prefix..b.len() - suffix,
        }];
    }
    let mut regions: Vec<Range<usize>> = Vec::new();
    for (index, (block_a, block_b)) in a.chunks(BLOCK).zip(b.chunks(BLOCK)).enumerate() {
        if block_a == block_b {
            continue;
        }
        let differs = |(x, y): (&u8, &u8)| x != y;
        let pairs = || block_a.iter().zip(block_b);
        let (Some(first), Some(last)) = (pairs().position(differs), pairs().rposition(differs))
        else {
            continue;
        };
        let range = index * BLOCK + first..index * BLOCK + last + 1;
        match regions.last_mut() {
            Some(previous) if range.start - previous.end <= MERGE_GAP => previous.end = range.end,
            _ => regions.push(range),
        }
    }
    regions
        .into_iter()
        .map(|range| Region {
            a: range.clone(),
            b: range,
        })
        .collect()
}

/// The regions grown to whole strings on both sides (so a string that differs in one byte is
/// read whole), merged where they then overlap.
fn widened_to_strings(a: &[u8], b: &[u8], regions: Vec<Region>) -> Vec<Region> {
    let same_length = a.len() == b.len();
    let mut widened: Vec<Region> = Vec::with_capacity(regions.len());
    for region in regions {
        let mut grown = Region {
            a: widen(a, region.a),
            b: widen(b, region.b),
        };
        if same_length {
            let union = grown.a.start.min(grown.b.start)..grown.a.end.max(grown.b.end);
            grown = Region {
                a: union.clone(),
                b: union,
            };
        }
        match widened.last_mut() {
            Some(previous)
                if grown.a.start <= previous.a.end && grown.b.start <= previous.b.end =>
            {
                previous.a.end = previous.a.end.max(grown.a.end);
                previous.b.end = previous.b.end.max(grown.b.end);
            }
            _ => widened.push(grown),
        }
    }
    widened
}

fn widen(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    let start = bytes[..range.start]
        .iter()
        .rposition(|b| !strings::is_string_byte(*b))
        .map_or(0, |i| i + 1);
    let end = bytes[range.end..]
        .iter()
        .position(|b| !strings::is_string_byte(*b))
        .map_or(bytes.len(), |i| range.end + i);
    start..end
}

/// How many items `a` and `b` share at their start, and then at their end (not overlapping):
/// blocks first (one `memcmp` each for bytes), then item by item.
pub(super) fn common_ends<T: PartialEq>(a: &[T], b: &[T]) -> (usize, usize) {
    let equal_blocks = a
        .chunks_exact(BLOCK)
        .zip(b.chunks_exact(BLOCK))
        .take_while(|(x, y)| x == y)
        .count();
    let skipped = equal_blocks * BLOCK;
    let prefix = skipped
        + a[skipped..]
            .iter()
            .zip(&b[skipped..])
            .take_while(|(x, y)| x == y)
            .count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let equal_blocks = a
        .rchunks_exact(BLOCK)
        .zip(b.rchunks_exact(BLOCK))
        .take_while(|(x, y)| x == y)
        .count();
    let skipped = equal_blocks * BLOCK;
    let suffix = skipped
        + a[..a.len() - skipped]
            .iter()
            .rev()
            .zip(b[..b.len() - skipped].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
    (prefix, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::paths::Scrubber;
    use crate::compare::test_support::runs_under;
    use crate::compare::{DifferenceKind, StringDifference};

    fn explained(a: &[u8], b: &[u8]) -> Vec<StringDifference> {
        let scrubber = Scrubber::new(&runs_under("/nonexistent/bin"));
        let cx = Context {
            scrubber: &scrubber,
            depth: 0,
        };
        compare(a, b, &cx).finish().strings
    }

    #[test]
    fn regions_of_equal_length_buffers_are_where_bytes_differ() {
        let a = vec![0u8; 4096];
        let mut b = a.clone();
        b[10] = 1;
        b[20] = 1;
        b[3000] = 1;
        let regions = differing_regions(&a, &b);
        let ranges: Vec<_> = regions.iter().map(|r| r.a.clone()).collect();
        assert_eq!(ranges, [10..21, 3000..3001]);
    }

    #[test]
    fn regions_of_different_lengths_lie_between_common_prefix_and_suffix() {
        let a = b"prefix-/run1/main.rs-suffix";
        let b = b"prefix-/run22/main.rs-suffix";
        let regions = differing_regions(a, b);
        assert_eq!(
            regions,
            [Region {
                a: 11..12,
                b: 11..13
            }]
        );
    }

    #[test]
    fn common_ends_do_not_overlap() {
        assert_eq!(common_ends(b"abcabc", b"abc"), (3, 0));
        assert_eq!(common_ends(b"xaay", b"xay"), (2, 1));
        let long_a = [vec![7u8; 1000], vec![1], vec![9u8; 1000]].concat();
        let long_b = [vec![7u8; 1000], vec![2, 2], vec![9u8; 1000]].concat();
        assert_eq!(common_ends(&long_a, &long_b), (1000, 1000));
    }

    #[test]
    fn a_string_differing_in_one_byte_is_read_whole() {
        let a = b"\0\0version: 2026-11-21T21:47:42Z\0\0";
        let b = b"\0\0version: 2026-11-21T21:47:51Z\0\0";
        let found = explained(a, b);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, DifferenceKind::Timestamp);
        assert_eq!(
            found[0].runs,
            [vec!["2026-11-21T21:47:42Z"], vec!["2026-11-21T21:47:51Z"]]
        );
    }

    #[test]
    fn a_leaked_path_in_buffers_of_different_lengths() {
        let a = b"\x01\x02/nonexistent/bin/run1/src/lib.rs\0tail".to_vec();
        let b = b"\x01\x02/nonexistent/bin/run2-longer/src/lib.rs\0tail".to_vec();
        let mut runs = runs_under("/nonexistent/bin");
        runs[1].root = "/nonexistent/bin/run2-longer".into();
        let scrubber = Scrubber::new(&runs);
        let cx = Context {
            scrubber: &scrubber,
            depth: 0,
        };
        let found = compare(&a, &b, &cx).finish();
        assert_eq!(found.header_fields, ["size"]);
        assert_eq!(found.strings.len(), 1);
        assert_eq!(found.strings[0].kind, DifferenceKind::BuildPath);
        assert_eq!(found.strings[0].runs[0], ["$WORKSPACE/src/lib.rs"]);
    }
}
