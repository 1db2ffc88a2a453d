//! A text file read once, with byte spans turned into lines and columns for findings.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diag::Location;

/// A UTF-8 text file of the audited workspace (or of a dependency).
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path shown to users: relative to the workspace root, or `$CARGO_HOME/…`.
    pub display_path: String,
    /// Where the file is on disk.
    pub abs_path: PathBuf,
    /// The whole text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps text already read from `abs_path`.
    pub fn new(display_path: String, abs_path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            display_path,
            abs_path,
            text,
            line_starts,
        }
    }

    /// Reads a regular file (bounded: see `guard::read`), with a one-line error naming it when
    /// it is absent, special, too large, unreadable or not UTF-8.
    pub fn read(abs_path: &Path, display_path: String) -> anyhow::Result<SourceFile> {
        let bytes = crate::guard::read::read_bytes(abs_path, crate::guard::read::LIMIT)
            .map_err(|e| anyhow::anyhow!("cannot read {display_path}: it {}", e.reason()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, _) = line_col_of_bytes(e.as_bytes(), e.utf8_error().valid_up_to());
            anyhow::anyhow!("{display_path}:{line}: file is not valid UTF-8; re-save it as UTF-8")
        })?;
        Ok(SourceFile::new(display_path, abs_path.to_path_buf(), text))
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line - 1]
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// A location for a byte span (clamped to the first line it touches).
    pub fn location(&self, span: Range<usize>) -> Location {
        let start = span.start.min(self.text.len());
        let line = self.line_of(start);
        let line_start = self.line_starts[line - 1];
        let line_text = self.line_text(line);
        let column = self.text[line_start..start].chars().count() + 1;
        let end = span.end.min(line_start + line_text.len()).max(start);
        let width = self.text[start..end].chars().count().max(1);
        Location {
            path: self.display_path.clone(),
            line: Some(line),
            column: Some(column),
            width,
            source_line: Some(line_text.to_string()),
        }
    }

    /// A location covering the trimmed text of a whole 1-based line.
    pub fn line_location(&self, line: usize) -> Location {
        let text = self.line_text(line);
        let indent = text.len() - text.trim_start().len();
        let start = self.line_start(line) + indent;
        self.location(start..start + text.trim().len())
    }

    /// A location for the first occurrence of `needle` on a 1-based line, or the whole line.
    pub fn find_on_line(&self, line: usize, needle: &str) -> Location {
        match self.line_text(line).find(needle) {
            Some(at) => {
                let start = self.line_start(line) + at;
                self.location(start..start + needle.len())
            }
            None => self.line_location(line),
        }
    }
}

/// The 1-based line and column of a byte offset in raw bytes.
pub fn line_col_of_bytes(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// A short reason for an I/O error, without the OS error number.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_lowercase(),
                None => text.to_lowercase(),
            }
        }
    }
}
