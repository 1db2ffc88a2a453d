//! The result of a verification as data ([`VerifyReport`]), and its two renderings: the human
//! summary and JSON (`format_version` 1). Neither holds an absolute path or a wall-clock time
//! of the verifying machine; the evidence quoted from the builds has its paths replaced by
//! `$WORKSPACE`, `$TARGET`, `$CARGO_HOME` and `~`.

use serde::Serialize;

use super::integrity::IntegrityReport;
use super::units::UnitKind;
use super::variation::Variation;

/// Everything `cargo repro verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub format_version: u32,
    /// True when every output is identical in every run (and matches the published hashes).
    pub reproducible: bool,
    /// How many builds ran.
    pub runs: u32,
    /// The variations of the second and later runs.
    pub variations: Vec<Variation>,
    pub source_date_epoch: u64,
    /// Every compared output, sorted by kind and name.
    pub artifacts: Vec<ArtifactReport>,
    /// The units that differ although their inputs are identical, in dependency order.
    pub culprits: Vec<Culprit>,
    /// The crates that differ only because of a culprit.
    pub consequences: Vec<Consequence>,
    /// Units built in one run only (`name version (unit)`).
    pub unpaired_units: Vec<String>,
    /// What `--bisect` found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bisect: Option<Bisection>,
    /// The published file compared with (`--against`), by file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<String>,
    /// With `--against`: the published release's signatures and file hashes, checked first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<IntegrityReport>,
}

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Binary,
    ReleaseArtifact,
}

/// One output and its hash in each run.
#[derive(Clone, Debug, Serialize)]
pub struct ArtifactReport {
    pub name: String,
    pub kind: ArtifactKind,
    /// The sha256 per run (`null` where the run did not produce it); with `--against`, the
    /// published hash comes first.
    pub sha256: Vec<Option<String>>,
    pub identical: bool,
    /// How the first differing pair differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
}

/// A unit whose inputs are identical in both runs but whose outputs differ.
#[derive(Clone, Debug, Serialize)]
pub struct Culprit {
    #[serde(rename = "crate")]
    pub krate: String,
    pub version: String,
    pub unit: UnitKind,
    /// The kind of difference: `timestamp`, `build-path`, `cargo-home`, `home-directory`,
    /// `target-dir`, `ordering`, `proc-macro-expansion` or `unknown`.
    pub kind: String,
    /// What shows it: the differing files, sections and strings.
    pub evidence: Vec<String>,
    /// The proc-macro crates the crate uses, when the difference is in their expansion.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub macros: Vec<String>,
    /// The likely fix.
    pub fix: String,
}

/// A crate that differs only because of a culprit.
#[derive(Clone, Debug, Serialize)]
pub struct Consequence {
    #[serde(rename = "crate")]
    pub krate: String,
    pub version: String,
    pub units: Vec<UnitKind>,
}

/// Which variation makes the difference.
#[derive(Clone, Debug, Serialize)]
pub struct Bisection {
    /// The smallest set of variations found to reproduce the difference; empty when the runs
    /// differ with no variation at all (time or randomness).
    pub cause: Vec<Variation>,
    /// One line per trial build: the variations and whether the outputs differed.
    pub trials: Vec<String>,
}

impl VerifyReport {
    /// The report of compared outputs, before any diagnosis: reproducible when every output is
    /// identical.
    pub fn of_outputs(
        runs: u32,
        variations: Vec<Variation>,
        source_date_epoch: u64,
        artifacts: Vec<ArtifactReport>,
    ) -> VerifyReport {
        VerifyReport {
            format_version: 1,
            reproducible: artifacts.iter().all(|a| a.identical),
            runs,
            variations,
            source_date_epoch,
            artifacts,
            culprits: Vec::new(),
            consequences: Vec::new(),
            unpaired_units: Vec::new(),
            bisect: None,
            against: None,
            published: None,
        }
    }

    /// The report of a published release that fails its own checks (a bad signature, a
    /// changed file): not rebuilt, since its hashes cannot be trusted.
    pub fn not_intact(
        against: &str,
        source_date_epoch: u64,
        published: IntegrityReport,
    ) -> VerifyReport {
        VerifyReport {
            reproducible: false,
            against: Some(against.to_string()),
            published: Some(published),
            ..VerifyReport::of_outputs(0, Vec::new(), source_date_epoch, Vec::new())
        }
    }

    /// True when `--against` found a bad signature or a changed published file.
    pub fn published_not_intact(&self) -> bool {
        self.published.as_ref().is_some_and(|p| !p.intact)
    }

    /// The JSON rendering, with a final newline.
    pub fn render_json(&self) -> anyhow::Result<String> {
        Ok(format!("{}\n", serde_json::to_string_pretty(self)?))
    }

    /// The human rendering.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        let differing = self.artifacts.iter().filter(|a| !a.identical).count();
        let compared = match &self.against {
            Some(file) => format!("the rebuild and {file}"),
            None => format!("{} runs", self.runs),
        };
        if let (Some(published), Some(file)) = (&self.published, &self.against)
            && !published.intact
        {
            line(format!(
                "NOT INTACT: the published release fails its own checks ({}); not rebuilt",
                published.failures()
            ));
            for text in published.render_lines(file) {
                line(text);
            }
            return out;
        }
        if self.reproducible {
            line(format!(
                "reproducible: {} output{} identical across {compared}",
                self.artifacts.len(),
                plural(self.artifacts.len())
            ));
        } else {
            line(format!(
                "NOT REPRODUCIBLE: {differing} of {} compared outputs differ between {compared}",
                self.artifacts.len(),
            ));
        }
        if let (Some(published), Some(file)) = (&self.published, &self.against) {
            for text in published.render_lines(file) {
                line(text);
            }
        }
        for artifact in &self.artifacts {
            let hashes: Vec<String> = artifact
                .sha256
                .iter()
                .map(|h| h.as_deref().map_or("(missing)".to_string(), short))
                .collect();
            let status = if artifact.identical {
                "same"
            } else {
                "DIFFERS"
            };
            line(format!(
                "  {status:7} {} ({}) sha256 {}",
                artifact.name,
                match artifact.kind {
                    ArtifactKind::Binary => "binary",
                    ArtifactKind::ReleaseArtifact => "artifact",
                },
                hashes.join(" vs ")
            ));
            for difference in &artifact.differences {
                line(format!("            {difference}"));
            }
        }
        for culprit in &self.culprits {
            line(format!(
                "culprit: {} {} ({}): {}",
                culprit.krate,
                culprit.version,
                culprit.unit.describe(),
                culprit.kind
            ));
            for evidence in &culprit.evidence {
                line(format!("  {evidence}"));
            }
            if !culprit.macros.is_empty() {
                line(format!("  proc-macros used: {}", culprit.macros.join(", ")));
            }
            line(format!("  fix: {}", culprit.fix));
        }
        if !self.consequences.is_empty() {
            let names: Vec<String> = self
                .consequences
                .iter()
                .map(|c| {
                    let units: Vec<&str> = c.units.iter().map(|u| u.describe()).collect();
                    format!("{} {} ({})", c.krate, c.version, units.join(", "))
                })
                .collect();
            line(format!(
                "differ only because of a culprit: {}",
                names.join("; ")
            ));
        }
        if !self.unpaired_units.is_empty() {
            line(format!(
                "built in one run only: {}",
                self.unpaired_units.join("; ")
            ));
        }
        if let Some(bisect) = &self.bisect {
            for trial in &bisect.trials {
                line(format!("bisect: {trial}"));
            }
            line(if bisect.cause.is_empty() {
                "bisect: the outputs differ with no variation at all: the build depends on the time or on randomness".to_string()
            } else {
                format!("bisect: caused by {}", names(&bisect.cause))
            });
        }
        if self.against.is_none() {
            line(format!(
                "variations: {}; SOURCE_DATE_EPOCH={}",
                if self.variations.is_empty() {
                    "none (time only)".to_string()
                } else {
                    names(&self.variations)
                },
                self.source_date_epoch
            ));
        }
        out
    }
}

/// Variation names, comma-separated.
pub fn names(variations: &[Variation]) -> String {
    variations
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The first 16 hex digits of a hash.
fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> VerifyReport {
        VerifyReport {
            format_version: 1,
            reproducible: false,
            runs: 2,
            variations: vec![Variation::Path, Variation::Tz],
            source_date_epoch: 1_767_225_600,
            artifacts: vec![ArtifactReport {
                name: "app".into(),
                kind: ArtifactKind::Binary,
                sha256: vec![Some("a".repeat(64)), Some("b".repeat(64))],
                identical: false,
                differences: vec!["ELF sections differ: .rodata".into()],
            }],
            culprits: vec![Culprit {
                krate: "stamp".into(),
                version: "0.1.0".into(),
                unit: UnitKind::BuildScriptRun,
                kind: "timestamp".into(),
                evidence: vec!["OUT_DIR/built.rs differs".into()],
                macros: vec![],
                fix: "use SOURCE_DATE_EPOCH".into(),
            }],
            consequences: vec![Consequence {
                krate: "app".into(),
                version: "0.1.0".into(),
                units: vec![UnitKind::Bin],
            }],
            unpaired_units: vec![],
            bisect: None,
            against: None,
            published: None,
        }
    }

    #[test]
    fn json_has_the_documented_fields() {
        let json: serde_json::Value =
            serde_json::from_str(&report().render_json().unwrap()).unwrap();
        assert_eq!(json["reproducible"], false);
        assert_eq!(json["artifacts"][0]["name"], "app");
        assert_eq!(json["artifacts"][0]["sha256"].as_array().unwrap().len(), 2);
        assert_eq!(json["culprits"][0]["crate"], "stamp");
        assert_eq!(json["culprits"][0]["kind"], "timestamp");
        assert_eq!(json["culprits"][0]["unit"], "build-script-run");
        assert_eq!(json["variations"], serde_json::json!(["path", "tz"]));
        assert!(json.get("bisect").is_none());
    }

    #[test]
    fn human_names_the_culprit_and_the_fix() {
        let text = report().render_human();
        assert!(
            text.starts_with("NOT REPRODUCIBLE: 1 of 1 compared outputs differ between 2 runs\n")
        );
        assert!(text.contains("culprit: stamp 0.1.0 (build script output): timestamp\n"));
        assert!(text.contains("  fix: use SOURCE_DATE_EPOCH\n"));
        assert!(text.contains("differ only because of a culprit: app 0.1.0 (bin)\n"));
        assert!(text.contains("variations: path, tz; SOURCE_DATE_EPOCH=1767225600\n"));
    }
}
