//! [`BuildEnv`]: the exact environment variables a normalised release build runs with.
//!
//! Computed in two steps: [`EnvInputs::gather`] does the I/O (git, `rustc -vV`,
//! `rustc --print sysroot`, the caller's environment), [`BuildEnv::compute`] is a pure function
//! of those inputs, so tests can pin every path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::rustflags;
use crate::workspace::source_file::io_reason;
use crate::workspace::{TomlFile, Workspace};

/// The placeholder the workspace root is remapped to.
pub const ROOT_PLACEHOLDER: &str = "/build";
/// The placeholder `$CARGO_HOME` is remapped to.
pub const CARGO_HOME_PLACEHOLDER: &str = "/cargo";
/// The placeholder the toolchain's sysroot is remapped to.
pub const SYSROOT_PLACEHOLDER: &str = "/rustc-sysroot";

/// The separator of `CARGO_ENCODED_RUSTFLAGS` (ASCII unit separator).
const UNIT_SEPARATOR: char = '\u{1f}';

/// Variables the build always sets, whatever the workspace: audits count a release entry point
/// that runs `cargo repro build` as setting them.
pub const ALWAYS_SET_VARIABLES: &[&str] =
    &["SOURCE_DATE_EPOCH", "CARGO_INCREMENTAL", "LC_ALL", "TZ"];

/// Variables of the caller's environment that the build's `CARGO_ENCODED_RUSTFLAGS` overrides.
const OVERRIDDEN_VARIABLES: &[&str] = &["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"];

/// Where `SOURCE_DATE_EPOCH` comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SdePolicy {
    /// The committer time of the last commit (`git log -1 --format=%ct` in the root).
    #[default]
    LastCommit,
    /// A fixed value (`--source-date-epoch`).
    Fixed(u64),
}

/// What the caller chooses about the environment.
#[derive(Clone, Debug, Default)]
pub struct EnvOptions {
    /// `--target`; `None` leaves it to `CARGO_BUILD_TARGET`, the cargo configs' `[build]
    /// target`, else the host ([`resolve_target`]).
    pub target: Option<String>,
    pub source_date_epoch: SdePolicy,
}

/// Everything [`BuildEnv::compute`] needs, gathered from the machine.
#[derive(Clone, Debug)]
pub struct EnvInputs {
    pub root: PathBuf,
    pub cargo_home: PathBuf,
    /// `rustc --print sysroot` in the root.
    pub sysroot: PathBuf,
    /// The triple built for: `target`, else the host of `rustc -vV`.
    pub triple: String,
    /// The target cargo builds for ([`resolve_target`]); `None`: the host.
    pub target: Option<String>,
    pub source_date_epoch: u64,
    /// `CFLAGS` and `CXXFLAGS` of the caller's environment.
    pub user_cflags: Option<String>,
    pub user_cxxflags: Option<String>,
    /// The rustflags variables of the caller's environment that the build overrides.
    pub overridden: Vec<&'static str>,
}

impl EnvInputs {
    /// Runs git and rustc in the workspace root and reads the caller's environment.
    pub fn gather(workspace: &Workspace, options: &EnvOptions) -> anyhow::Result<EnvInputs> {
        let root = &workspace.root;
        let source_date_epoch = match options.source_date_epoch {
            SdePolicy::Fixed(seconds) => seconds,
            SdePolicy::LastCommit => last_commit_time(root)?,
        };
        let target = resolve_target(
            options.target.as_deref(),
            std::env::var("CARGO_BUILD_TARGET").ok().as_deref(),
            &workspace.cargo_configs,
        )?;
        let triple = match &target {
            Some(target) => target.clone(),
            None => host_triple(root)?,
        };
        Ok(EnvInputs {
            root: root.clone(),
            cargo_home: workspace.cargo_home.clone(),
            sysroot: sysroot(root)?,
            triple,
            target,
            source_date_epoch,
            user_cflags: non_empty_var("CFLAGS"),
            user_cxxflags: non_empty_var("CXXFLAGS"),
            overridden: OVERRIDDEN_VARIABLES
                .iter()
                .copied()
                .filter(|name| std::env::var_os(name).is_some())
                .collect(),
        })
    }
}

/// The environment of a normalised build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildEnv {
    /// The variables to set, by name.
    pub vars: BTreeMap<String, String>,
    /// The flags encoded in `CARGO_ENCODED_RUSTFLAGS`, in order.
    pub rustflags: Vec<String>,
    /// The triple built for.
    pub triple: String,
    /// The target cargo is told to build for, `--target` or the one cargo would take from
    /// `CARGO_BUILD_TARGET` or `[build] target` (`None`: the host).
    pub target: Option<String>,
    /// Things the user should know (cfg keys skipped, overridden variables); no absolute paths.
    pub warnings: Vec<String>,
}

impl BuildEnv {
    /// Gathers the inputs for `workspace` and computes the environment.
    pub fn for_workspace(workspace: &Workspace, options: &EnvOptions) -> anyhow::Result<BuildEnv> {
        let inputs = EnvInputs::gather(workspace, options)?;
        Ok(BuildEnv::compute(&inputs, &workspace.cargo_configs))
    }

    /// The environment for these inputs and cargo configs (nearest first).
    pub fn compute(inputs: &EnvInputs, cargo_configs: &[TomlFile]) -> BuildEnv {
        let config = rustflags::from_configs(cargo_configs, &inputs.triple);
        let mut warnings = config.warnings;
        warnings.extend(inputs.overridden.iter().map(|name| {
            format!("`{name}` of the environment is ignored: the build sets `CARGO_ENCODED_RUSTFLAGS`; put the flags in `.cargo/config.toml`")
        }));
        let mut rustflags = config.flags;
        rustflags.extend(normalising_rustflags(inputs));

        let prefix_maps = file_prefix_maps(inputs);
        let mut vars = BTreeMap::new();
        let mut set = |name: &str, value: String| vars.insert(name.to_string(), value);
        set("SOURCE_DATE_EPOCH", inputs.source_date_epoch.to_string());
        set("CARGO_INCREMENTAL", "0".to_string());
        set("LC_ALL", "C".to_string());
        set("TZ", "UTC".to_string());
        set(
            "CFLAGS",
            append(inputs.user_cflags.as_deref(), &prefix_maps),
        );
        set(
            "CXXFLAGS",
            append(inputs.user_cxxflags.as_deref(), &prefix_maps),
        );
        set(
            "CARGO_ENCODED_RUSTFLAGS",
            rustflags.join(&UNIT_SEPARATOR.to_string()),
        );
        BuildEnv {
            vars,
            rustflags,
            triple: inputs.triple.clone(),
            target: inputs.target.clone(),
            warnings,
        }
    }

    /// `export NAME='value'` lines, sorted by name, for `cargo repro env --format shell`.
    pub fn render_shell(&self) -> String {
        self.vars
            .iter()
            .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
            .collect()
    }

    /// A JSON object of the variables, keys sorted, for `cargo repro env --format json`.
    pub fn render_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.vars).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The prefixes remapped to fixed placeholders: nested prefixes last, so they win (rustc and
/// the C compilers apply the last matching mapping); otherwise root, `$CARGO_HOME`, sysroot.
fn remaps(inputs: &EnvInputs) -> Vec<(&Path, &'static str)> {
    let mut remaps = vec![
        (inputs.root.as_path(), ROOT_PLACEHOLDER),
        (inputs.cargo_home.as_path(), CARGO_HOME_PLACEHOLDER),
        (inputs.sysroot.as_path(), SYSROOT_PLACEHOLDER),
    ];
    let paths: Vec<PathBuf> = remaps.iter().map(|(path, _)| path.to_path_buf()).collect();
    let enclosing = |path: &Path| {
        paths
            .iter()
            .filter(|other| other.as_path() != path && path.starts_with(other))
            .count()
    };
    remaps.sort_by_key(|(path, _)| enclosing(path));
    remaps
}

/// The flags the normalised build adds after the configs' own.
fn normalising_rustflags(inputs: &EnvInputs) -> Vec<String> {
    let mut flags: Vec<String> = remaps(inputs)
        .into_iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect();
    flags.push("-Ccodegen-units=1".to_string());
    if is_elf(&inputs.triple) {
        flags.push("-Clink-arg=-Wl,--build-id=none".to_string());
    }
    if inputs.triple.ends_with("-musl") {
        flags.push("-Ctarget-feature=+crt-static".to_string());
    }
    flags
}

/// The target cargo builds for, chosen as cargo chooses it: `--target` (`explicit`), else
/// `CARGO_BUILD_TARGET` (`from_env`), else `[build] target` of the cargo configs (nearest
/// first; a nearer string replaces, arrays are joined), else `None`, the host.
///
/// A release is made for one target: several are refused, and so are target specification
/// files (`.json`, or a path), which the artifacts could not be named after.
pub fn resolve_target(
    explicit: Option<&str>,
    from_env: Option<&str>,
    configs: &[TomlFile],
) -> anyhow::Result<Option<String>> {
    let (mut targets, source) = if let Some(target) = explicit {
        (vec![target.to_string()], "--target".to_string())
    } else if let Some(value) = from_env.filter(|v| !v.trim().is_empty()) {
        let targets = value.split_whitespace().map(str::to_string).collect();
        (targets, "CARGO_BUILD_TARGET".to_string())
    } else {
        let mut targets: Vec<String> = Vec::new();
        let mut source = None;
        for config in configs.iter().rev() {
            let Some(item) = config.get(&["build", "target"]) else {
                continue;
            };
            if let Some(target) = item.as_str() {
                targets = vec![target.to_string()];
            } else if let Some(array) = item.as_array() {
                targets.extend(array.iter().filter_map(|v| v.as_str()).map(str::to_string));
            } else {
                anyhow::bail!(
                    "{}: [build] target must be a string or an array of strings",
                    config.file.display_path
                );
            }
            source = Some(format!("{}: [build] target", config.file.display_path));
        }
        match source {
            Some(source) => (targets, source),
            None => return Ok(None),
        }
    };
    targets.retain(|t| !t.trim().is_empty());
    targets.sort();
    targets.dedup();
    match targets.as_slice() {
        [] => Ok(None),
        [target] if target.ends_with(".json") || target.contains(['/', '\\']) => {
            anyhow::bail!(
                "{source} {} is a target specification file; cargo repro build makes releases for built-in targets only (`rustc --print target-list`): pass --target TRIPLE",
                crate::guard::paths::shown(target)
            )
        }
        [target] => Ok(Some(target.clone())),
        several => anyhow::bail!(
            "{source} lists {} targets ({}); cargo repro build makes the release of one target at a time: pass --target TRIPLE",
            several.len(),
            crate::guard::paths::shown(&several.join(", "))
        ),
    }
}

/// `-ffile-prefix-map=FROM=TO` for each remapped prefix, space-separated.
///
/// `CFLAGS` is split on whitespace by the `cc` crate, so a root containing a space breaks
/// these flags (rustc's, in `CARGO_ENCODED_RUSTFLAGS`, are not affected).
fn file_prefix_maps(inputs: &EnvInputs) -> String {
    remaps(inputs)
        .into_iter()
        .filter(|(path, _)| *path != inputs.sysroot.as_path())
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn append(user: Option<&str>, flags: &str) -> String {
    match user {
        Some(user) => format!("{user} {flags}"),
        None => flags.to_string(),
    }
}

/// True for targets whose binaries are ELF files linked by a GNU-compatible linker.
pub fn is_elf(triple: &str) -> bool {
    let excluded = ["apple", "windows", "wasm", "darwin", "ios"];
    let elf = ["linux", "bsd", "dragonfly", "android"];
    !excluded.iter().any(|os| triple.contains(os)) && elf.iter().any(|os| triple.contains(os))
}

/// `value` in single quotes, with embedded single quotes written as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The committer time of the last commit in `root`.
pub fn last_commit_time(root: &Path) -> anyhow::Result<u64> {
    const ADVICE: &str = "pass --source-date-epoch";
    let output = duct::cmd("git", ["log", "-1", "--format=%ct"])
        .dir(root)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run git: {}; {ADVICE}", io_reason(&e)))?;
    if !output.status.success() {
        anyhow::bail!(
            "cannot take SOURCE_DATE_EPOCH from the last commit: the workspace is not a git repository or has no commit; {ADVICE}"
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("git printed no commit time for the last commit; {ADVICE}"))
}

/// Runs `rustc ARGS` in `root` (so `rust-toolchain.toml` applies) and returns its stdout.
pub fn rustc(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = duct::cmd(&rustc, args)
        .dir(root)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run rustc: {}", io_reason(&e)))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        anyhow::bail!("`rustc {}` failed: {}", args.join(" "), first.trim());
    }
    String::from_utf8(output.stdout)
        .map_err(|_| anyhow::anyhow!("`rustc {}` printed invalid UTF-8", args.join(" ")))
}

/// The host triple of the toolchain in force for `root`.
pub fn host_triple(root: &Path) -> anyhow::Result<String> {
    let text = rustc(root, &["-vV"])?;
    text.lines()
        .find_map(|line| line.strip_prefix("host:"))
        .map(|host| host.trim().to_string())
        .ok_or_else(|| anyhow::anyhow!("`rustc -vV` printed no host triple"))
}

/// The sysroot of the toolchain in force for `root`.
pub fn sysroot(root: &Path) -> anyhow::Result<PathBuf> {
    let text = rustc(root, &["--print", "sysroot"])?;
    let path = text.trim();
    if path.is_empty() {
        anyhow::bail!("`rustc --print sysroot` printed nothing");
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(triple: &str) -> EnvInputs {
        EnvInputs {
            root: PathBuf::from("/home/u/my project"),
            cargo_home: PathBuf::from("/home/u/.cargo"),
            sysroot: PathBuf::from("/home/u/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu"),
            triple: triple.to_string(),
            target: None,
            source_date_epoch: 1_700_000_000,
            user_cflags: Some("-O2".to_string()),
            user_cxxflags: None,
            overridden: vec!["RUSTFLAGS"],
        }
    }

    #[test]
    fn linux_gets_remaps_codegen_units_and_no_build_id() {
        let env = BuildEnv::compute(&inputs("x86_64-unknown-linux-gnu"), &[]);
        assert_eq!(
            env.rustflags,
            [
                "--remap-path-prefix=/home/u/my project=/build",
                "--remap-path-prefix=/home/u/.cargo=/cargo",
                "--remap-path-prefix=/home/u/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu=/rustc-sysroot",
                "-Ccodegen-units=1",
                "-Clink-arg=-Wl,--build-id=none",
            ]
        );
        assert_eq!(
            env.vars["CARGO_ENCODED_RUSTFLAGS"].split('\u{1f}').count(),
            5
        );
        assert_eq!(
            env.vars["CFLAGS"],
            "-O2 -ffile-prefix-map=/home/u/my project=/build -ffile-prefix-map=/home/u/.cargo=/cargo"
        );
        assert!(env.vars["CXXFLAGS"].starts_with("-ffile-prefix-map="));
        assert_eq!(env.vars["SOURCE_DATE_EPOCH"], "1700000000");
        assert_eq!(env.vars["CARGO_INCREMENTAL"], "0");
        assert_eq!(env.vars["LC_ALL"], "C");
        assert_eq!(env.vars["TZ"], "UTC");
        for name in ALWAYS_SET_VARIABLES {
            assert!(env.vars.contains_key(*name), "{name} is always set");
        }
        assert_eq!(env.warnings.len(), 1);
        assert!(!env.warnings[0].contains("/home"));
    }

    #[test]
    fn musl_is_static_and_apple_has_no_build_id() {
        let musl = BuildEnv::compute(&inputs("x86_64-unknown-linux-musl"), &[]);
        assert!(
            musl.rustflags
                .contains(&"-Ctarget-feature=+crt-static".to_string())
        );
        assert!(
            musl.rustflags
                .contains(&"-Clink-arg=-Wl,--build-id=none".to_string())
        );
        for triple in [
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "wasm32-unknown-unknown",
        ] {
            let env = BuildEnv::compute(&inputs(triple), &[]);
            assert!(
                !env.rustflags.iter().any(|f| f.contains("build-id")),
                "{triple}"
            );
        }
        assert!(is_elf("x86_64-unknown-freebsd"));
        assert!(is_elf("aarch64-linux-android"));
    }

    #[test]
    fn nested_prefixes_come_last() {
        let mut inputs = inputs("x86_64-unknown-linux-gnu");
        inputs.root = inputs.cargo_home.join("git/checkouts/x");
        let env = BuildEnv::compute(&inputs, &[]);
        assert_eq!(
            env.rustflags[0],
            "--remap-path-prefix=/home/u/.cargo=/cargo"
        );
        assert_eq!(
            env.rustflags[2],
            "--remap-path-prefix=/home/u/.cargo/git/checkouts/x=/build"
        );
    }

    #[test]
    fn shell_rendering_is_sorted_and_quoted() {
        let mut env = BuildEnv::compute(&inputs("x86_64-unknown-linux-gnu"), &[]);
        env.vars.insert("CFLAGS".into(), "-DNAME='it''s'".into());
        let shell = env.render_shell();
        assert!(shell.contains("export CFLAGS='-DNAME='\\''it'\\'''\\''s'\\'''\n"));
        let names: Vec<&str> = shell
            .lines()
            .map(|l| {
                l.trim_start_matches("export ")
                    .split('=')
                    .next()
                    .unwrap_or("")
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    fn config(path: &str, text: &str) -> TomlFile {
        let file = crate::workspace::SourceFile::new(
            path.to_string(),
            PathBuf::from(path),
            text.to_string(),
        );
        TomlFile::parse(file).expect("valid TOML")
    }

    #[test]
    fn the_target_is_the_flag_then_the_environment_then_the_nearest_config() {
        const MUSL: &str = "x86_64-unknown-linux-musl";
        let near = config(
            ".cargo/config.toml",
            &format!("[build]\ntarget = \"{MUSL}\"\n"),
        );
        let far = config(
            "$CARGO_HOME/config.toml",
            "[build]\ntarget = \"aarch64-unknown-linux-gnu\"\n",
        );
        let configs = [near, far];
        let resolve = |explicit, from_env| resolve_target(explicit, from_env, &configs).unwrap();
        assert_eq!(
            resolve(Some("wasm32-wasip1"), Some("x")).as_deref(),
            Some("wasm32-wasip1")
        );
        assert_eq!(
            resolve(None, Some("i686-unknown-linux-gnu")).as_deref(),
            Some("i686-unknown-linux-gnu")
        );
        assert_eq!(resolve(None, Some("  ")).as_deref(), Some(MUSL));
        assert_eq!(resolve(None, None).as_deref(), Some(MUSL));
        assert_eq!(
            resolve_target(None, None, &configs[1..])
                .unwrap()
                .as_deref(),
            Some("aarch64-unknown-linux-gnu")
        );
        assert_eq!(resolve_target(None, None, &[]).unwrap(), None);
        let empty = config(".cargo/config.toml", "[build]\ntarget = []\n");
        assert_eq!(resolve_target(None, None, &[empty]).unwrap(), None);
        let same = config(
            ".cargo/config.toml",
            &format!("[build]\ntarget = [\"{MUSL}\", \"{MUSL}\"]\n"),
        );
        assert_eq!(
            resolve_target(None, None, &[same]).unwrap().as_deref(),
            Some(MUSL)
        );
    }

    #[test]
    fn several_targets_and_target_specification_files_are_refused() {
        let several = config(
            ".cargo/config.toml",
            "[build]\ntarget = [\"x86_64-unknown-linux-gnu\", \"x86_64-unknown-linux-musl\"]\n",
        );
        let error = resolve_target(None, None, &[several])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            ".cargo/config.toml: [build] target lists 2 targets (x86_64-unknown-linux-gnu, x86_64-unknown-linux-musl); cargo repro build makes the release of one target at a time: pass --target TRIPLE"
        );
        let error = resolve_target(None, Some("a-b-c d-e-f"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("CARGO_BUILD_TARGET lists 2 targets"),
            "{error}"
        );
        let spec = config(".cargo/config.toml", "[build]\ntarget = \"board.json\"\n");
        let error = resolve_target(None, None, &[spec]).unwrap_err().to_string();
        assert_eq!(
            error,
            ".cargo/config.toml: [build] target board.json is a target specification file; cargo repro build makes releases for built-in targets only (`rustc --print target-list`): pass --target TRIPLE"
        );
        let error = resolve_target(Some("specs/x"), None, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("--target specs/x is a target specification file"),
            "{error}"
        );
        let wrong = config(".cargo/config.toml", "[build]\ntarget = 3\n");
        assert!(resolve_target(None, None, &[wrong]).is_err());
    }

    #[test]
    fn json_rendering_has_sorted_keys() {
        let env = BuildEnv::compute(&inputs("x86_64-unknown-linux-gnu"), &[]);
        let json: serde_json::Value = serde_json::from_str(&env.render_json()).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "CARGO_ENCODED_RUSTFLAGS",
                "CARGO_INCREMENTAL",
                "CFLAGS",
                "CXXFLAGS",
                "LC_ALL",
                "SOURCE_DATE_EPOCH",
                "TZ"
            ]
        );
        assert!(env.render_json().contains("\\u001f"));
    }
}
