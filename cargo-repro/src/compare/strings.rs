//! Printable strings from the differing regions of two runs: their extraction, the multiset
//! difference between the runs, and the classification of what differs (a leaked path, a
//! timestamp, an ordering, or something else), kept as capped, deduplicated evidence.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash as _, Hasher as _};

use super::binary::common_ends;
use super::paths::{self, Scrubbed, Scrubber};
use super::time::{self, TimeMatch};
use super::{DifferenceKind, StringDifference};

/// The shortest run of printable characters taken as a string from binary data: longer than
/// `strings(1)`'s 4, because shorter runs in binary data (hashes, offsets) are mostly noise.
const MIN_STRING_LEN: usize = 6;
/// The shortest word a string must hold (see [`has_word`]).
const MIN_WORD_LEN: usize = 4;
/// The most pieces of evidence kept per kind of difference.
const MAX_PER_KIND: usize = 6;
/// The longest excerpt kept of a string that is not a path or a time.
const EXCERPT_CHARS: usize = 100;
/// How much of a string is shown before its first difference.
const EXCERPT_CONTEXT: usize = 30;
/// The shortest string whose characters in another order are taken as reordered pieces.
const MIN_REORDERED_CHARS: usize = 8;
/// How far ahead a string is looked for when the runs' strings stop matching.
const RESYNC_WINDOW: usize = 32;
/// The most strings per run that are explained once the runs' strings are aligned; beyond
/// that, the rest is only counted (a bound on time for sections that differ throughout).
const MAX_UNALIGNED: usize = 100_000;
/// How many strings of each run show an ordering.
const ORDERING_WINDOW: usize = 4;

/// Whether a byte can be part of a string: printable ASCII, tab, or part of a UTF-8 sequence.
pub(super) fn is_string_byte(byte: u8) -> bool {
    matches!(byte, b'\t' | 0x20..=0x7e | 0x80..=0xff)
}

/// Appends the strings of `bytes` (runs of at least [`MIN_STRING_LEN`] printable characters,
/// valid UTF-8, holding a word) to `out`, in order.
pub(super) fn extract<'a>(bytes: &'a [u8], out: &mut Vec<&'a str>) {
    for run in bytes.split(|b| !is_string_byte(*b)) {
        if run.len() < MIN_STRING_LEN {
            continue;
        }
        for chunk in run.utf8_chunks() {
            let valid = chunk.valid();
            if valid.chars().count() >= MIN_STRING_LEN && has_word(valid) {
                out.push(valid);
            }
        }
    }
}

/// Whether `text` holds a word as text has them and random bytes rarely do: [`MIN_WORD_LEN`]
/// lowercase letters (`alpha`), or a capital and lowercase letters (`Value` in `getValue`), or
/// capitals (`CARGO`), or digits (`2026`) in a row. Mixed runs like `xIc5` or `wXS1ae` are how
/// printable bytes of hashes look.
fn has_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    let run = |from: usize, class: fn(&u8) -> bool| {
        bytes
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|b| class(b)).count())
    };
    (0..bytes.len()).any(|i| {
        run(i, u8::is_ascii_lowercase) >= MIN_WORD_LEN
            || (bytes[i].is_ascii_uppercase()
                && run(i + 1, u8::is_ascii_lowercase) >= MIN_WORD_LEN - 1)
            || run(i, u8::is_ascii_uppercase) >= MIN_WORD_LEN
            || run(i, u8::is_ascii_digit) >= MIN_WORD_LEN
    })
}

/// The evidence of one comparison: at most [`MAX_PER_KIND`] distinct differences per kind, in
/// the order found; the others are only counted.
#[derive(Default)]
pub(super) struct Evidence {
    kept: Vec<StringDifference>,
    /// Hashes of the distinct differences not kept (SipHash with fixed keys: deterministic).
    left_out: HashSet<u64>,
    /// Differing strings not examined at all, past [`MAX_UNALIGNED`].
    pub(super) not_examined: usize,
}

impl Evidence {
    pub(super) fn push(&mut self, difference: StringDifference) {
        if self.kept.contains(&difference) {
            return;
        }
        let same_kind = self
            .kept
            .iter()
            .filter(|d| d.kind == difference.kind)
            .count();
        if same_kind < MAX_PER_KIND {
            self.kept.push(difference);
        } else {
            let mut hasher = std::hash::DefaultHasher::new();
            difference.hash(&mut hasher);
            self.left_out.insert(hasher.finish());
        }
    }

    /// The kept differences sorted (by kind, then evidence), and how many were left out.
    pub(super) fn finish(mut self) -> (Vec<StringDifference>, usize) {
        self.kept.sort();
        (self.kept, self.left_out.len())
    }
}

/// Explains how the strings of run 1 (`a`) and run 2 (`b`), each in order, differ.
///
/// Strings at the same place in both runs cancel out. A string out of place in both runs has
/// moved: an ordering, shown from where the runs' strings first differ near the first move. What
/// remains of each run is scrubbed of the runs' paths, then paired: equal once scrubbed (a leaked
/// path), equal but for their times (a timestamp), the same words or characters in another order
/// (an ordering), and the rest in order of appearance (other).
pub(super) fn explain<'a>(
    a: &[&'a str],
    b: &[&'a str],
    scrubber: &Scrubber,
    evidence: &mut Evidence,
) {
    let mut unaligned = unaligned(a, b);
    for strings in &mut unaligned {
        if strings.len() > MAX_UNALIGNED {
            evidence.not_examined += strings.len() - MAX_UNALIGNED;
            strings.truncate(MAX_UNALIGNED);
        }
    }
    let [(only_a, moved_a), (only_b, moved_b)] = split_common(&unaligned);
    if let (Some(moved_a), Some(moved_b)) = (moved_a, moved_b) {
        let start = moved_a.min(moved_b);
        if let Some(ordering) = ordering(&a[start..], &b[start..], scrubber) {
            evidence.push(ordering);
        }
    }
    let leftovers = |only: Vec<&'a str>, run: usize| -> Vec<Option<Leftover<'a>>> {
        only.into_iter()
            .map(|text| Some(Leftover::new(text, run, scrubber)))
            .collect()
    };
    let mut side_a = leftovers(only_a, 0);
    let mut side_b = leftovers(only_b, 1);
    for difference in pair_by(&mut side_a, &mut side_b, Leftover::path_key, |a, _| {
        path_differences(a)
    }) {
        evidence.push(difference);
    }
    for difference in pair_by(&mut side_a, &mut side_b, Leftover::time_template, |a, b| {
        vec![timestamp_difference(a, b)]
    }) {
        evidence.push(difference);
    }
    for (key, meaning) in [
        (
            Leftover::sorted_words as fn(&Leftover<'a>) -> Option<String>,
            "the same words in another order",
        ),
        (
            Leftover::sorted_chars,
            "the same characters in another order (pieces reordered)",
        ),
    ] {
        for difference in pair_by(&mut side_a, &mut side_b, key, |a, b| {
            vec![StringDifference {
                kind: DifferenceKind::Ordering,
                runs: excerpt_pair(a.scrubbed(), b.scrubbed()).map(|e| vec![e]),
                meaning: meaning.to_string(),
            }]
        }) {
            evidence.push(difference);
        }
    }
    let rest_a: Vec<Leftover> = side_a.into_iter().flatten().collect();
    let rest_b: Vec<Leftover> = side_b.into_iter().flatten().collect();
    let longest = rest_a.len().max(rest_b.len());
    for i in 0..longest {
        evidence.push(unpaired_difference(rest_a.get(i), rest_b.get(i)));
    }
}

/// The strings of each run that are not at the same place in the other, in order.
///
/// The sequences are walked side by side: equal strings are in place; at a mismatch, a string
/// found again a little further on in the other run means strings were inserted there,
/// otherwise one string replaced another. This is linear (a window of [`RESYNC_WINDOW`] per
/// mismatch), cache-friendly, and leaves little for the multiset work that follows.
fn unaligned<'a>(a: &[&'a str], b: &[&'a str]) -> [Vec<Placed<'a>>; 2] {
    let mut only = [Vec::new(), Vec::new()];
    let placed = |strings: &[&'a str], from: usize, to: usize| -> Vec<Placed<'a>> {
        (from..to).map(|index| (index, strings[index])).collect()
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        let found_in = |strings: &[&str], from: usize, wanted: &str| {
            let end = strings.len().min(from + RESYNC_WINDOW);
            strings[from..end].iter().position(|s| *s == wanted)
        };
        if let Some(skip) = found_in(b, j + 1, a[i]) {
            only[1].extend(placed(b, j, j + 1 + skip));
            j += 1 + skip;
        } else if let Some(skip) = found_in(a, i + 1, b[j]) {
            only[0].extend(placed(a, i, i + 1 + skip));
            i += 1 + skip;
        } else {
            only[0].push((i, a[i]));
            only[1].push((j, b[j]));
            i += 1;
            j += 1;
        }
    }
    only[0].extend(placed(a, i, a.len()));
    only[1].extend(placed(b, j, b.len()));
    only
}

/// A string and its index in its run's sequence.
type Placed<'a> = (usize, &'a str);

/// For each run, of its strings out of place: those the other run does not have (as multisets,
/// in order), and the index of the first one the other run has too (a string that moved).
///
/// This is the hot loop when many strings are out of place (a section that differs
/// throughout), hence one map for both runs and a fast hash.
fn split_common<'a>([a, b]: &[Vec<Placed<'a>>; 2]) -> [(Vec<&'a str>, Option<usize>); 2] {
    /// Per string: how often each run has it, and how many of each run's were taken as shared.
    #[derive(Default)]
    struct Counts {
        total: [usize; 2],
        shared: [usize; 2],
    }
    let mut counts: HashMap<&str, Counts, BuildHasherDefault<FxHasher>> =
        HashMap::with_capacity_and_hasher(a.len().max(b.len()), BuildHasherDefault::default());
    for (run, strings) in [a, b].into_iter().enumerate() {
        for (_, text) in strings {
            counts.entry(text).or_default().total[run] += 1;
        }
    }
    [(0, a), (1, b)].map(|(run, strings)| {
        let mut only = Vec::new();
        let mut first_moved = None;
        for &(index, text) in strings {
            let Some(count) = counts.get_mut(text) else {
                continue;
            };
            if count.shared[run] < count.total[1 - run] {
                count.shared[run] += 1;
                first_moved.get_or_insert(index);
            } else {
                only.push(text);
            }
        }
        (only, first_moved)
    })
}

/// The Fx hash (as in rustc) with a final mix: a multiply and a rotate per word, much faster than
/// SipHash on short strings, and deterministic. Not resistant to crafted collisions, which would
/// only cost time.
#[derive(Default)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buffer = [0; 8];
            buffer.copy_from_slice(word);
            self.add(u64::from_le_bytes(buffer));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut buffer = [0; 8];
            buffer[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buffer));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    /// Mixed with MurmurHash3's finaliser, so the high bits hashbrown groups by vary too.
    fn finish(&self) -> u64 {
        let mut hash = self.hash;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }
}

/// An ordering difference when the same strings come in another order: a few strings of each
/// run from the first place they differ.
pub(super) fn ordering(a: &[&str], b: &[&str], scrubber: &Scrubber) -> Option<StringDifference> {
    let first = a.iter().zip(b).position(|(x, y)| x != y)?;
    let window = |run: usize, strings: &[&str]| {
        strings[first..]
            .iter()
            .take(ORDERING_WINDOW)
            .map(|s| excerpt(&scrubber.scrub(run, s).text, 0))
            .collect()
    };
    Some(StringDifference {
        kind: DifferenceKind::Ordering,
        runs: [window(0, a), window(1, b)],
        meaning: "the same strings in another order".to_string(),
    })
}

/// A string found in one run only, scrubbed of the runs' paths, and its times.
struct Leftover<'a> {
    scrubbed: Scrubbed<'a>,
    times: Vec<TimeMatch>,
}

impl<'a> Leftover<'a> {
    fn new(raw: &'a str, run: usize, scrubber: &Scrubber) -> Leftover<'a> {
        let scrubbed = scrubber.scrub(run, raw);
        let times = time::find_times(&scrubbed.text);
        Leftover { scrubbed, times }
    }

    fn scrubbed(&self) -> &str {
        &self.scrubbed.text
    }

    fn paths(&self) -> Vec<(DifferenceKind, &str)> {
        self.scrubbed.paths()
    }

    /// The scrubbed string, if it held a path: equal for strings that differ only by paths.
    fn path_key(&self) -> Option<String> {
        (!self.scrubbed.placeholders.is_empty()).then(|| self.scrubbed().to_string())
    }

    /// The string with its times hidden, if it has any.
    fn time_template(&self) -> Option<String> {
        (!self.times.is_empty()).then(|| time::template(self.scrubbed(), &self.times))
    }

    /// The string's words sorted, if it has several: equal for the same words in any order.
    fn sorted_words(&self) -> Option<String> {
        let mut words: Vec<&str> = self
            .scrubbed()
            .split(|c: char| !(c.is_alphanumeric() || "_.$~/-".contains(c)))
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() < 2 {
            return None;
        }
        words.sort_unstable();
        Some(words.join("\u{0}"))
    }

    /// The string's characters sorted, if it is long enough for that to mean something: equal
    /// for concatenated pieces (string literals laid out one after the other) in another order.
    fn sorted_chars(&self) -> Option<String> {
        let mut chars: Vec<char> = self.scrubbed().chars().collect();
        if chars.len() < MIN_REORDERED_CHARS {
            return None;
        }
        chars.sort_unstable();
        Some(chars.into_iter().collect())
    }

    /// The times in the string, as text.
    fn time_values(&self) -> Vec<String> {
        let text = self.scrubbed();
        self.times
            .iter()
            .map(|t| text[t.range.clone()].to_string())
            .collect()
    }
}

/// Pairs strings of run 1 and run 2 with the same `key` (the first unpaired one of run 2 for
/// each string of run 1, in order), removes each pair from its side, and returns what
/// `explain_pair` makes of the pairs.
fn pair_by<'a>(
    side_a: &mut [Option<Leftover<'a>>],
    side_b: &mut [Option<Leftover<'a>>],
    key: impl Fn(&Leftover<'a>) -> Option<String>,
    explain_pair: impl Fn(&Leftover<'a>, &Leftover<'a>) -> Vec<StringDifference>,
) -> Vec<StringDifference> {
    let mut waiting: HashMap<String, VecDeque<usize>> = HashMap::new();
    for (index, leftover) in side_b.iter().enumerate() {
        if let Some(key) = leftover.as_ref().and_then(&key) {
            waiting.entry(key).or_default().push_back(index);
        }
    }
    let mut found = Vec::new();
    for slot_a in side_a.iter_mut() {
        let Some(key) = slot_a.as_ref().and_then(&key) else {
            continue;
        };
        let Some(index) = waiting.get_mut(&key).and_then(VecDeque::pop_front) else {
            continue;
        };
        if let (Some(a), Some(b)) = (slot_a.take(), side_b[index].take()) {
            found.extend(explain_pair(&a, &b));
        }
    }
    found
}

/// Each path in a string that differs between the runs only by their paths.
fn path_differences(leftover: &Leftover<'_>) -> Vec<StringDifference> {
    leftover
        .paths()
        .into_iter()
        .map(|(kind, path)| StringDifference {
            kind,
            runs: [vec![path.to_string()], vec![path.to_string()]],
            meaning: paths::meaning(kind).to_string(),
        })
        .collect()
}

/// Two strings equal but for their times: the times that differ, and what they are.
fn timestamp_difference(a: &Leftover<'_>, b: &Leftover<'_>) -> StringDifference {
    let (values_a, values_b) = (a.time_values(), b.time_values());
    let mut runs = [Vec::new(), Vec::new()];
    let mut forms = Vec::new();
    for (index, (value_a, value_b)) in values_a.into_iter().zip(values_b).enumerate() {
        if value_a != value_b {
            runs[0].push(value_a);
            runs[1].push(value_b);
            forms.extend([a.times[index].form, b.times[index].form]);
        }
    }
    StringDifference {
        kind: DifferenceKind::Timestamp,
        runs,
        meaning: time_meaning(forms),
    }
}

/// What the times are: each form's meaning once, in order, joined by "and".
fn time_meaning(forms: impl IntoIterator<Item = time::TimeForm>) -> String {
    let mut meanings: Vec<&str> = Vec::new();
    for form in forms {
        if !meanings.contains(&form.meaning()) {
            meanings.push(form.meaning());
        }
    }
    meanings.join(" and ")
}

/// A string of one run without a partner in the other, or a pair left over in order of
/// appearance: a timestamp if either holds a time, a path if either holds one, else other.
fn unpaired_difference(a: Option<&Leftover<'_>>, b: Option<&Leftover<'_>>) -> StringDifference {
    let sides = [a, b];
    if sides.iter().flatten().any(|l| !l.times.is_empty()) {
        let forms = sides
            .iter()
            .flatten()
            .flat_map(|l| l.times.iter().map(|t| t.form));
        return StringDifference {
            kind: DifferenceKind::Timestamp,
            meaning: time_meaning(forms),
            runs: sides.map(|l| l.map(Leftover::time_values).unwrap_or_default()),
        };
    }
    let first_path_kind = sides.iter().flatten().find_map(|l| l.scrubbed.first_kind());
    if let Some(kind) = first_path_kind {
        return StringDifference {
            kind,
            runs: sides.map(|l| {
                l.map(|l| l.paths().into_iter().map(|(_, p)| p.to_string()).collect())
                    .unwrap_or_default()
            }),
            meaning: paths::meaning(kind).to_string(),
        };
    }
    other_difference(a, b)
}

fn other_difference(a: Option<&Leftover<'_>>, b: Option<&Leftover<'_>>) -> StringDifference {
    let runs = match (a, b) {
        (Some(a), Some(b)) => excerpt_pair(a.scrubbed(), b.scrubbed()).map(|e| vec![e]),
        (a, b) => [a, b].map(|l| {
            l.map(|l| vec![excerpt(l.scrubbed(), 0)])
                .unwrap_or_default()
        }),
    };
    let meaning = match (a, b) {
        (Some(_), Some(_)) => "differs between the runs",
        (Some(_), None) => "only in run 1",
        (None, _) => "only in run 2",
    };
    StringDifference {
        kind: DifferenceKind::Other,
        runs,
        meaning: meaning.to_string(),
    }
}

/// Excerpts of two strings around the part where they differ: from a little before their
/// common prefix ends to a little after their common suffix starts, cut to [`EXCERPT_CHARS`].
fn excerpt_pair(a: &str, b: &str) -> [String; 2] {
    let chars = [a, b].map(|s| s.chars().collect::<Vec<char>>());
    let (prefix, suffix) = common_ends(&chars[0], &chars[1]);
    let start = prefix.saturating_sub(EXCERPT_CONTEXT);
    chars.map(|c| {
        let end = (c.len() - suffix + EXCERPT_CONTEXT)
            .min(c.len())
            .min(start + EXCERPT_CHARS);
        cut(&c, start, end)
    })
}

/// At most [`EXCERPT_CHARS`] characters of `text` from character `start`, with `…` where cut.
fn excerpt(text: &str, start: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let end = chars.len().min(start + EXCERPT_CHARS);
    cut(&chars, start, end)
}

/// The characters `start..end`, with `…` on each side where something was cut.
fn cut(chars: &[char], start: usize, end: usize) -> String {
    let start = start.min(end);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// The scrubbed text of a string, for callers outside this module that keep names as evidence.
pub(super) fn scrubbed<'a>(scrubber: &Scrubber, run: usize, text: &'a str) -> Cow<'a, str> {
    scrubber.scrub(run, text).text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::test_support::runs_under;

    fn explained(a: &[&str], b: &[&str]) -> Vec<StringDifference> {
        let scrubber = Scrubber::new(&runs_under("/nonexistent/cmp"));
        let mut evidence = Evidence::default();
        explain(a, b, &scrubber, &mut evidence);
        evidence.finish().0
    }

    fn difference(kind: DifferenceKind, a: &[&str], b: &[&str], meaning: &str) -> StringDifference {
        StringDifference {
            kind,
            runs: [a, b].map(|side| side.iter().map(|s| s.to_string()).collect()),
            meaning: meaning.to_string(),
        }
    }

    #[test]
    fn extraction_keeps_printable_runs_of_six_or_more_with_a_word() {
        let mut out = Vec::new();
        extract(
            b"\0abcd\0abcdef\x01tab\there\xff\xfehigher\0r\xc3\xa9sum\xc3\xa9s\0;eAa<E\0~wXS1ae\0",
            &mut out,
        );
        assert_eq!(out, ["abcdef", "tab\there", "higher"]);
        for worded in ["getValue", "CARGO_HOME", "t=2026.", "1795306062"] {
            assert!(has_word(worded), "{worded}");
        }
    }

    #[test]
    fn the_root_of_each_run_is_a_build_path() {
        let found = explained(
            &["panicked at /nonexistent/cmp/run1/app/src/main.rs:3:5"],
            &["panicked at /nonexistent/cmp/run2/app/src/main.rs:3:5"],
        );
        assert_eq!(
            found,
            [difference(
                DifferenceKind::BuildPath,
                &["$WORKSPACE/app/src/main.rs"],
                &["$WORKSPACE/app/src/main.rs"],
                "the checkout path of each run"
            )]
        );
    }

    #[test]
    fn the_target_dir_is_checked_before_the_root_it_is_in() {
        let found = explained(
            &["/nonexistent/cmp/run1/target/release/build/app-1/out/gen.rs"],
            &["/nonexistent/cmp/run2/target/release/build/app-1/out/gen.rs"],
        );
        assert_eq!(found[0].kind, DifferenceKind::TargetDir);
        assert_eq!(found[0].runs[0], ["$TARGET/release/build/app-1/out/gen.rs"]);
    }

    #[test]
    fn cargo_home_and_home_directory() {
        let found = explained(
            &[
                "/nonexistent/cmp/home1/.cargo/registry/src/x/lib.rs",
                "HOME=/nonexistent/cmp/home1",
            ],
            &[
                "/nonexistent/cmp/home2/.cargo/registry/src/x/lib.rs",
                "HOME=/nonexistent/cmp/home2",
            ],
        );
        let kinds: Vec<_> = found
            .iter()
            .map(|d| (d.kind, d.runs[0][0].as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    DifferenceKind::CargoHome,
                    "$CARGO_HOME/registry/src/x/lib.rs"
                ),
                (DifferenceKind::HomeDirectory, "~"),
            ]
        );
    }

    #[test]
    fn epoch_seconds_that_differ_are_a_timestamp() {
        let found = explained(&["BUILT=1795306062;"], &["BUILT=1795306071;"]);
        assert_eq!(
            found,
            [difference(
                DifferenceKind::Timestamp,
                &["1795306062"],
                &["1795306071"],
                "seconds since the epoch"
            )]
        );
    }

    #[test]
    fn each_epoch_unit_is_named() {
        for (a, b, meaning) in [
            (
                "t 1795306062123",
                "t 1795306062999",
                "milliseconds since the epoch",
            ),
            (
                "t 1795306062123456",
                "t 1795306062999999",
                "microseconds since the epoch",
            ),
            (
                "t 1795306062123456789",
                "t 1795306062999999999",
                "nanoseconds since the epoch",
            ),
        ] {
            let found = explained(&[a], &[b]);
            assert_eq!(found[0].kind, DifferenceKind::Timestamp, "{a}");
            assert_eq!(found[0].meaning, meaning);
        }
    }

    #[test]
    fn date_texts_are_timestamps_with_their_values() {
        let found = explained(
            &["built 2026-11-21T21:47:42Z", "on Sat Nov 21 21:47:42 2026"],
            &["built 2026-11-21T21:47:51Z", "on Sat Nov 21 21:47:51 2026"],
        );
        assert_eq!(
            found,
            [
                difference(
                    DifferenceKind::Timestamp,
                    &["2026-11-21T21:47:42Z"],
                    &["2026-11-21T21:47:51Z"],
                    "a date and time"
                ),
                difference(
                    DifferenceKind::Timestamp,
                    &["Sat Nov 21 21:47:42 2026"],
                    &["Sat Nov 21 21:47:51 2026"],
                    "a date and time (ctime)"
                ),
            ]
        );
        let spaced = explained(&["at 2026-11-21 21:47:42"], &["at 2026-11-21 21:47:51"]);
        assert_eq!(spaced[0].runs[1], ["2026-11-21 21:47:51"]);
    }

    #[test]
    fn integers_outside_the_plausible_range_are_other() {
        let found = explained(&["id=123456789"], &["id=123456780"]);
        assert_eq!(found[0].kind, DifferenceKind::Other);
        assert_eq!(found[0].runs, [vec!["id=123456789"], vec!["id=123456780"]]);
    }

    #[test]
    fn the_same_strings_in_another_order_are_an_ordering() {
        let found = explained(
            &["common", "alpha-entry", "beta-entry", "gamma-entry"],
            &["common", "gamma-entry", "alpha-entry", "beta-entry"],
        );
        assert_eq!(
            found,
            [difference(
                DifferenceKind::Ordering,
                &["alpha-entry", "beta-entry", "gamma-entry"],
                &["gamma-entry", "alpha-entry", "beta-entry"],
                "the same strings in another order"
            )]
        );
    }

    #[test]
    fn a_string_moved_among_others_is_an_ordering_even_with_an_insertion() {
        let found = explained(
            &[
                "head", "k1-entry", "k2-entry", "k3-entry", "k4-entry", "tail",
            ],
            &[
                "head",
                "k3-entry",
                "k1-entry",
                "new-entry",
                "k4-entry",
                "k2-entry",
                "tail",
            ],
        );
        assert_eq!(
            found,
            [
                difference(
                    DifferenceKind::Ordering,
                    &["k1-entry", "k2-entry", "k3-entry", "k4-entry"],
                    &["k3-entry", "k1-entry", "new-entry", "k4-entry"],
                    "the same strings in another order"
                ),
                difference(DifferenceKind::Other, &[], &["new-entry"], "only in run 2"),
            ]
        );
    }

    #[test]
    fn the_same_words_in_another_order_in_one_string_are_an_ordering() {
        let found = explained(
            &["TABLE: alpha, beta, gamma"],
            &["TABLE: gamma, alpha, beta"],
        );
        assert_eq!(found[0].kind, DifferenceKind::Ordering);
        assert_eq!(found[0].meaning, "the same words in another order");
    }

    #[test]
    fn anything_else_is_other_with_an_excerpt_around_the_difference() {
        let long_a = format!("{}XYZ{}", "a".repeat(200), "b".repeat(200));
        let long_b = format!("{}QRS{}", "a".repeat(200), "b".repeat(200));
        let found = explained(&[&long_a, "only-here"], &[&long_b]);
        assert_eq!(found.len(), 2);
        let pair = found
            .iter()
            .find(|d| d.meaning == "differs between the runs");
        let excerpt_a = &pair.expect("the long pair").runs[0][0];
        assert_eq!(
            *excerpt_a,
            format!("…{}XYZ{}…", "a".repeat(30), "b".repeat(30))
        );
        let alone = found.iter().find(|d| d.meaning == "only in run 1");
        assert_eq!(
            alone.expect("the lone string").runs,
            [vec!["only-here".to_string()], vec![]]
        );
    }

    #[test]
    fn evidence_is_deduplicated_and_capped_per_kind() {
        let a: Vec<String> = (0..20).map(|i| format!("value-a-{i:02}")).collect();
        let b: Vec<String> = (0..20).map(|i| format!("value-b-{i:02}")).collect();
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let scrubber = Scrubber::new(&runs_under("/nonexistent/cmp"));
        let mut evidence = Evidence::default();
        explain(&a, &b, &scrubber, &mut evidence);
        explain(&a, &b, &scrubber, &mut evidence);
        let (kept, left_out) = evidence.finish();
        assert_eq!(kept.len(), MAX_PER_KIND);
        assert_eq!(left_out, 20 - MAX_PER_KIND);
    }

    #[test]
    fn equal_multisets_in_the_same_order_give_nothing() {
        assert_eq!(explained(&["same", "strings"], &["same", "strings"]), []);
    }
}
