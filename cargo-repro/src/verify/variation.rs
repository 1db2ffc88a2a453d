//! The conditions that differ between the runs of `cargo repro verify`, and the concrete
//! setting of each for a given run.
//!
//! Run 1 is the baseline: a copy of the checkout, the caller's `CARGO_HOME`, `HOME`, time
//! zone and locale, umask 022, cargo's default job count, sorted file creation. Each later run
//! changes what its [`Variation`]s say. None of them needs root, a container, FUSE or faketime;
//! time varies by itself, since the runs happen one after the other.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One condition varied in the second and later runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Variation {
    /// The checkout is copied to another path (of another length and depth).
    Path,
    /// `CARGO_HOME` is reached through another path (a symlink to the same cache, so nothing is
    /// downloaded again).
    CargoHome,
    /// `HOME` is another, empty directory.
    Home,
    /// `TZ` is a zone with an unusual offset.
    Tz,
    /// `LANG` is a French UTF-8 locale.
    Locale,
    /// The copy is made, and the build started, under umask 077.
    Umask,
    /// Cargo runs with another job count (`CARGO_BUILD_JOBS`).
    Jobs,
    /// The files of the copy are created in reverse order (directory listings differ).
    FileOrder,
}

impl Variation {
    /// Every variation, in order.
    pub const ALL: [Variation; 8] = [
        Variation::Path,
        Variation::CargoHome,
        Variation::Home,
        Variation::Tz,
        Variation::Locale,
        Variation::Umask,
        Variation::Jobs,
        Variation::FileOrder,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Variation::Path => "path",
            Variation::CargoHome => "cargo-home",
            Variation::Home => "home",
            Variation::Tz => "tz",
            Variation::Locale => "locale",
            Variation::Umask => "umask",
            Variation::Jobs => "jobs",
            Variation::FileOrder => "file-order",
        }
    }
}

/// The concrete conditions of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSetup {
    /// 1-based.
    pub index: u32,
    /// Where the checkout is copied and built.
    pub location: PathBuf,
    /// `CARGO_HOME` for the run: the caller's, or a symlink to it.
    pub cargo_home: PathBuf,
    /// `HOME` for the run (`None`: the caller's).
    pub home: Option<PathBuf>,
    /// `TZ` (`None`: the caller's).
    pub tz: Option<&'static str>,
    /// `LANG` (`None`: the caller's).
    pub lang: Option<&'static str>,
    /// The umask of the copy and the build.
    pub umask: u32,
    /// `CARGO_BUILD_JOBS` (`None`: cargo's default).
    pub jobs: Option<usize>,
    /// Whether the copy creates files in reverse order.
    pub reverse_file_order: bool,
    /// The variations this run applies (empty for run 1).
    pub varied: BTreeSet<Variation>,
}

/// Zones with offsets that are not whole hours, so a time-zone leak cannot hide.
const ZONES: [&str; 3] = ["Pacific/Chatham", "Asia/Kathmandu", "America/St_Johns"];

impl RunSetup {
    /// The setup of run `index` (1-based) under `verify_dir`, varying `variations`.
    pub fn new(
        index: u32,
        variations: &BTreeSet<Variation>,
        verify_dir: &Path,
        cargo_home: &Path,
        cpus: usize,
    ) -> RunSetup {
        let varied = |v: Variation| index > 1 && variations.contains(&v);
        RunSetup {
            index,
            location: if varied(Variation::Path) {
                verify_dir
                    .join(format!("elsewhere-{index}"))
                    .join("a-longer-path")
                    .join("src")
            } else {
                verify_dir.join("checkout")
            },
            cargo_home: if varied(Variation::CargoHome) {
                verify_dir.join(format!("cargo-home-{index}"))
            } else {
                cargo_home.to_path_buf()
            },
            home: varied(Variation::Home).then(|| verify_dir.join(format!("home-{index}"))),
            tz: varied(Variation::Tz).then(|| ZONES[index as usize % ZONES.len()]),
            lang: varied(Variation::Locale).then_some("fr_FR.UTF-8"),
            umask: if varied(Variation::Umask) {
                0o077
            } else {
                0o022
            },
            jobs: varied(Variation::Jobs).then(|| cpus * 2 + index as usize - 2),
            reverse_file_order: varied(Variation::FileOrder),
            varied: variations.iter().copied().filter(|&v| varied(v)).collect(),
        }
    }

    /// Where the run's outputs are kept once it has finished (the location is freed for the
    /// next run when the path does not vary).
    pub fn kept_at(&self, verify_dir: &Path) -> PathBuf {
        verify_dir.join(format!("run-{}", self.index))
    }

    /// A one-line description for the progress output (no absolute paths).
    pub fn describe(&self) -> String {
        if self.index == 1 {
            return "baseline".to_string();
        }
        let parts: Vec<String> = self
            .varied
            .iter()
            .map(|variation| match variation {
                Variation::Path => "another checkout path".to_string(),
                Variation::CargoHome => "CARGO_HOME through a symlink".to_string(),
                Variation::Home => "another HOME".to_string(),
                Variation::Tz => format!("TZ={}", self.tz.unwrap_or("?")),
                Variation::Locale => format!("LANG={}", self.lang.unwrap_or("?")),
                Variation::Umask => format!("umask {:03o}", self.umask),
                Variation::Jobs => format!("{} jobs", self.jobs.unwrap_or(0)),
                Variation::FileOrder => "files created in reverse order".to_string(),
            })
            .collect();
        if parts.is_empty() {
            "no variation".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_varies_nothing() {
        let all: BTreeSet<_> = Variation::ALL.into_iter().collect();
        let setup = RunSetup::new(1, &all, Path::new("/v"), Path::new("/h/.cargo"), 2);
        assert_eq!(setup.location, Path::new("/v/checkout"));
        assert_eq!(setup.cargo_home, Path::new("/h/.cargo"));
        assert_eq!(setup.home, None);
        assert_eq!((setup.tz, setup.lang, setup.jobs), (None, None, None));
        assert_eq!(setup.umask, 0o022);
        assert!(!setup.reverse_file_order);
        assert_eq!(setup.describe(), "baseline");
    }

    #[test]
    fn later_runs_vary_only_what_is_asked() {
        let some: BTreeSet<_> = [Variation::Tz, Variation::Jobs].into_iter().collect();
        let setup = RunSetup::new(2, &some, Path::new("/v"), Path::new("/h/.cargo"), 2);
        assert_eq!(setup.location, Path::new("/v/checkout"));
        assert_eq!(setup.cargo_home, Path::new("/h/.cargo"));
        assert_eq!(setup.tz, Some("America/St_Johns"));
        assert_eq!(setup.jobs, Some(4));
        assert_eq!(setup.umask, 0o022);
        assert_eq!(setup.describe(), "TZ=America/St_Johns, 4 jobs");
        assert_eq!(
            RunSetup::new(2, &BTreeSet::new(), Path::new("/v"), Path::new("/h"), 2).describe(),
            "no variation"
        );

        let all: BTreeSet<_> = Variation::ALL.into_iter().collect();
        let setup = RunSetup::new(3, &all, Path::new("/v"), Path::new("/h/.cargo"), 2);
        assert_eq!(
            setup.location,
            Path::new("/v/elsewhere-3/a-longer-path/src")
        );
        assert_eq!(setup.cargo_home, Path::new("/v/cargo-home-3"));
        assert_eq!(setup.home.as_deref(), Some(Path::new("/v/home-3")));
        assert_eq!(setup.umask, 0o077);
        assert_eq!(setup.jobs, Some(5));
        assert!(setup.reverse_file_order);
    }

    #[test]
    fn names_match_the_command_line() {
        use clap::ValueEnum as _;
        for variation in Variation::ALL {
            let possible = variation.to_possible_value().unwrap();
            assert_eq!(possible.get_name(), variation.name());
            assert_eq!(
                serde_json::to_value(variation).unwrap(),
                serde_json::json!(variation.name())
            );
        }
    }
}
