//! Build scripts and proc-macros as the compiler builds them: the crate's module tree followed
//! from its root file, each file parsed, and what `cfg` leaves out stripped.
//!
//! Only files reached through `mod` items that survive `cfg` are read (a `mod tests;` under
//! `#[cfg(test)]` is not), each a regular file of at most 1 MiB inside the package directory
//! (symlinks resolved), at most [`MAX_FILES`] per crate. A file that does not parse is recorded,
//! not guessed at.

pub mod cfg;
pub mod facts;
pub mod flow;
pub mod index;

use std::path::{Path, PathBuf};

use syn::Item;

pub use cfg::CfgContext;
pub use facts::{Fact, Facts, Outcome};

use super::BuildTimeKind;
use super::source_file::SourceFile;

/// Most files read for one crate.
pub const MAX_FILES: usize = 300;
/// Largest file read.
pub const MAX_BYTES: u64 = 1 << 20;

/// One parsed file of a crate, with what `cfg` leaves out removed.
pub struct CodeFile {
    pub file: SourceFile,
    pub ast: syn::File,
}

impl std::fmt::Debug for CodeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeFile")
            .field("path", &self.file.display_path)
            .finish_non_exhaustive()
    }
}

/// A crate's module tree, parsed (syntax trees are not kept: they cannot cross threads).
#[derive(Debug, Default)]
pub struct CrateCode {
    pub files: Vec<SourceFile>,
    /// Files of the tree that could not be read or parsed, with the reason (shown in notes).
    pub unreadable: Vec<(String, String)>,
    /// What the source heuristics found in it.
    pub facts: Facts,
}

/// A crate's module tree parsed before the graph is known: every `mod` followed whatever its
/// `cfg` (only what no build compiles, such as `#[cfg(test)]`, left out), keyed by canonical
/// path. Syntax trees cannot cross threads, so it stays in the thread that parsed it until
/// [`finish_tree`] strips it for a set of features (the graph's, or a guess checked against the
/// graph with [`CfgContext::answers_alike`]) and computes its facts.
pub struct ParsedTree {
    root: PathBuf,
    kind: BuildTimeKind,
    files: std::collections::BTreeMap<PathBuf, CodeFile>,
    unreadable: Vec<(String, String)>,
}

/// Parses a crate's whole module tree (see [`ParsedTree`]).
pub fn parse_tree(
    root_file: &Path,
    package_dir: &Path,
    kind: BuildTimeKind,
    display: &dyn Fn(&Path) -> String,
) -> ParsedTree {
    let everything = CfgContext {
        features: None,
        targets: Vec::new(),
        proc_macro: kind == BuildTimeKind::ProcMacro,
        answers: Default::default(),
    };
    let (files, unreadable) = read_crate(root_file, package_dir, &everything, display);
    let files = files
        .into_iter()
        .filter_map(|file| Some((file.file.abs_path.canonicalize().ok()?, file)))
        .collect();
    ParsedTree {
        root: root_file.to_path_buf(),
        kind,
        files,
        unreadable,
    }
}

/// The features a package turns on by default (`default` and what it enables in the package's
/// own `[features]` table), read from its `Cargo.toml`: the guess a tree is finished with
/// before the graph says which features are on. Empty when the manifest cannot be read.
pub fn default_features(package_dir: &Path) -> std::collections::BTreeSet<String> {
    let mut on = std::collections::BTreeSet::new();
    let manifest = package_dir
        .canonicalize()
        .ok()
        .and_then(|dir| confined_regular_file(&dir.join("Cargo.toml"), &dir))
        .and_then(|path| super::toml_file::TomlFile::read(&path, "Cargo.toml".into()).ok());
    let Some(manifest) = manifest else {
        return on;
    };
    let Some(table) = manifest.get(&["features"]).and_then(|f| f.as_table_like()) else {
        return on;
    };
    let mut queue = vec!["default".to_string()];
    while let Some(feature) = queue.pop() {
        if !on.insert(feature.clone()) {
            continue;
        }
        let Some(enables) = table.get(&feature).and_then(|v| v.as_array()) else {
            continue;
        };
        // `dep:name` and `name/feature` are about other packages: only this package's own
        // features are followed.
        queue.extend(
            enables
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|v| !v.starts_with("dep:") && !v.contains('/'))
                .map(str::to_string),
        );
    }
    on
}

/// Strips a parsed tree for `cfg`, keeps the files its surviving `mod` items reach, and
/// computes the facts.
pub fn finish_tree(mut tree: ParsedTree, cfg: &CfgContext) -> CrateCode {
    let mut files = Vec::new();
    let mut queue = vec![(tree.root.clone(), tree.root.parent().map(Path::to_path_buf))];
    while let Some((path, child_dir)) = queue.pop() {
        let Some(mut file) = path.canonicalize().ok().and_then(|p| tree.files.remove(&p)) else {
            continue;
        };
        cfg.strip(&mut file.ast);
        let dir = child_dir.unwrap_or_else(|| PathBuf::from("."));
        let here = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut children = Vec::new();
        module_files(&file.ast.items, &dir, &here, &mut children);
        queue.extend(children.into_iter().rev());
        files.push(file);
    }
    let facts = facts::compute(&files, tree.kind);
    CrateCode {
        files: files.into_iter().map(|f| f.file).collect(),
        unreadable: tree.unreadable,
        facts,
    }
}

/// Reads a crate's module tree and computes the facts the rules judge.
pub fn read_and_analyse(
    root_file: &Path,
    package_dir: &Path,
    cfg: &CfgContext,
    kind: BuildTimeKind,
    display: &dyn Fn(&Path) -> String,
) -> CrateCode {
    let (files, unreadable) = read_crate(root_file, package_dir, cfg, display);
    let facts = facts::compute(&files, kind);
    CrateCode {
        files: files.into_iter().map(|f| f.file).collect(),
        unreadable,
        facts,
    }
}

/// The build paths a member's library and binaries keep (`env!("CARGO_MANIFEST_DIR")` as a
/// value), from the module trees of its target roots.
pub fn member_embedded_paths(
    roots: &[PathBuf],
    package_dir: &Path,
    cfg: &CfgContext,
    display: &dyn Fn(&Path) -> String,
) -> Vec<Fact> {
    let mut files: Vec<CodeFile> = Vec::new();
    for root in roots {
        let (found, _) = read_crate(root, package_dir, cfg, display);
        for file in found {
            if !files
                .iter()
                .any(|f| f.file.display_path == file.file.display_path)
            {
                files.push(file);
            }
        }
    }
    facts::embedded_paths(&files)
}

/// Where a library's compiled code (its module tree, `cfg` evaluated) invokes `macros`.
pub fn library_macro_calls(
    lib: &Path,
    package_dir: &Path,
    cfg: &CfgContext,
    macros: &[String],
    display: &dyn Fn(&Path) -> String,
) -> Vec<crate::diag::Location> {
    let (files, _) = read_crate(lib, package_dir, cfg, display);
    facts::macro_calls::find(&files, macros)
}

/// Reads the module tree rooted at `root_file`, confined to `package_dir`; `display` turns a
/// path into the one shown to users.
pub fn read_crate(
    root_file: &Path,
    package_dir: &Path,
    cfg: &CfgContext,
    display: &dyn Fn(&Path) -> String,
) -> (Vec<CodeFile>, Vec<(String, String)>) {
    let mut code = Parsed::default();
    let Ok(confine) = package_dir.canonicalize() else {
        return (code.files, code.unreadable);
    };
    // (file, directory its `mod x;` children live in)
    let mut queue = vec![(
        root_file.to_path_buf(),
        root_file.parent().map(Path::to_path_buf),
    )];
    let mut seen = std::collections::BTreeSet::new();
    while let Some((path, child_dir)) = queue.pop() {
        if code.files.len() >= MAX_FILES {
            code.unreadable.push((
                display(&path),
                format!(
                    "{}: the crate has more than {MAX_FILES} files; the rest were not read",
                    display(&path)
                ),
            ));
            break;
        }
        let real = match confine_file(&path, &confine) {
            Ok(real) => real,
            // A `mod` whose file is absent is one no build compiles (cargo would fail).
            Err(None) => continue,
            Err(Some(reason)) => {
                let shown = display(&path);
                code.unreadable
                    .push((shown.clone(), format!("{shown}: {reason}")));
                continue;
            }
        };
        if !seen.insert(real.clone()) {
            continue;
        }
        let shown = display(&path);
        let file = match SourceFile::read(&real, shown.clone()) {
            Ok(file) => file,
            Err(e) => {
                code.unreadable.push((shown, e.to_string()));
                continue;
            }
        };
        let mut ast = match syn::parse_file(&file.text) {
            Ok(ast) => ast,
            Err(e) => {
                let line = e.span().start().line;
                code.unreadable.push((
                    shown.clone(),
                    format!("{shown}:{line}: does not parse: {e}"),
                ));
                continue;
            }
        };
        cfg.strip(&mut ast);
        let dir = child_dir.unwrap_or_else(|| PathBuf::from("."));
        let here = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut children = Vec::new();
        module_files(&ast.items, &dir, &here, &mut children);
        // Popped from the end: push in reverse so files are read in source order.
        queue.extend(children.into_iter().rev());
        code.files.push(CodeFile { file, ast });
    }
    (code.files, code.unreadable)
}

#[derive(Default)]
struct Parsed {
    files: Vec<CodeFile>,
    unreadable: Vec<(String, String)>,
}

/// The files of the `mod x;` items in `items` (and in inline modules), with the directory each
/// one's own children live in. `dir` is where children of this module live; `here` is the
/// directory of the file being read (for `#[path]`).
fn module_files(
    items: &[Item],
    dir: &Path,
    here: &Path,
    out: &mut Vec<(PathBuf, Option<PathBuf>)>,
) {
    for item in items {
        let Item::Mod(module) = item else {
            continue;
        };
        let name = module.ident.to_string();
        let path_attr = module.attrs.iter().find_map(path_attribute);
        match &module.content {
            Some((_, inner)) => {
                let inner_dir = match &path_attr {
                    Some(p) => here.join(p),
                    None => dir.join(&name),
                };
                module_files(inner, &inner_dir, &inner_dir, out);
            }
            None => {
                if let Some(p) = path_attr {
                    let file = here.join(p);
                    let child_dir = file.parent().map(Path::to_path_buf);
                    out.push((file, child_dir));
                    continue;
                }
                let flat = dir.join(format!("{name}.rs"));
                if flat.is_file() {
                    out.push((flat, Some(dir.join(&name))));
                } else {
                    let nested = dir.join(&name).join("mod.rs");
                    out.push((nested, Some(dir.join(&name))));
                }
            }
        }
    }
}

/// The value of `#[path = "…"]`.
fn path_attribute(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("path") {
        return None;
    }
    let syn::Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The canonical path of `path` when it is a regular file of at most [`MAX_BYTES`] inside
/// `confine` (already canonical).
fn confined_regular_file(path: &Path, confine: &Path) -> Option<PathBuf> {
    confine_file(path, confine).ok()
}

/// [`confined_regular_file`], with why not: `None` when nothing is there, else the reason the
/// file is not read.
fn confine_file(path: &Path, confine: &Path) -> Result<PathBuf, Option<String>> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(None);
    }
    let real = path
        .canonicalize()
        .map_err(|e| Some(format!("not read: {}", super::source_file::io_reason(&e))))?;
    if !real.starts_with(confine) {
        return Err(Some(
            "not read: it leads outside the package directory".to_string(),
        ));
    }
    let meta = std::fs::metadata(&real)
        .map_err(|e| Some(format!("not read: {}", super::source_file::io_reason(&e))))?;
    if !meta.is_file() {
        return Err(Some("not read: it is not a regular file".to_string()));
    }
    if meta.len() > MAX_BYTES {
        return Err(Some(format!(
            "not read: it is larger than {} MiB",
            MAX_BYTES >> 20
        )));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_module_tree_is_followed_through_cfg() {
        let dir = std::env::temp_dir().join(format!("repro-modtree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "Cargo.toml", "");
        write(
            &dir,
            "src/lib.rs",
            "mod a;\n#[cfg(test)] mod tests;\n#[cfg(feature = \"x\")] mod gated;\nmod inline { mod deep; }\n#[path = \"other/p.rs\"] mod p;\nmod missing;",
        );
        write(&dir, "src/a.rs", "mod b;");
        write(&dir, "src/a/b.rs", "fn b() {}");
        write(&dir, "src/tests.rs", "fn t() {}");
        write(&dir, "src/gated/mod.rs", "fn g() {}");
        write(&dir, "src/inline/deep.rs", "fn d() {}");
        write(&dir, "src/other/p.rs", "fn p() {}");
        write(&dir, "src/stray.rs", "fn s() {}");
        let cfg = CfgContext::host(Some(Default::default()), true);
        let shown = |p: &Path| p.strip_prefix(&dir).unwrap().display().to_string();
        let (files, _) = read_crate(&dir.join("src/lib.rs"), &dir, &cfg, &shown);
        let files: Vec<&str> = files.iter().map(|f| f.file.display_path.as_str()).collect();
        assert_eq!(
            files,
            [
                "src/lib.rs",
                "src/a.rs",
                "src/a/b.rs",
                "src/inline/deep.rs",
                "src/other/p.rs"
            ]
        );
        let mut features = std::collections::BTreeSet::new();
        features.insert("x".to_string());
        let cfg = CfgContext::host(Some(features), true);
        let (files, _) = read_crate(&dir.join("src/lib.rs"), &dir, &cfg, &shown);
        assert!(
            files
                .iter()
                .any(|f| f.file.display_path == "src/gated/mod.rs")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn default_features_follow_the_package_own_table() {
        let dir = std::env::temp_dir().join(format!("repro-defaults-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\n[features]\ndefault = [\"std\", \"dep:log\", \"serde/derive\"]\nstd = [\"alloc\"]\nalloc = []\nextra = []\n",
        )
        .unwrap();
        let on: Vec<_> = default_features(&dir).into_iter().collect();
        assert_eq!(on, ["alloc", "default", "std"]);
        std::fs::remove_file(dir.join("Cargo.toml")).unwrap();
        assert_eq!(default_features(&dir).len(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_outside_the_package_and_unparsable_files_are_not_read() {
        let dir = std::env::temp_dir().join(format!("repro-modconf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "outside.rs", "fn secret() {}");
        write(&dir, "pkg/Cargo.toml", "");
        write(
            &dir,
            "pkg/build.rs",
            "#[path = \"../outside.rs\"] mod o;\nmod broken;",
        );
        write(&dir, "pkg/broken.rs", "fn (");
        let cfg = CfgContext::host(Some(Default::default()), false);
        let shown = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        let (files, unreadable) =
            read_crate(&dir.join("pkg/build.rs"), &dir.join("pkg"), &cfg, &shown);
        assert_eq!(files.len(), 1);
        assert_eq!(unreadable.len(), 2, "{unreadable:?}");
        assert_eq!(
            unreadable[0].1,
            "outside.rs: not read: it leads outside the package directory"
        );
        assert!(
            unreadable[1].1.starts_with("broken.rs:1: does not parse"),
            "{unreadable:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
