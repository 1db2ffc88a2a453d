//! Which units differ between two runs, and which of them are culprits: units whose own
//! inputs (the earlier units of the same package and every unit of the packages it depends on)
//! are identical, yet whose outputs differ. The others differ only because of a culprit.

use std::collections::{BTreeMap, BTreeSet};

use super::units::{Unit, UnitKey};
use crate::workspace::graph::Graph;

/// `(name, version)` of a package.
pub type PackageRef = (String, String);

/// The dependency structure localisation needs, at package level.
#[derive(Clone, Debug, Default)]
pub struct PackageDeps {
    /// Every package each package depends on, directly or not (build and normal edges).
    pub transitive: BTreeMap<PackageRef, BTreeSet<PackageRef>>,
    /// Direct dependencies, for naming the proc-macros a crate uses.
    pub direct: BTreeMap<PackageRef, BTreeSet<PackageRef>>,
    /// The proc-macro packages.
    pub proc_macros: BTreeSet<PackageRef>,
}

impl PackageDeps {
    /// From the workspace's resolved graph (dev-only edges left out by the graph).
    pub fn from_graph(graph: &Graph) -> PackageDeps {
        let key = |i: usize| {
            let p = &graph.packages[i];
            (p.name.clone(), p.version.clone())
        };
        let mut forward: Vec<Vec<usize>> = vec![Vec::new(); graph.packages.len()];
        for (index, package) in graph.packages.iter().enumerate() {
            for &dependent in &package.dependents {
                forward[dependent].push(index);
            }
        }
        let mut deps = PackageDeps::default();
        for (index, package) in graph.packages.iter().enumerate() {
            if package.proc_macro_lib.is_some() {
                deps.proc_macros.insert(key(index));
            }
            deps.direct
                .insert(key(index), forward[index].iter().map(|&d| key(d)).collect());
            let mut seen = BTreeSet::new();
            let mut stack = forward[index].clone();
            while let Some(next) = stack.pop() {
                if seen.insert(next) {
                    stack.extend(forward[next].iter().copied());
                }
            }
            deps.transitive
                .insert(key(index), seen.into_iter().map(key).collect());
        }
        deps
    }

    /// The proc-macro crates `package` uses directly.
    pub fn macros_used_by(&self, package: &PackageRef) -> Vec<PackageRef> {
        self.direct
            .get(package)
            .map(|d| d.intersection(&self.proc_macros).cloned().collect())
            .unwrap_or_default()
    }
}

/// The outcome of comparing the units of two runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Localisation {
    /// Units whose files differ, sorted.
    pub differing: BTreeSet<UnitKey>,
    /// Differing units whose inputs are all identical, in dependency order.
    pub culprits: Vec<UnitKey>,
    /// Differing units with a differing input, sorted.
    pub consequences: Vec<UnitKey>,
    /// Units built in only one of the runs.
    pub unpaired: Vec<UnitKey>,
}

/// Compares the units of run `a` and run `b`.
pub fn localise(
    a: &BTreeMap<UnitKey, Unit>,
    b: &BTreeMap<UnitKey, Unit>,
    deps: &PackageDeps,
) -> Localisation {
    let mut result = Localisation::default();
    for (key, unit_a) in a {
        match b.get(key) {
            None => result.unpaired.push(key.clone()),
            Some(unit_b) if !same_files(unit_a, unit_b) => {
                result.differing.insert(key.clone());
            }
            Some(_) => {}
        }
    }
    result
        .unpaired
        .extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
    result.unpaired.sort();

    let no_deps = BTreeSet::new();
    for key in &result.differing {
        let package = (key.package.clone(), key.version.clone());
        let upstream = deps.transitive.get(&package).unwrap_or(&no_deps);
        let has_differing_input = result.differing.iter().any(|other| {
            other.precedes_in_package(key)
                || upstream.contains(&(other.package.clone(), other.version.clone()))
        });
        if has_differing_input {
            result.consequences.push(key.clone());
        } else {
            result.culprits.push(key.clone());
        }
    }
    // Dependency order: a crate with fewer dependencies comes first.
    result.culprits.sort_by_key(|key| {
        let package = (key.package.clone(), key.version.clone());
        (
            deps.transitive.get(&package).map_or(0, BTreeSet::len),
            key.clone(),
        )
    });
    result
}

fn same_files(a: &Unit, b: &Unit) -> bool {
    a.files.len() == b.files.len()
        && a.files
            .iter()
            .zip(&b.files)
            .all(|((la, fa), (lb, fb))| la == lb && fa.sha256 == fb.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::units::{UnitFile, UnitKind};

    fn key(package: &str, kind: UnitKind) -> UnitKey {
        UnitKey {
            package: package.into(),
            version: "1.0.0".into(),
            kind,
            target: package.into(),
            profile_dir: "release".into(),
        }
    }

    fn unit(hash: &str) -> Unit {
        let mut unit = Unit::default();
        unit.files.insert(
            "lib.rlib".into(),
            UnitFile {
                path: "/x".into(),
                sha256: hash.into(),
            },
        );
        unit
    }

    fn pkg(name: &str) -> PackageRef {
        (name.into(), "1.0.0".into())
    }

    /// app -> mid -> leaf; app -> macros (proc-macro).
    fn deps() -> PackageDeps {
        let mut deps = PackageDeps::default();
        deps.transitive
            .insert(pkg("app"), [pkg("mid"), pkg("leaf"), pkg("macros")].into());
        deps.transitive.insert(pkg("mid"), [pkg("leaf")].into());
        deps.transitive.insert(pkg("leaf"), BTreeSet::new());
        deps.transitive.insert(pkg("macros"), BTreeSet::new());
        deps.direct
            .insert(pkg("app"), [pkg("mid"), pkg("macros")].into());
        deps.proc_macros.insert(pkg("macros"));
        deps
    }

    #[test]
    fn the_first_differing_crate_is_the_culprit_and_its_dependents_are_consequences() {
        let run = |leaf: &str, mid: &str, app: &str| -> BTreeMap<UnitKey, Unit> {
            [
                (key("leaf", UnitKind::Lib), unit(leaf)),
                (key("mid", UnitKind::Lib), unit(mid)),
                (key("macros", UnitKind::Lib), unit("m")),
                (key("app", UnitKind::Bin), unit(app)),
            ]
            .into()
        };
        let found = localise(&run("1", "2", "3"), &run("1", "2x", "3x"), &deps());
        assert_eq!(found.culprits, [key("mid", UnitKind::Lib)]);
        assert_eq!(found.consequences, [key("app", UnitKind::Bin)]);
        assert!(found.unpaired.is_empty());
        assert_eq!(deps().macros_used_by(&pkg("app")), [pkg("macros")]);
    }

    #[test]
    fn a_build_script_run_makes_its_own_lib_a_consequence() {
        let run = |out: &str, lib: &str| -> BTreeMap<UnitKey, Unit> {
            [
                (key("leaf", UnitKind::BuildScript), unit("s")),
                (key("leaf", UnitKind::BuildScriptRun), unit(out)),
                (key("leaf", UnitKind::Lib), unit(lib)),
            ]
            .into()
        };
        let found = localise(&run("o1", "l1"), &run("o2", "l2"), &deps());
        assert_eq!(found.culprits, [key("leaf", UnitKind::BuildScriptRun)]);
        assert_eq!(found.consequences, [key("leaf", UnitKind::Lib)]);
    }

    #[test]
    fn identical_runs_have_no_culprit_and_unpaired_units_are_listed() {
        let a: BTreeMap<_, _> = [(key("leaf", UnitKind::Lib), unit("1"))].into();
        let mut b = a.clone();
        b.insert(key("mid", UnitKind::Lib), unit("2"));
        let found = localise(&a, &b, &deps());
        assert!(found.differing.is_empty() && found.culprits.is_empty());
        assert_eq!(found.unpaired, [key("mid", UnitKind::Lib)]);
    }
}
