//! Text files (generated `.rs` in a build script's `OUT_DIR`, its `output`, dep-info `.d`
//! files): the lines that differ, classified like strings.

use super::{Builder, Context, Format, binary, strings};

/// Extensions of files that are text.
const TEXT_EXTENSIONS: [&str; 20] = [
    "rs", "txt", "toml", "json", "md", "d", "c", "h", "cc", "cpp", "hpp", "in", "yml", "yaml",
    "sh", "html", "js", "css", "xml", "csv",
];
/// Names of files that are text whatever their content (build-script files in `target/`,
/// checksum lists).
const TEXT_NAMES: [&str; 5] = ["output", "stderr", "root-output", "SHA256SUMS", "control"];

/// Whether a file is text: no NUL byte near its start, and a text name or valid UTF-8 content.
pub(super) fn is_text(name: &str, bytes: &[u8]) -> bool {
    let start = &bytes[..bytes.len().min(8192)];
    if start.contains(&0) {
        return false;
    }
    let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let by_name = TEXT_NAMES.contains(&file_name)
        || file_name
            .rsplit_once('.')
            .is_some_and(|(_, extension)| TEXT_EXTENSIONS.contains(&extension));
    by_name || std::str::from_utf8(bytes).is_ok()
}

/// Compares two texts line by line: the common first and last lines are skipped, and the
/// non-blank lines in between, trimmed, are explained as strings (so lines in another order are
/// an ordering).
pub(super) fn compare(name: &str, a: &[u8], b: &[u8], cx: &Context<'_>) -> Builder {
    let mut builder = Builder::new(Format::Text);
    let text_a = String::from_utf8_lossy(a);
    let text_b = String::from_utf8_lossy(b);
    let lines_a: Vec<&str> = text_a.lines().collect();
    let lines_b: Vec<&str> = text_b.lines().collect();
    if lines_a == lines_b {
        builder
            .header_fields
            .push("line endings or final newline".to_string());
        return builder;
    }
    let (prefix, suffix) = binary::common_ends(&lines_a, &lines_b);
    let middle_a = middle(&lines_a, prefix, suffix);
    let middle_b = middle(&lines_b, prefix, suffix);
    if middle_a == middle_b {
        builder.header_fields.push("whitespace".to_string());
    }
    if is_checksum_list(name) && only_digests_differ(&middle_a, &middle_b) {
        // The sums of files that differ: a consequence, explained where those files are.
        builder
            .header_fields
            .push("checksums of the files that differ".to_string());
        return builder;
    }
    strings::explain(&middle_a, &middle_b, cx.scrubber, &mut builder.evidence);
    builder
}

/// `SHA256SUMS`, a `.deb`'s `md5sums`, a `.sha256` sidecar.
fn is_checksum_list(name: &str) -> bool {
    let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    matches!(file_name, "SHA256SUMS" | "md5sums") || file_name.ends_with(".sha256")
}

/// Every line pair is `DIGEST  PATH` with the same path and hex digests only.
fn only_digests_differ(a: &[&str], b: &[&str]) -> bool {
    let split = |line: &str| {
        line.split_once(char::is_whitespace)
            .filter(|(digest, _)| {
                !digest.is_empty() && digest.chars().all(|c| c.is_ascii_hexdigit())
            })
            .map(|(_, path)| path.trim().to_string())
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let (x, y) = (split(x), split(y));
            x.is_some() && x == y
        })
}

/// The lines between the `prefix` and `suffix` lines both texts share, trimmed, without blank
/// ones.
fn middle<'t>(lines: &[&'t str], prefix: usize, suffix: usize) -> Vec<&'t str> {
    lines[prefix..lines.len() - suffix]
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect()
}
