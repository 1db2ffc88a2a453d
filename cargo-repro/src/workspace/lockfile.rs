//! `Cargo.lock`: its packages with their line numbers, read without cargo.

use super::toml_file::TomlFile;
use crate::diag::Location;

/// One `[[package]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    /// `registry+…`, `git+…#sha`, `sparse+…`, or `None` for path and workspace packages.
    pub source: Option<String>,
    pub checksum: Option<String>,
    /// Dependencies as written: `name`, `name version` or `name version (source)`.
    pub dependencies: Vec<String>,
    /// 1-based line of `name = …`.
    pub line: usize,
}

/// The parsed lockfile.
#[derive(Debug)]
pub struct Lockfile {
    pub toml: TomlFile,
    pub packages: Vec<LockedPackage>,
}

impl Lockfile {
    /// Extracts the packages from a parsed `Cargo.lock`.
    pub fn from_toml(toml: TomlFile) -> anyhow::Result<Lockfile> {
        let mut packages = Vec::new();
        if let Some(array) = toml
            .root()
            .get("package")
            .and_then(|p| p.as_array_of_tables())
        {
            for table in array.iter() {
                let field = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_string);
                let (Some(name), Some(version)) = (field("name"), field("version")) else {
                    let loc = toml.table_location(table);
                    anyhow::bail!(
                        "{}:{}: a [[package]] entry has no name or version; regenerate it with `cargo generate-lockfile`",
                        toml.file.display_path,
                        loc.line.unwrap_or(1)
                    );
                };
                let line = toml.key_location(table, "name").line.unwrap_or(1);
                let dependencies = table
                    .get("dependencies")
                    .and_then(|d| d.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                packages.push(LockedPackage {
                    name,
                    version,
                    source: field("source"),
                    checksum: field("checksum"),
                    dependencies,
                    line,
                });
            }
        }
        Ok(Lockfile { toml, packages })
    }

    /// The location of a package's `name = …` line.
    pub fn package_location(&self, package: &LockedPackage) -> Location {
        let needle = format!("\"{}\"", package.name);
        let mut location = self.toml.file.find_on_line(package.line, &needle);
        if location.width > 2 {
            // Highlight the name without its quotes.
            location.column = location.column.map(|c| c + 1);
            location.width -= 2;
        }
        location
    }

    /// Finds the entry for `name` at `version`.
    pub fn find(&self, name: &str, version: &str) -> Option<&LockedPackage> {
        self.packages
            .iter()
            .find(|p| p.name == name && p.version == version)
    }
}
