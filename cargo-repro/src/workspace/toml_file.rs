//! TOML files read with spans (manifests, configs, lockfiles) and helpers to point into them.

use std::ops::Range;
use std::path::Path;

use toml_edit::{Document, Item, Table, TableLike};

use super::source_file::SourceFile;
use crate::diag::Location;

/// A parsed TOML file that keeps the spans of every key and value.
#[derive(Debug)]
pub struct TomlFile {
    pub file: SourceFile,
    pub doc: Document<String>,
}

impl TomlFile {
    /// Reads and parses a TOML file; the error names the file, line and column.
    pub fn read(abs_path: &Path, display_path: String) -> anyhow::Result<TomlFile> {
        let file = SourceFile::read(abs_path, display_path)?;
        TomlFile::parse(file)
    }

    /// Parses text already read.
    pub fn parse(file: SourceFile) -> anyhow::Result<TomlFile> {
        match Document::parse(file.text.clone()) {
            Ok(doc) => Ok(TomlFile { file, doc }),
            Err(error) => {
                let (line, column) = match error.span() {
                    Some(span) => {
                        let loc = file.location(span);
                        (loc.line.unwrap_or(1), loc.column.unwrap_or(1))
                    }
                    None => (1, 1),
                };
                let reason = error
                    .message()
                    .lines()
                    .next()
                    .unwrap_or("parse error")
                    .trim();
                anyhow::bail!(
                    "{}:{line}:{column}: invalid TOML: {reason}; fix the syntax",
                    file.display_path
                )
            }
        }
    }

    /// For a `.cargo/config.toml`: the directory holding `.cargo`, which relative paths in the
    /// config (`paths`, `directory`, `local-registry`) are resolved against.
    pub fn cargo_config_base(&self) -> &Path {
        self.file
            .abs_path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
    }

    /// The top-level table.
    pub fn root(&self) -> &Table {
        self.doc.as_table()
    }

    /// The item at a dotted path of keys, if present.
    pub fn get(&self, path: &[&str]) -> Option<&Item> {
        let mut item = self.doc.as_item();
        for key in path {
            item = item.get(key)?;
        }
        Some(item)
    }

    /// A location for an item's value (falls back to the key, then the file).
    pub fn item_location(&self, item: &Item) -> Location {
        match item_span(item) {
            Some(span) => self.file.location(span),
            None => Location::file(self.file.display_path.clone()),
        }
    }

    /// A location for the key `key` of `table` (the `name` in `name = …`).
    pub fn key_location(&self, table: &dyn TableLike, key: &str) -> Location {
        match table.key(key).and_then(|k| k.span()) {
            Some(span) => self.file.location(span),
            None => match table.get(key) {
                Some(item) => self.item_location(item),
                None => Location::file(self.file.display_path.clone()),
            },
        }
    }

    /// A location for a table's header (`[profile.release]`), or the whole file.
    pub fn table_location(&self, table: &Table) -> Location {
        match table.span() {
            Some(span) => {
                let line = self.file.line_of(span.start);
                self.file.line_location(line)
            }
            None => Location::file(self.file.display_path.clone()),
        }
    }

    /// A location for the line `key = value` of a table entry, highlighting `key = value`.
    pub fn entry_location(&self, table: &dyn TableLike, key: &str) -> Location {
        let key_span = table.key(key).and_then(|k| k.span());
        let value_span = table.get(key).and_then(item_span);
        match (key_span, value_span) {
            (Some(k), Some(v)) if self.file.line_of(k.start) == self.file.line_of(v.start) => {
                self.file.location(k.start..v.end)
            }
            (Some(k), _) => self.file.location(k),
            (None, Some(v)) => self.file.location(v),
            (None, None) => Location::file(self.file.display_path.clone()),
        }
    }
}

/// The span of an item's value, whatever its kind.
pub fn item_span(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Value(value) => value.span(),
        Item::Table(table) => table.span(),
        Item::ArrayOfTables(array) => array.span(),
        Item::None => None,
    }
}

/// The string value of an item, or of a table's `key`.
pub fn str_of<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
    item.get(key)?.as_str()
}

/// `[dependencies]`, `[build-dependencies]`, `[dev-dependencies]` and their `[target.*]` forms.
pub fn dependency_tables(root: &toml_edit::Table) -> Vec<(String, &dyn toml_edit::TableLike)> {
    let kinds = [
        "dependencies",
        "build-dependencies",
        "dev-dependencies",
        "build_dependencies",
        "dev_dependencies",
    ];
    let mut tables = Vec::new();
    for kind in kinds {
        if let Some(table) = root.get(kind).and_then(|t| t.as_table_like()) {
            tables.push((kind.to_string(), table));
        }
    }
    if let Some(targets) = root.get("target").and_then(|t| t.as_table_like()) {
        for (target, item) in targets.iter() {
            for kind in kinds {
                if let Some(table) = item.get(kind).and_then(|t| t.as_table_like()) {
                    tables.push((format!("target.{target}.{kind}"), table));
                }
            }
        }
    }
    tables
}
