//! Cargo command lines as rules see them: which tool, which subcommand, the `+toolchain`, the
//! profile and target a build uses.

use super::{Command, Word, option_text, option_value};

/// Options of cargo (and of `cargo install`) that take a separate value.
pub const OPTIONS_WITH_VALUE: &[&str] = &[
    "--config",
    "-Z",
    "-C",
    "--version",
    "--vers",
    "--root",
    "--target",
    "--target-dir",
    "--features",
    "-F",
    "--bin",
    "--example",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--registry",
    "--index",
    "--path",
    "--profile",
    "-j",
    "--jobs",
    "-p",
    "--package",
    "--manifest-path",
    "--color",
    "--message-format",
];

/// A cargo invocation (or of a tool that takes cargo's command line: `cross`, plugins).
#[derive(Clone, Debug)]
pub struct CargoCall<'a> {
    /// The program's name (`cargo`, `cross`, `cargo-zigbuild`).
    pub program: &'a str,
    /// The subcommand after plugins are looked through (`build` for `cargo auditable build`).
    pub subcommand: &'a str,
    /// The `+toolchain` word, when there is one.
    pub toolchain: Option<&'a Word>,
    /// Every argument after the program.
    pub args: &'a [Word],
    /// The arguments after the subcommand.
    pub rest: &'a [Word],
}

impl CargoCall<'_> {
    /// True for subcommands that compile what is released: build, run, rustc, install, and
    /// `cargo deb` (which runs `cargo build` unless `--no-build`).
    pub fn builds(&self) -> bool {
        match self.subcommand {
            "build" | "b" | "run" | "r" | "rustc" | "install" => true,
            "deb" => !self.has("--no-build"),
            _ => false,
        }
    }

    /// `cargo install` of something other than a local path.
    pub fn installs_remote(&self) -> bool {
        self.subcommand == "install"
            && !self
                .rest
                .iter()
                .any(|w| w.text == "--path" || w.text.starts_with("--path="))
    }

    /// The arguments cargo itself reads (those after `--` go to the program).
    pub fn own_args(&self) -> &[Word] {
        match self.args.iter().position(|a| a.text == "--") {
            Some(at) => &self.args[..at],
            None => self.args,
        }
    }

    /// True when cargo's own arguments hold `flag`.
    pub fn has(&self, flag: &str) -> bool {
        self.own_args().iter().any(|a| a.text == flag)
    }

    /// The profile the build uses: `--profile NAME`, `--release`, `release` for installs,
    /// `dev` otherwise. `None` when it is an expansion.
    pub fn profile(&self) -> Option<String> {
        if let Some(word) = option_value(self.own_args(), &["--profile"]) {
            let text = option_text(word, &["--profile"]);
            return (!word.dynamic).then(|| text.to_string());
        }
        if self.has("--release") || self.has("-r") || self.subcommand == "install" {
            return Some("release".to_string());
        }
        Some("dev".to_string())
    }

    /// The `--target` triple, when given and static.
    pub fn target(&self) -> Option<&str> {
        let word = option_value(self.own_args(), &["--target"])?;
        (!word.dynamic).then(|| option_text(word, &["--target"]))
    }

    /// The packages and features the command builds (`-p`, `--features`/`-F`,
    /// `--all-features`, `--no-default-features`). Features given by an expansion the tool
    /// cannot read count as `--all-features`, so that no code is left out.
    pub fn selection(&self) -> Selection {
        let mut selection = Selection {
            runs: matches!(self.subcommand, "run" | "r"),
            ..Selection::default()
        };
        let args = self.own_args();
        let mut i = 0;
        while i < args.len() {
            let word = &args[i];
            let text = word.text.as_str();
            let (name, inline) = match text.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (text, None),
            };
            let value = |i: &mut usize| match inline {
                Some(value) => Some((value.to_string(), word.dynamic)),
                None => {
                    *i += 1;
                    args.get(*i).map(|w| (w.text.clone(), w.dynamic))
                }
            };
            match name {
                "--all-features" => selection.all_features = true,
                "--workspace" | "--all" => selection.workspace = true,
                "--no-default-features" => selection.no_default_features = true,
                "--features" | "-F" => {
                    if let Some((list, dynamic)) = value(&mut i) {
                        if dynamic {
                            selection.all_features = true;
                        }
                        selection.features.extend(
                            list.split([',', ' '])
                                .filter(|f| !f.is_empty())
                                .map(str::to_string),
                        );
                    }
                }
                "--path" if self.subcommand == "install" => {
                    if let Some((path, dynamic)) = value(&mut i)
                        && !dynamic
                    {
                        selection.install_path = Some(path);
                    }
                }
                "-p" | "--package" => {
                    if let Some((package, dynamic)) = value(&mut i)
                        && !dynamic
                    {
                        selection.packages.push(package);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        selection
    }
}

/// What a cargo command selects to build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `-p` packages (empty: the workspace's default).
    pub packages: Vec<String>,
    /// `--features` (a `dep/feature` is kept as written).
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    /// `--workspace`: every member, not the default ones.
    pub workspace: bool,
    /// `cargo install --path DIR`: the package there, as written.
    pub install_path: Option<String>,
    /// `cargo run`: what it builds is run, not shipped.
    pub runs: bool,
}

/// True for cargo and the tools that take its command line.
pub fn is_cargo_program(name: &str) -> bool {
    matches!(
        name,
        "cargo" | "cross" | "cargo-zigbuild" | "cargo-auditable"
    )
}

/// The cargo invocation of a command, or `None` when it is not one.
pub fn cargo_call(command: &Command) -> Option<CargoCall<'_>> {
    let program = command.program_name();
    if !is_cargo_program(program) || command.program().dynamic {
        return None;
    }
    call_of(command, program)
}

/// A command whose program the tool cannot tell (`$BUILD_CMD build --release`,
/// `{{cargo-bin}} build`) and that reads like a cargo build: its first argument is a build
/// subcommand. Rules say what they cannot tell about it.
pub fn unknown_cargo_call(command: &Command) -> Option<CargoCall<'_>> {
    if !command.program().dynamic {
        return None;
    }
    let call = call_of(command, command.program().text.as_str())?;
    // `install` and `run` are too common elsewhere (`$PKG install`, `$DOCKER run`).
    let builds = matches!(call.subcommand, "build" | "b" | "rustc" | "zigbuild");
    (builds && call.args[0].text == call.subcommand).then_some(call)
}

/// The values a program given as a variable can take, for messages: "`cross`, `cargo`".
pub fn program_values(command: &Command) -> Option<String> {
    let values = &command.program().values;
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn call_of<'a>(command: &'a Command, program: &'a str) -> Option<CargoCall<'a>> {
    let args = command.args();
    let mut index = 0;
    let mut toolchain = None;
    while let Some(word) = args.get(index) {
        if word.text.starts_with('+') {
            toolchain = Some(word);
            index += 1;
        } else if word.text.starts_with('-') {
            index += if OPTIONS_WITH_VALUE.contains(&word.text.as_str()) {
                2
            } else {
                1
            };
        } else {
            break;
        }
    }
    let mut subcommand = args.get(index)?.text.as_str();
    if program == "cargo-zigbuild" && subcommand != "zigbuild" {
        // `cargo-zigbuild build`: the plugin run directly.
    } else if matches!(subcommand, "auditable" | "zigbuild") {
        match args.get(index + 1) {
            Some(next) if !next.text.starts_with('-') && subcommand == "auditable" => {
                subcommand = next.text.as_str();
                index += 1;
            }
            _ if subcommand == "zigbuild" => subcommand = "build",
            _ => return None,
        }
    }
    Some(CargoCall {
        program,
        subcommand,
        toolchain,
        args,
        rest: &args[index + 1..],
    })
}

/// True when a command builds release bytes: a cargo build, `dist build`, `cargo repro build`,
/// `nix build`, an image build.
pub fn is_build(command: &Command) -> bool {
    if let Some(call) = cargo_call(command) {
        return call.builds() && !call.installs_remote()
            || matches!(
                call.subcommand,
                "dist" | "repro" | "deb" | "generate-rpm" | "bundle" | "packager"
            );
    }
    let args: Vec<&str> = command.args().iter().map(|w| w.text.as_str()).collect();
    match command.program_name() {
        "dist" | "cargo-dist" => args.first() == Some(&"build"),
        "docker" | "podman" | "buildah" => {
            args.iter().take(2).any(|a| matches!(*a, "build" | "bud"))
        }
        "nix" => args.first() == Some(&"build"),
        "goreleaser" => true,
        _ => false,
    }
}
