//! The normalised build's environment and runner (`cargo_repro::build`), on real workspaces
//! outside the repository, with real `cargo build --offline` runs.

use std::path::Path;

use cargo_repro::build::{
    BuildEnv, BuildOptions, EnvInputs, EnvOptions, SdePolicy, build, env::last_commit_time,
    preflight,
};
use cargo_repro::workspace::{LoadOptions, Workspace};

use crate::support::*;

const PINNED: (&str, &str) = ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n");
const MAIN: (&str, &str) = ("src/main.rs", "fn main() {\n    println!(\"tiny\");\n}\n");

fn load(dir: &Path) -> Workspace {
    Workspace::load(&LoadOptions {
        manifest_path: Some(dir.join("Cargo.toml")),
        offline: true,
        lockfile_only: false,
    })
    .expect("the fixture loads")
}

fn fixed(target: Option<&str>) -> EnvOptions {
    EnvOptions {
        target: target.map(str::to_string),
        source_date_epoch: SdePolicy::Fixed(1_600_000_000),
    }
}

fn offline() -> BuildOptions {
    BuildOptions {
        offline: true,
        ..BuildOptions::default()
    }
}

#[test]
fn config_rustflags_come_first_then_the_normalising_flags() {
    let dir = outside_dir("env-rustflags");
    tiny_workspace(
        &dir,
        "",
        &[(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"-C\", \"overflow-checks=off\"]\n",
        )],
    );
    let workspace = load(&dir);
    let env = BuildEnv::for_workspace(&workspace, &fixed(Some("x86_64-unknown-linux-gnu")))
        .expect("the environment is computed");
    let root = workspace.root.display().to_string();
    let home = workspace.cargo_home.display().to_string();
    assert_eq!(env.rustflags[..2], ["-C", "overflow-checks=off"]);
    assert_eq!(
        env.rustflags[2..4],
        [
            format!("--remap-path-prefix={root}=/build"),
            format!("--remap-path-prefix={home}=/cargo"),
        ]
    );
    assert!(env.rustflags[4].starts_with("--remap-path-prefix="));
    assert!(env.rustflags[4].ends_with("=/rustc-sysroot"));
    assert_eq!(
        env.rustflags[5..],
        ["-Ccodegen-units=1", "-Clink-arg=-Wl,--build-id=none"]
    );
    assert_eq!(
        env.vars["CARGO_ENCODED_RUSTFLAGS"],
        env.rustflags.join("\u{1f}")
    );
    assert_eq!(env.vars["SOURCE_DATE_EPOCH"], "1600000000");
    assert!(env.vars["CFLAGS"].ends_with(&format!(
        "-ffile-prefix-map={root}=/build -ffile-prefix-map={home}=/cargo"
    )));
}

#[test]
fn shell_rendering_survives_eval() {
    let mut inputs = EnvInputs {
        root: "/tmp/it's here".into(),
        cargo_home: "/h/.cargo".into(),
        sysroot: "/h/.rustup/toolchains/x".into(),
        triple: "x86_64-unknown-linux-gnu".into(),
        target: None,
        source_date_epoch: 1,
        user_cflags: Some("-DQ='a b' -O2".into()),
        user_cxxflags: None,
        overridden: Vec::new(),
    };
    let env = BuildEnv::compute(&inputs, &[]);
    let script = format!(
        "{}printf '%s\\n' \"$CFLAGS\" \"$CARGO_ENCODED_RUSTFLAGS\"",
        env.render_shell()
    );
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let expected = format!(
        "{}\n{}\n",
        env.vars["CFLAGS"], env.vars["CARGO_ENCODED_RUSTFLAGS"]
    );
    assert_eq!(printed, expected);
    assert!(printed.starts_with("-DQ='a b' -O2 -ffile-prefix-map=/tmp/it's here=/build"));
    inputs.user_cflags = None;
    assert!(
        BuildEnv::compute(&inputs, &[])
            .render_shell()
            .contains("export CFLAGS='-ffile-prefix-map=/tmp/it'\\''s here=/build ")
    );
}

#[test]
fn source_date_epoch_is_the_last_commit_time() {
    let dir = outside_dir("env-sde");
    tiny_workspace(&dir, "", &[]);
    let error = last_commit_time(&dir).unwrap_err().to_string();
    assert!(error.contains("--source-date-epoch"), "{error}");
    git(&dir, &["init", "-q"]);
    let error = last_commit_time(&dir).unwrap_err().to_string();
    assert!(error.contains("--source-date-epoch"), "{error}");
    git(&dir, &["add", "."]);
    let status = std::process::Command::new("git")
        .args(["commit", "-qm", "init"])
        .current_dir(&dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_DATE", "@1234567890 +0000")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(last_commit_time(&dir).unwrap(), 1_234_567_890);
    let env = BuildEnv::for_workspace(&load(&dir), &EnvOptions::default()).unwrap();
    assert_eq!(env.vars["SOURCE_DATE_EPOCH"], "1234567890");
}

#[test]
fn a_pinned_workspace_builds_and_its_binary_exists() {
    let dir = outside_dir("build-ok");
    tiny_workspace(&dir, "", &[PINNED, MAIN]);
    let workspace = load(&dir);
    let env = BuildEnv::for_workspace(&workspace, &fixed(None)).unwrap();
    let mut log = Vec::new();
    let outcome = build(&workspace, &offline(), &env, &mut log)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", String::from_utf8_lossy(&log)));
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("Compiling tiny") && log.contains("Finished `release` profile"),
        "cargo's progress is passed on:\n{log}"
    );
    assert!(
        !log.contains("Running `"),
        "the verbose rustc command lines are scanned, not shown:\n{log}"
    );
    assert_eq!(outcome.binaries.len(), 1, "{outcome:?}");
    let binary = &outcome.binaries[0];
    assert_eq!(binary.name, "tiny");
    assert_eq!(binary.display, "target/release/tiny");
    let bytes = std::fs::read(&binary.path).expect("the binary exists");
    let root = workspace.root.display().to_string();
    assert!(
        !bytes.windows(root.len()).any(|w| w == root.as_bytes()),
        "the binary contains the checkout path"
    );
}

#[test]
fn a_native_cpu_flag_fails_the_build_and_is_named() {
    let dir = outside_dir("build-native");
    tiny_workspace(
        &dir,
        "",
        &[
            PINNED,
            MAIN,
            (
                ".cargo/config.toml",
                "[build]\nrustflags = [\"-C\", \"target-cpu=native\"]\n",
            ),
        ],
    );
    let workspace = load(&dir);
    let env = BuildEnv::for_workspace(&workspace, &fixed(None)).unwrap();
    let refused = build(&workspace, &offline(), &env, &mut Vec::new()).unwrap_err();
    assert!(
        refused.to_string().contains("target-cpu-native"),
        "{refused}"
    );

    let options = BuildOptions {
        allow_unpinned: true,
        ..offline()
    };
    let error = build(&workspace, &options, &env, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("-C target-cpu=native"), "{error}");
    assert!(error.contains("Running `"), "{error}");
    assert!(
        !error.contains(&workspace.root.display().to_string()),
        "{error}"
    );
}

#[test]
fn preflight_refuses_an_unpinned_workspace_and_names_the_rules() {
    let dir = outside_dir("build-unpinned");
    tiny_workspace(&dir, "", &[MAIN]);
    std::fs::remove_file(dir.join("Cargo.lock")).unwrap();
    let error = preflight(&load(&dir)).unwrap_err().to_string();
    assert!(error.contains("lockfile-missing"), "{error}");
    assert!(error.contains("toolchain-unpinned"), "{error}");
    assert!(error.contains("--allow-unpinned"), "{error}");
    assert!(!error.contains("target-cpu-native"), "{error}");
}

#[test]
fn preflight_refuses_a_floating_file_even_when_the_release_image_pins_a_compiler() {
    // check makes it a note (the Dockerfile's release pins 1.95.0), but `cargo repro build`
    // runs here, with the file's floating channel.
    let dir = outside_dir("build-release-pinned");
    tiny_workspace(
        &dir,
        "",
        &[
            MAIN,
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n"),
            (
                "Dockerfile",
                "FROM rust:1.95.0@sha256:0000000000000000000000000000000000000000000000000000000000000000\n\
                 RUN cargo build --release --locked\n",
            ),
        ],
    );
    let error = preflight(&load(&dir)).unwrap_err().to_string();
    assert!(error.contains("toolchain-unpinned"), "{error}");
}

#[test]
fn preflight_refuses_a_floating_file_when_no_entry_point_makes_a_release() {
    // check makes it a development note (the CI workflow releases nothing), but this build is
    // a release, made with the file.
    let dir = outside_dir("build-no-release");
    tiny_workspace(
        &dir,
        "",
        &[
            MAIN,
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n"),
            (
                ".github/workflows/ci.yml",
                "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: cargo test --locked\n",
            ),
        ],
    );
    let error = preflight(&load(&dir)).unwrap_err().to_string();
    assert!(error.contains("toolchain-unpinned"), "{error}");
}

#[test]
fn a_native_flag_in_a_build_scripts_c_compile_fails_the_build_and_names_the_crate() {
    // `cargo build --verbose` does not show what a build script runs; the `cc` crate logs each
    // compiler command on the script's stdout, which cargo keeps in `target/…/build/*/output`.
    let dir = outside_dir("build-native-cc");
    tiny_workspace(
        &dir,
        "\n[dependencies]\nnat = { path = \"nat\" }\n",
        &[
            PINNED,
            MAIN,
            (
                "nat/Cargo.toml",
                "[package]\nname = \"nat\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
            ),
            ("nat/src/lib.rs", "//! Pretends to wrap C code.\n"),
            (
                "nat/build.rs",
                // The flag is put together at run time (as a CMake or `flag_if_supported`
                // probe would), so the static `target-cpu-native` rule cannot see it.
                r#"fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let cpu = ["nat", "ive"].concat();
    println!("running: \"cc\" \"-O3\" \"-march={cpu}\" \"-c\" \"src/fast.c\"");
}
"#,
            ),
        ],
    );
    let workspace = load(&dir);
    let env = BuildEnv::for_workspace(&workspace, &fixed(None)).unwrap();
    // Twice: the second build reuses the script's output without running it again.
    for attempt in ["first", "fresh"] {
        let mut log = Vec::new();
        let error = build(&workspace, &offline(), &env, &mut log)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "first: build script of nat@0.3.0: running: \"cc\" \"-O3\" \"-march=native\""
            ),
            "{attempt}: {error}\n{}",
            String::from_utf8_lossy(&log)
        );
        assert!(error.contains("target-cpu-native"), "{error}");
    }
}
