//! Recognises timestamps: integers that read as seconds, milliseconds, microseconds or
//! nanoseconds since the Unix epoch fall between 2000 and 2100, and date/time texts
//! (`2026-11-21T21:47:42Z`, `2026-11-21 21:47:42`, `Sat Nov 21 21:47:42 2026`, RFC 2822).

use std::ops::Range;

/// 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z, in seconds since the epoch.
const PLAUSIBLE_SECONDS: Range<u128> = 946_684_800..4_102_444_800;

/// How a timestamp is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TimeForm {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
    /// `2026-11-21T21:47:42Z`, `2026-11-21 21:47:42`.
    DateTime,
    /// `Sat Nov 21 21:47:42 2026`, as `ctime` and `date` print it.
    Ctime,
    /// `Sat, 21 Nov 2026 21:47:42 +0000`.
    Rfc2822,
    /// `2026-11-21`.
    Date,
    /// `21:47:42`.
    TimeOfDay,
}

impl TimeForm {
    /// What the value is, for the evidence.
    pub(super) fn meaning(self) -> &'static str {
        match self {
            TimeForm::Seconds => "seconds since the epoch",
            TimeForm::Milliseconds => "milliseconds since the epoch",
            TimeForm::Microseconds => "microseconds since the epoch",
            TimeForm::Nanoseconds => "nanoseconds since the epoch",
            TimeForm::DateTime => "a date and time",
            TimeForm::Ctime => "a date and time (ctime)",
            TimeForm::Rfc2822 => "a date and time (RFC 2822)",
            TimeForm::Date => "a date",
            TimeForm::TimeOfDay => "a time of day",
        }
    }

    /// How many of this unit make a second (1 for texts).
    fn per_second(self) -> u128 {
        match self {
            TimeForm::Milliseconds => 1_000,
            TimeForm::Microseconds => 1_000_000,
            TimeForm::Nanoseconds => 1_000_000_000,
            _ => 1,
        }
    }
}

/// The epoch unit in which `value` is a time between 2000 and 2100, if any (the ranges of the
/// four units do not overlap).
pub(super) fn epoch_unit(value: u128) -> Option<TimeForm> {
    [
        TimeForm::Seconds,
        TimeForm::Milliseconds,
        TimeForm::Microseconds,
        TimeForm::Nanoseconds,
    ]
    .into_iter()
    .find(|unit| {
        let scale = unit.per_second();
        (PLAUSIBLE_SECONDS.start * scale..PLAUSIBLE_SECONDS.end * scale).contains(&value)
    })
}

/// One timestamp found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TimeMatch {
    pub(super) range: Range<usize>,
    pub(super) form: TimeForm,
}

/// Every timestamp in `text`, left to right, not overlapping.
pub(super) fn find_times(text: &str) -> Vec<TimeMatch> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts_token = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let matched = starts_token
            .then(|| {
                rfc2822(bytes, at)
                    .or_else(|| ctime(bytes, at))
                    .or_else(|| iso(bytes, at))
                    .or_else(|| time_of_day(bytes, at).map(|end| (end, TimeForm::TimeOfDay)))
                    .or_else(|| epoch_digits(bytes, at))
            })
            .flatten()
            .filter(|(end, _)| bytes.get(*end).is_none_or(|b| !b.is_ascii_alphanumeric()));
        match matched {
            Some((end, form)) => {
                found.push(TimeMatch {
                    range: at..end,
                    form,
                });
                at = end;
            }
            None => at += 1,
        }
    }
    found
}

/// `text` with every timestamp replaced by one marker, and the timestamps: two strings with the
/// same template differ only in their times.
pub(super) fn template(text: &str, times: &[TimeMatch]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for time in times {
        out.push_str(&text[copied..time.range.start]);
        out.push('\u{0}');
        copied = time.range.end;
    }
    out.push_str(&text[copied..]);
    out
}

const WEEKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `n` ASCII digits at `at`, as a number.
fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let field = bytes.get(at..at + n)?;
    field.iter().try_fold(0u32, |value, b| {
        b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0'))
    })
}

fn byte_is(bytes: &[u8], at: usize, expected: u8) -> bool {
    bytes.get(at) == Some(&expected)
}

fn word_in(bytes: &[u8], at: usize, words: &[&[u8]]) -> bool {
    bytes
        .get(at..at + 3)
        .is_some_and(|field| words.contains(&field))
}

fn plausible_year(year: u32) -> bool {
    (2000..2100).contains(&year)
}

/// `hh:mm:ss` at `at`; returns its end.
fn time_of_day(bytes: &[u8], at: usize) -> Option<usize> {
    let end = hours_minutes(bytes, at)?;
    let seconds = byte_is(bytes, end, b':')
        .then(|| digits(bytes, end + 1, 2))
        .flatten()?;
    (seconds <= 60).then_some(end + 3)
}

/// `hh:mm` at `at`; returns its end.
fn hours_minutes(bytes: &[u8], at: usize) -> Option<usize> {
    let hours = digits(bytes, at, 2)?;
    let minutes = byte_is(bytes, at + 2, b':')
        .then(|| digits(bytes, at + 3, 2))
        .flatten()?;
    (hours < 24 && minutes < 60).then_some(at + 5)
}

/// `yyyy-mm-dd`, optionally followed by `T` or a space and `hh:mm[:ss[.fff]]`, and a zone
/// (`Z`, `+hh:mm`, `-hhmm`).
fn iso(bytes: &[u8], at: usize) -> Option<(usize, TimeForm)> {
    let year = digits(bytes, at, 4)?;
    let month = byte_is(bytes, at + 4, b'-')
        .then(|| digits(bytes, at + 5, 2))
        .flatten()?;
    let day = byte_is(bytes, at + 7, b'-')
        .then(|| digits(bytes, at + 8, 2))
        .flatten()?;
    if !plausible_year(year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let date_end = at + 10;
    let time_end = matches!(bytes.get(date_end), Some(b'T' | b' '))
        .then(|| time_of_day(bytes, date_end + 1).or_else(|| hours_minutes(bytes, date_end + 1)))
        .flatten();
    let Some(mut end) = time_end else {
        return Some((date_end, TimeForm::Date));
    };
    if byte_is(bytes, end, b'.') {
        let fraction = bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if fraction > 0 {
            end += 1 + fraction;
        }
    }
    if byte_is(bytes, end, b'Z') {
        end += 1;
    } else if matches!(bytes.get(end), Some(b'+' | b'-')) {
        if let Some(zone_end) = hours_minutes(bytes, end + 1) {
            end = zone_end;
        } else if digits(bytes, end + 1, 4).is_some() {
            end += 5;
        }
    }
    Some((end, TimeForm::DateTime))
}

/// `Www Mmm dd hh:mm:ss [ZONE ]yyyy` (the day may be space-padded).
fn ctime(bytes: &[u8], at: usize) -> Option<(usize, TimeForm)> {
    if !word_in(bytes, at, &WEEKDAYS) || !byte_is(bytes, at + 3, b' ') {
        return None;
    }
    if !word_in(bytes, at + 4, &MONTHS) || !byte_is(bytes, at + 7, b' ') {
        return None;
    }
    let mut cursor = at + 8;
    if byte_is(bytes, cursor, b' ') {
        cursor += 1;
    }
    let day_len = bytes[cursor..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) || !byte_is(bytes, cursor + day_len, b' ') {
        return None;
    }
    cursor = time_of_day(bytes, cursor + day_len + 1)?;
    if !byte_is(bytes, cursor, b' ') {
        return None;
    }
    cursor += 1;
    let zone_len = bytes[cursor..]
        .iter()
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    if (2..=5).contains(&zone_len) && byte_is(bytes, cursor + zone_len, b' ') {
        cursor += zone_len + 1;
    }
    let year = digits(bytes, cursor, 4)?;
    plausible_year(year).then_some((cursor + 4, TimeForm::Ctime))
}

/// `Www, dd Mmm yyyy hh:mm[:ss][ +zzzz]`.
fn rfc2822(bytes: &[u8], at: usize) -> Option<(usize, TimeForm)> {
    if !word_in(bytes, at, &WEEKDAYS) || bytes.get(at + 3..at + 5) != Some(b", ") {
        return None;
    }
    let mut cursor = at + 5;
    let day_len = bytes[cursor..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) || !byte_is(bytes, cursor + day_len, b' ') {
        return None;
    }
    cursor += day_len + 1;
    if !word_in(bytes, cursor, &MONTHS) || !byte_is(bytes, cursor + 3, b' ') {
        return None;
    }
    let year = digits(bytes, cursor + 4, 4)?;
    if !plausible_year(year) || !byte_is(bytes, cursor + 8, b' ') {
        return None;
    }
    cursor = time_of_day(bytes, cursor + 9).or_else(|| hours_minutes(bytes, cursor + 9))?;
    if byte_is(bytes, cursor, b' ')
        && matches!(bytes.get(cursor + 1), Some(b'+' | b'-'))
        && digits(bytes, cursor + 2, 4).is_some()
    {
        cursor += 6;
    }
    Some((cursor, TimeForm::Rfc2822))
}

/// A run of 9 to 19 digits that reads as a plausible epoch time in some unit.
fn epoch_digits(bytes: &[u8], at: usize) -> Option<(usize, TimeForm)> {
    let len = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(9..=19).contains(&len) {
        return None;
    }
    let value: u128 = std::str::from_utf8(&bytes[at..at + len])
        .ok()?
        .parse()
        .ok()?;
    epoch_unit(value).map(|unit| (at + len, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> Vec<(&str, TimeForm)> {
        find_times(text)
            .into_iter()
            .map(|m| (&text[m.range], m.form))
            .collect()
    }

    #[test]
    fn epoch_integers_in_each_unit() {
        assert_eq!(
            forms("s=1795306062 ms=1795306062123 us=1795306062123456 ns=1795306062123456789"),
            [
                ("1795306062", TimeForm::Seconds),
                ("1795306062123", TimeForm::Milliseconds),
                ("1795306062123456", TimeForm::Microseconds),
                ("1795306062123456789", TimeForm::Nanoseconds),
            ]
        );
    }

    #[test]
    fn integers_outside_2000_to_2100_or_inside_words_are_not_times() {
        for text in [
            "123456789",
            "4102444800",
            "946684799",
            "abc1795306062",
            "1795306062abc",
            "12345",
        ] {
            assert_eq!(forms(text), [], "{text}");
        }
        assert_eq!(forms("946684800"), [("946684800", TimeForm::Seconds)]);
    }

    #[test]
    fn date_and_time_texts() {
        assert_eq!(
            forms("built 2026-11-21T21:47:42Z, 2026-11-21 21:47:42.123+01:00 and 2026-11-21"),
            [
                ("2026-11-21T21:47:42Z", TimeForm::DateTime),
                ("2026-11-21 21:47:42.123+01:00", TimeForm::DateTime),
                ("2026-11-21", TimeForm::Date),
            ]
        );
        assert_eq!(
            forms("Sat Nov 21 21:47:42 2026 / Sat Nov  1 21:47:42 UTC 2026"),
            [
                ("Sat Nov 21 21:47:42 2026", TimeForm::Ctime),
                ("Sat Nov  1 21:47:42 UTC 2026", TimeForm::Ctime),
            ]
        );
        assert_eq!(
            forms("Date: Sat, 21 Nov 2026 21:47:42 +0000"),
            [("Sat, 21 Nov 2026 21:47:42 +0000", TimeForm::Rfc2822)]
        );
        assert_eq!(forms("at 21:47:42."), [("21:47:42", TimeForm::TimeOfDay)]);
    }

    #[test]
    fn version_numbers_and_impossible_dates_are_not_times() {
        for text in [
            "1.2.3",
            "1999-12-31",
            "2026-13-01",
            "25:00:00",
            "v2026-11-21x",
        ] {
            assert_eq!(forms(text), [], "{text}");
        }
    }

    #[test]
    fn the_template_hides_only_the_times() {
        let text = "built at 2026-11-21T21:47:42Z by ci";
        assert_eq!(template(text, &find_times(text)), "built at \u{0} by ci");
    }
}
