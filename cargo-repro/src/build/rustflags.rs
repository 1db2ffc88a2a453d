//! The rustflags cargo would take from the workspace's cargo configs, carried over into
//! `CARGO_ENCODED_RUSTFLAGS` (which makes cargo ignore the configs' own rustflags).
//!
//! Cargo's rule, reproduced here: the `rustflags` of every `[target.<triple>]` and matching
//! `[target.'cfg(…)']` table are joined; only when there are none does `[build] rustflags`
//! apply. Across config files, arrays are joined with the nearer file's flags last.
//!
//! Limitation: `cfg(…)` keys are evaluated only when they are trivially decidable without the
//! target's cfg set (`cfg(all())`, `cfg(any())`, `cfg(not(…))` of those). A key that names a
//! predicate (`cfg(unix)`, `cfg(target_os = "linux")`) is skipped and reported as a warning.

use toml_edit::Item;

use crate::workspace::TomlFile;

/// Rustflags collected from cargo configs, with warnings about keys that could not be applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigRustflags {
    pub flags: Vec<String>,
    pub warnings: Vec<String>,
}

/// The rustflags for `triple` from `configs` (nearest first, as [`crate::workspace::Workspace`]
/// holds them).
pub fn from_configs(configs: &[TomlFile], triple: &str) -> ConfigRustflags {
    let mut out = ConfigRustflags::default();
    let mut target_flags = Vec::new();
    for config in configs.iter().rev() {
        target_flags.extend(target_rustflags(config, triple, &mut out.warnings));
    }
    if !target_flags.is_empty() {
        out.flags = target_flags;
        return out;
    }
    for config in configs.iter().rev() {
        if let Some(item) = config.get(&["build", "rustflags"]) {
            out.flags.extend(flag_list(item));
        }
    }
    out
}

/// The flags of the `[target.*]` tables of one config that apply to `triple`.
fn target_rustflags(config: &TomlFile, triple: &str, warnings: &mut Vec<String>) -> Vec<String> {
    let Some(targets) = config.get(&["target"]).and_then(Item::as_table_like) else {
        return Vec::new();
    };
    let mut flags = Vec::new();
    for (key, table) in targets.iter() {
        let Some(item) = table.get("rustflags") else {
            continue;
        };
        let applies = if key.starts_with("cfg(") {
            match eval_cfg_key(key) {
                Some(value) => value,
                None => {
                    warnings.push(format!(
                        "{}: the rustflags of `[target.'{key}']` are not carried over: only trivially true cfg expressions are evaluated; move them to `[target.{triple}]` or `[build]`",
                        config.file.display_path
                    ));
                    false
                }
            }
        } else {
            key == triple
        };
        if applies {
            flags.extend(flag_list(item));
        }
    }
    flags
}

/// A rustflags value: a string split on whitespace, or an array of strings.
fn flag_list(item: &Item) -> Vec<String> {
    if let Some(text) = item.as_str() {
        return text.split_whitespace().map(str::to_string).collect();
    }
    item.as_array()
        .into_iter()
        .flat_map(|array| array.iter())
        .filter_map(|value| value.as_str())
        .map(str::to_string)
        .collect()
}

/// Evaluates `cfg(EXPR)` when it has no predicates; `None` when it depends on the target.
pub fn eval_cfg_key(key: &str) -> Option<bool> {
    let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = compact.strip_prefix("cfg(")?.strip_suffix(')')?;
    let (value, rest) = eval_expr(inner)?;
    rest.is_empty().then_some(value)?
}

/// Evaluates one expression at the start of `text`; returns its value (`None`: undecidable)
/// and the rest of the text. The outer `None` means the text does not parse.
fn eval_expr(text: &str) -> Option<(Option<bool>, &str)> {
    for (name, combine) in [
        ("all(", all as fn(&[Option<bool>]) -> Option<bool>),
        ("any(", any),
        ("not(", not),
    ] {
        if let Some(rest) = text.strip_prefix(name) {
            let (values, rest) = eval_list(rest)?;
            if name == "not(" && values.len() != 1 {
                return None;
            }
            return Some((combine(&values), rest));
        }
    }
    let end = text.find([',', ')']).unwrap_or(text.len());
    (end > 0).then_some((None, &text[end..]))
}

/// Evaluates a comma-separated list up to and including its closing parenthesis.
fn eval_list(mut text: &str) -> Option<(Vec<Option<bool>>, &str)> {
    let mut values = Vec::new();
    loop {
        if let Some(rest) = text.strip_prefix(')') {
            return Some((values, rest));
        }
        let (value, rest) = eval_expr(text)?;
        values.push(value);
        text = rest.strip_prefix(',').unwrap_or(rest);
        if !rest.starts_with([',', ')']) {
            return None;
        }
    }
}

fn all(values: &[Option<bool>]) -> Option<bool> {
    if values.contains(&Some(false)) {
        return Some(false);
    }
    values.iter().all(Option::is_some).then_some(true)
}

fn any(values: &[Option<bool>]) -> Option<bool> {
    if values.contains(&Some(true)) {
        return Some(true);
    }
    values.iter().all(Option::is_some).then_some(false)
}

fn not(values: &[Option<bool>]) -> Option<bool> {
    values.first().copied().flatten().map(|v| !v)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::workspace::SourceFile;

    fn config(path: &str, text: &str) -> TomlFile {
        let file = SourceFile::new(path.to_string(), PathBuf::from(path), text.to_string());
        TomlFile::parse(file).expect("valid TOML")
    }

    #[test]
    fn trivial_cfgs_are_decided() {
        assert_eq!(eval_cfg_key("cfg(all())"), Some(true));
        assert_eq!(eval_cfg_key("cfg(any())"), Some(false));
        assert_eq!(eval_cfg_key("cfg(not(any()))"), Some(true));
        assert_eq!(eval_cfg_key("cfg(all(unix, any()))"), Some(false));
        assert_eq!(eval_cfg_key("cfg(any(unix, all()))"), Some(true));
        assert_eq!(eval_cfg_key("cfg(unix)"), None);
        assert_eq!(eval_cfg_key("cfg(target_os = \"linux\")"), None);
        assert_eq!(eval_cfg_key("cfg(all(unix, windows))"), None);
        assert_eq!(eval_cfg_key("cfg(all()"), None);
    }

    #[test]
    fn target_flags_replace_build_flags_and_farther_configs_come_first() {
        let near = config(
            ".cargo/config.toml",
            "[build]\nrustflags = \"-Cnear-build\"\n[target.x86_64-unknown-linux-gnu]\nrustflags = [\"-Cnear\"]\n",
        );
        let far = config(
            "../.cargo/config.toml",
            "[target.'cfg(all())']\nrustflags = \"-Cfar  -Cfar2\"\n[target.'cfg(unix)']\nrustflags = [\"-Cskipped\"]\n",
        );
        let got = from_configs(&[near, far], "x86_64-unknown-linux-gnu");
        assert_eq!(got.flags, ["-Cfar", "-Cfar2", "-Cnear"]);
        assert_eq!(got.warnings.len(), 1);
        assert!(got.warnings[0].starts_with("../.cargo/config.toml: "));
        assert!(got.warnings[0].contains("cfg(unix)"));
    }

    #[test]
    fn build_flags_apply_without_target_flags() {
        let near = config(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"-C\", \"debuginfo=0\"]\n[target.aarch64-apple-darwin]\nrustflags = [\"-Cother\"]\n",
        );
        let got = from_configs(&[near], "x86_64-unknown-linux-gnu");
        assert_eq!(got.flags, ["-C", "debuginfo=0"]);
        assert!(got.warnings.is_empty());
    }
}
