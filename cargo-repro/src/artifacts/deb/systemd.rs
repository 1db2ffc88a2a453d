//! systemd units in a .deb: which files of a unit directory are units and where they are
//! installed, and the maintainer-script snippets that enable, start, stop and purge them,
//! as `dh_installsystemd` (debhelper 13) and cargo-deb write them.
//!
//! Snippets replace the `#DEBHELPER#` line of a given script; a script that is not given is
//! written as `#!/bin/sh`, `set -e` and the snippets. A given script without the token gets
//! no snippet, as with debhelper, and the caller is told.

use std::collections::BTreeMap;

use super::metadata::SystemdUnits;

/// Where unit files are installed (Debian 12; debhelper moves them under `/usr` from 13 on,
/// and `/lib` is a link to `/usr/lib` on every merged-usr system).
pub const UNIT_DIR: &str = "lib/systemd/system";

/// The unit types a package may ship.
const UNIT_SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "timer",
    "path",
    "target",
    "mount",
    "automount",
    "swap",
    "slice",
];

/// A unit file to install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Its installed name (`zecd.service`, `zecd@.service`).
    pub name: String,
    pub bytes: Vec<u8>,
    /// A template (`name@.service`): installed, never enabled or started.
    pub template: bool,
    /// Has an `[Install]` section: enabling it means something.
    pub installable: bool,
}

/// The units among `files` (file name, bytes) of a unit directory, for `package`: files named
/// `BASE.TYPE` or `BASE@.TYPE` (BASE is `unit-name`, else the package name), and
/// `PACKAGE.NAME.TYPE`, installed as `NAME.TYPE`; sorted by installed name.
pub fn select_units(
    files: &[(String, Vec<u8>)],
    package: &str,
    settings: &SystemdUnits,
) -> Vec<Unit> {
    let base = settings.unit_name.as_deref().unwrap_or(package);
    let mut units = BTreeMap::new();
    for (file_name, bytes) in files {
        let Some((stem, suffix)) = file_name.rsplit_once('.') else {
            continue;
        };
        if !UNIT_SUFFIXES.contains(&suffix) {
            continue;
        }
        let installed = if stem == base || stem == format!("{base}@") {
            Some(file_name.clone())
        } else if settings.unit_name.is_none() {
            stem.strip_prefix(&format!("{package}."))
                .filter(|name| !name.is_empty())
                .map(|name| format!("{name}.{suffix}"))
        } else {
            None
        };
        if let Some(name) = installed {
            let text = String::from_utf8_lossy(bytes);
            units.insert(
                name.clone(),
                Unit {
                    template: name.contains("@."),
                    installable: text.lines().any(|l| l.trim() == "[Install]"),
                    name,
                    bytes: bytes.clone(),
                },
            );
        }
    }
    units.into_values().collect()
}

/// The snippets for `units` by maintainer script (`postinst`, `prerm`, `postrm`), each
/// already wrapped in debhelper's "Automatically added" markers.
pub fn snippets(units: &[Unit], settings: &SystemdUnits) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let wrap = |body: String| {
        format!(
            "# Automatically added by cargo-repro (as dh_installsystemd)\n{body}# End automatically added section\n"
        )
    };
    const CONFIGURE: &str = r#"if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then"#;
    let active: Vec<&Unit> = units.iter().filter(|u| !u.template).collect();
    for unit in active.iter().filter(|u| u.installable) {
        let name = &unit.name;
        let body = if settings.enable {
            format!(
                "{CONFIGURE}\n\t# This will only remove masks created by deb-systemd-helper on package removal.\n\tdeb-systemd-helper unmask '{name}' >/dev/null || true\n\n\t# was-enabled defaults to true, so new installations run enable.\n\tif deb-systemd-helper --quiet was-enabled '{name}'; then\n\t\t# Enables the unit on first installation, creates new\n\t\t# symlinks on upgrades if the unit file has changed.\n\t\tdeb-systemd-helper enable '{name}' >/dev/null || true\n\telse\n\t\t# Update the statefile to add new symlinks (if any), which need to be\n\t\t# cleaned up on purge. Also remove old symlinks.\n\t\tdeb-systemd-helper update-state '{name}' >/dev/null || true\n\tfi\nfi\n"
            )
        } else {
            format!(
                "{CONFIGURE}\n\tdeb-systemd-helper update-state '{name}' >/dev/null || true\nfi\n"
            )
        };
        out.entry("postinst").or_default().push(wrap(body));
    }
    let names: Vec<String> = active.iter().map(|u| format!("'{}'", u.name)).collect();
    if !names.is_empty() {
        let names = names.join(" ");
        if settings.start {
            let upgrade_action = if settings.restart_after_upgrade {
                "restart"
            } else {
                "start"
            };
            out.entry("postinst").or_default().push(wrap(format!(
                "{CONFIGURE}\n\tif [ -d /run/systemd/system ]; then\n\t\tsystemctl --system daemon-reload >/dev/null || true\n\t\tif [ -n \"$2\" ]; then\n\t\t\t_dh_action={upgrade_action}\n\t\telse\n\t\t\t_dh_action=start\n\t\tfi\n\t\tdeb-systemd-invoke $_dh_action {names} >/dev/null || true\n\tfi\nfi\n"
            )));
            let when = if !settings.restart_after_upgrade && settings.stop_on_upgrade {
                ""
            } else {
                " && [ \"$1\" = remove ]"
            };
            out.entry("prerm").or_default().push(wrap(format!(
                "if [ -z \"${{DPKG_ROOT:-}}\" ]{when} && [ -d /run/systemd/system ] ; then\n\tdeb-systemd-invoke stop {names} >/dev/null || true\nfi\n"
            )));
        }
        out.entry("postrm").or_default().push(wrap(
            "if [ \"$1\" = remove ] && [ -d /run/systemd/system ] ; then\n\tsystemctl --system daemon-reload >/dev/null || true\nfi\n".to_string(),
        ));
    }
    for unit in active.iter().filter(|u| u.installable) {
        let name = &unit.name;
        out.entry("postrm").or_default().push(wrap(format!(
            "if [ \"$1\" = \"remove\" ]; then\n\tif [ -x \"/usr/bin/deb-systemd-helper\" ]; then\n\t\tdeb-systemd-helper mask '{name}' >/dev/null || true\n\tfi\nfi\n\nif [ \"$1\" = \"purge\" ]; then\n\tif [ -x \"/usr/bin/deb-systemd-helper\" ]; then\n\t\tdeb-systemd-helper purge '{name}' >/dev/null || true\n\t\tdeb-systemd-helper unmask '{name}' >/dev/null || true\n\tfi\nfi\n"
        )));
    }
    out
}

/// The maintainer scripts with the snippets in: a given script's `#DEBHELPER#` line replaced
/// by its snippets (removed when there are none), a missing script generated when it has
/// snippets. Returns the scripts and, for given scripts that had snippets but no token, a
/// warning each.
pub fn merge_scripts(
    given: &BTreeMap<String, String>,
    snippets: &BTreeMap<&'static str, Vec<String>>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut scripts = BTreeMap::new();
    let mut warnings = Vec::new();
    for (name, text) in given {
        let added = snippets
            .get(name.as_str())
            .map(|s| s.concat())
            .unwrap_or_default();
        if text.lines().any(|l| l.trim() == "#DEBHELPER#") {
            let merged: String = text
                .split_inclusive('\n')
                .map(|line| {
                    if line.trim() == "#DEBHELPER#" {
                        added.clone()
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            scripts.insert(name.clone(), merged);
        } else {
            if !added.is_empty() {
                warnings.push(format!(
                    "maintainer script {name} has no `#DEBHELPER#` line, so the systemd snippets for it are not added; put `#DEBHELPER#` where they belong"
                ));
            }
            scripts.insert(name.clone(), text.clone());
        }
    }
    for (name, parts) in snippets {
        if !scripts.contains_key(*name) {
            scripts.insert(
                name.to_string(),
                format!("#!/bin/sh\nset -e\n{}", parts.concat()),
            );
        }
    }
    (scripts, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "zecd.service".to_string(),
                b"[Unit]\n[Service]\n[Install]\nWantedBy=multi-user.target\n".to_vec(),
            ),
            ("zecd@.service".to_string(), b"[Service]\n".to_vec()),
            (
                "zecd.backup.timer".to_string(),
                b"[Timer]\n[Install]\n".to_vec(),
            ),
            ("postinst".to_string(), b"#!/bin/sh\n".to_vec()),
            ("other.service".to_string(), b"[Service]\n".to_vec()),
        ]
    }

    #[test]
    fn units_are_chosen_by_name_as_debhelper_does() {
        let units = select_units(&files(), "zecd", &SystemdUnits::default());
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["backup.timer", "zecd.service", "zecd@.service"]);
        assert!(units[2].template && !units[2].installable);
    }

    #[test]
    fn snippets_go_where_the_token_is_and_scripts_are_generated() {
        let units = select_units(&files(), "zecd", &SystemdUnits::default());
        let snippets = snippets(&units, &SystemdUnits::default());
        assert_eq!(
            snippets.keys().copied().collect::<Vec<_>>(),
            ["postinst", "postrm", "prerm"]
        );
        let given = BTreeMap::from([
            (
                "postinst".to_string(),
                "#!/bin/sh\nset -e\nadduser zecd\n#DEBHELPER#\nexit 0\n".to_string(),
            ),
            ("preinst".to_string(), "#!/bin/sh\nexit 0\n".to_string()),
        ]);
        let (scripts, warnings) = merge_scripts(&given, &snippets);
        assert!(warnings.is_empty(), "{warnings:?}");
        let postinst = &scripts["postinst"];
        assert!(postinst.starts_with("#!/bin/sh\nset -e\nadduser zecd\n# Automatically added"));
        assert!(postinst.contains("deb-systemd-helper enable 'zecd.service'"));
        assert!(postinst.contains("deb-systemd-invoke $_dh_action 'backup.timer' 'zecd.service'"));
        assert!(postinst.ends_with("# End automatically added section\nexit 0\n"));
        assert!(!postinst.contains("zecd@.service"));
        assert!(scripts["prerm"].starts_with("#!/bin/sh\nset -e\n"));
        assert!(scripts["prerm"].contains("[ \"$1\" = remove ]"));
        assert_eq!(scripts["preinst"], "#!/bin/sh\nexit 0\n");
    }

    #[test]
    fn a_script_without_the_token_is_kept_and_reported() {
        let units = select_units(&files(), "zecd", &SystemdUnits::default());
        let given = BTreeMap::from([("postinst".to_string(), "#!/bin/sh\nexit 0\n".to_string())]);
        let (scripts, warnings) =
            merge_scripts(&given, &snippets(&units, &SystemdUnits::default()));
        assert_eq!(scripts["postinst"], "#!/bin/sh\nexit 0\n");
        assert_eq!(warnings.len(), 1);
    }
}
