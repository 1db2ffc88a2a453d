//! A bounded fuzz test: the readers of files anyone can commit (TOML manifests and configs,
//! Cargo.lock, the ledger, workflows, Dockerfiles, justfiles) get thousands of mutated inputs,
//! derived from real fixtures with a fixed seed; each must return a value or an error, never
//! panic. Deterministic and a few seconds long, so it runs in CI.

use std::path::{Path, PathBuf};

use cargo_repro::patch::ledger::Ledger;
use cargo_repro::workspace::entry_points::{dockerfile, justfile, workflow};
use cargo_repro::workspace::lockfile::Lockfile;
use cargo_repro::workspace::{SourceFile, TomlFile};

/// xorshift64*: a fixed sequence, so a failure is reproduced by running the test again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the grammars being fuzzed.
const INTERESTING: &[u8] = b"[]{}\"'=#\n\t\\$:-|>&;`.,/*0 \x00\xff";

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
            1 => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if at < bytes.len() => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 if at < bytes.len() => {
                let end = (at + rng.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

fn source(name: &str, bytes: &[u8]) -> SourceFile {
    SourceFile::new(
        name.to_string(),
        PathBuf::from(name),
        String::from_utf8_lossy(bytes).into_owned(),
    )
}

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const LEDGER: &str = "[i18n-embed-fl]\nversion = \"0.9.4\"\npath = \"vendor/i18n-embed-fl\"\ndiff = \"vendor/i18n-embed-fl.patch\"\nupstream-sha256 = \"99d4\"\ntree-sha256 = \"3f1c\"\nreason = \"fl! emits arguments in HashMap order\"\nresolves = [\"i18n-embed-fl-hashmap-args\"]\n";

/// A reader's name, its seed input, and the reader itself.
type Reader<'a> = (&'a str, Vec<u8>, &'a dyn Fn(&[u8]));

#[test]
fn readers_of_committed_files_never_panic_on_mutated_input() {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let readers: [Reader<'_>; 7] = [
        ("Cargo.toml", fixture("workspaces/messy/Cargo.toml"), &|b| {
            let _ = TomlFile::parse(source("Cargo.toml", b));
        }),
        ("Cargo.lock", fixture("workspaces/messy/Cargo.lock"), &|b| {
            if let Ok(toml) = TomlFile::parse(source("Cargo.lock", b)) {
                let _ = Lockfile::from_toml(toml);
            }
        }),
        ("vendor/patches.toml", LEDGER.as_bytes().to_vec(), &|b| {
            let _ = Ledger::parse(source("vendor/patches.toml", b));
        }),
        (
            "release.yml",
            fixture(
                "rules/archive-unnormalised/fail-platform-recipes/.github/workflows/release.yml",
            ),
            &|b| {
                let _ = workflow::parse(&source(".github/workflows/release.yml", b));
            },
        ),
        (
            "ci.yml",
            fixture("rules/known-nondeterministic-crate/fail-shadow-rs/.github/workflows/ci.yml"),
            &|b| {
                let _ = workflow::parse(&source(".github/workflows/ci.yml", b));
            },
        ),
        ("Dockerfile", fixture("workspaces/messy/Dockerfile"), &|b| {
            let _ = dockerfile::parse(&source("Dockerfile", b));
        }),
        (
            "justfile",
            fixture("rules/archive-unnormalised/fail-platform-recipes/justfile"),
            &|b| {
                let _ = justfile::parse(&source("justfile", b));
            },
        ),
    ];
    for (name, seed, read) in &readers {
        for round in 0..3000 {
            let input = mutate(seed, &mut rng);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&input)));
            assert!(
                result.is_ok(),
                "{name}: the reader panicked on mutation {round}: {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}
