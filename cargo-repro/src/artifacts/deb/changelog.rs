//! `usr/share/doc/PACKAGE/changelog.Debian.gz`: the package's own changelog when it names one
//! (`changelog` in `[package.metadata.deb]`), else one entry for this version, dated
//! `SOURCE_DATE_EPOCH`.

use crate::artifacts::attestation::civil_from_days;

/// One changelog entry for `version` of `package`, by `maintainer`, dated `epoch`.
pub fn generated(package: &str, version: &str, maintainer: &str, epoch: u64) -> String {
    format!(
        "{package} ({version}) unstable; urgency=medium\n\n  * Release {version}, packaged by cargo-repro.\n\n -- {maintainer}  {}\n",
        rfc2822(epoch)
    )
}

/// The date as Debian changelogs write it: `Tue, 14 Nov 2023 22:13:20 +0000`.
pub fn rfc2822(epoch: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch / 86_400;
    let seconds = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_rfc2822_in_utc() {
        assert_eq!(super::rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            super::rfc2822(1_700_000_000),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
    }
}
