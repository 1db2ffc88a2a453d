//! One place that makes paths from what files say (the ledger, vendored manifests, Cargo.lock,
//! configuration): names and versions are checked before they become path segments, relative
//! paths are confined to the workspace with symlinks resolved.

use std::path::{Component, Path, PathBuf};

/// A value shown in an error: control characters escaped, so a crafted value cannot forge
/// lines of output.
pub fn shown(value: &str) -> String {
    value.escape_debug().to_string()
}

/// True when `name` has no control character (a newline in a file name would inject lines
/// into a `.patch` file or a listing).
pub fn printable(name: &str) -> bool {
    !name.chars().any(char::is_control)
}

/// Checks that `value` (a crate name, a package or binary name) can be one path segment:
/// ASCII letters, digits, `-`, `_`, `.` and `+`, not starting with `.`, at most 128 bytes.
pub fn segment(value: &str, what: &str, source: &str) -> anyhow::Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && !value.starts_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if !ok {
        anyhow::bail!(
            "{source}: {what} `{}` is not a plain name (letters, digits, `-`, `_`, `.`, `+`); fix it",
            shown(value)
        );
    }
    Ok(())
}

/// Checks that `value` is a semver version (which is also a safe path segment).
pub fn version(value: &str, what: &str, source: &str) -> anyhow::Result<()> {
    if semver::Version::parse(value).is_err() {
        anyhow::bail!(
            "{source}: {what} `{}` is not a semver version (such as 1.2.3); fix it",
            shown(value)
        );
    }
    segment(value, what, source)
}

/// Checks that `value` is a relative path of plain components: not absolute, no `..` or `.`,
/// no control characters. Said of the text alone; [`confine`] also resolves symlinks.
pub fn relative(value: &str, what: &str, source: &str) -> anyhow::Result<()> {
    let path = Path::new(value);
    let plain = !value.is_empty()
        && printable(value)
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        anyhow::bail!(
            "{source}: {what} `{}` must be a relative path inside the workspace, without `..`; fix it",
            shown(value)
        );
    }
    // git's own directory (hooks, config) is never a place the tool writes for a file's say.
    if path.components().any(|c| c.as_os_str() == ".git") {
        anyhow::bail!(
            "{source}: {what} `{}` lies in .git, which cargo-repro does not write; fix it",
            shown(value)
        );
    }
    Ok(())
}

/// `root` joined with the relative path `value`, checked with [`relative`] and then on disk:
/// the part of it that exists, symlinks resolved, must still lie inside `root`.
pub fn confine(root: &Path, value: &str, what: &str, source: &str) -> anyhow::Result<PathBuf> {
    relative(value, what, source)?;
    let path = root.join(value);
    if !inside(root, &path) {
        anyhow::bail!(
            "{source}: {what} `{}` leads outside the workspace through a symbolic link; replace the link with a directory",
            shown(value)
        );
    }
    Ok(path)
}

/// True when `path` lies inside `root` once the symlinks of its existing part are resolved (a
/// symlinked directory inside the workspace that points elsewhere is outside).
pub fn inside(root: &Path, path: &Path) -> bool {
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    // The deepest ancestor that exists (a dangling last link counts: it is resolved as far as
    // it goes, which is its parent).
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut real = real;
            for part in rest.iter().rev() {
                real.push(part);
            }
            return real.starts_with(&root);
        }
        if std::fs::symlink_metadata(&existing).is_ok_and(|m| m.file_type().is_symlink()) {
            // A dangling or looping link: where it leads cannot be told.
            return false;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_that_would_make_paths_are_refused() {
        assert!(segment("i18n-embed-fl", "name", "f").is_ok());
        for bad in ["", "..", ".hidden", "a/b", "a\nb", "a b", "a\\b"] {
            assert!(segment(bad, "name", "f").is_err(), "{bad:?}");
        }
        assert!(version("0.9.1", "version", "f").is_ok());
        assert!(version("1.0.0-rc.1+build.5", "version", "f").is_ok());
        let err = version("0/../../../etc", "version", "vendor/patches.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "vendor/patches.toml: version `0/../../../etc` is not a semver version (such as 1.2.3); fix it"
        );
        let err = segment("a\nerror: forged", "name", "f").unwrap_err();
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn relative_paths_stay_inside_through_symlinks() {
        let base = std::env::temp_dir().join(format!("repro-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("ws");
        std::fs::create_dir_all(root.join("vendor/real")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), root.join("vendor/out")).unwrap();
        std::os::unix::fs::symlink(root.join("vendor/real"), root.join("vendor/in")).unwrap();
        std::os::unix::fs::symlink(base.join("nowhere"), root.join("vendor/dangling")).unwrap();
        assert!(confine(&root, "vendor/real", "path", "f").is_ok());
        assert!(confine(&root, "vendor/in/x.patch", "path", "f").is_ok());
        assert!(confine(&root, "vendor/new/deeper", "path", "f").is_ok());
        for bad in [
            "vendor/out",
            "vendor/out/x",
            "vendor/dangling",
            "../ws/vendor/real",
            "/etc",
            "vendor/../..",
            "vendor/a\nb",
            ".git/hooks/pre-commit",
        ] {
            assert!(confine(&root, bad, "path", "f").is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
