//! The `cargo-repro` binary: cargo runs it as `cargo-repro repro …` for `cargo repro …`.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cargo_repro::main_with_args(std::env::args_os().collect()))
}
