//! SHA-256 checksum files in the format `sha256sum` prints and `sha256sum -c` reads.

use std::collections::BTreeMap;

use super::validate_name_segment;
use crate::patch::tree::sha256_hex;

/// The sidecar `<name>.sha256`: `"<sha256>  <name>\n"` (two spaces: text mode, as sha256sum
/// prints it).
pub fn sidecar(name: &str, bytes: &[u8]) -> anyhow::Result<String> {
    validate_name_segment(name)?;
    Ok(checksum_line(name, bytes))
}

/// `SHA256SUMS`: one line per artifact, sorted by name; a name given twice is an error.
pub fn sha256sums(artifacts: &[(&str, &[u8])]) -> anyhow::Result<String> {
    let mut by_name = BTreeMap::new();
    for (name, bytes) in artifacts {
        validate_name_segment(name)?;
        if by_name.insert(*name, *bytes).is_some() {
            anyhow::bail!("{name:?} is listed twice; every artifact needs its own name");
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, bytes)| checksum_line(name, bytes))
        .collect())
}

fn checksum_line(name: &str, bytes: &[u8]) -> String {
    format!("{}  {name}\n", sha256_hex(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::{ScratchDir, run};

    #[test]
    fn sidecar_matches_sha256sum() {
        assert_eq!(
            sidecar("empty", b"").unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n"
        );
        assert!(sidecar("../x", b"").is_err());
    }

    #[test]
    fn sha256sums_is_sorted_and_checks_with_the_real_tool() {
        let scratch = ScratchDir::new("checksums");
        let artifacts: [(&str, &[u8]); 3] = [
            ("tool-1.0.0-x86_64-unknown-linux-gnu.tar.gz", b"tarball"),
            ("tool_1.0.0_amd64.deb", b"deb"),
            ("provenance.intoto.json", b"{}\n"),
        ];
        for (name, bytes) in artifacts {
            std::fs::write(scratch.path().join(name), bytes).unwrap();
            let line = sidecar(name, bytes).unwrap();
            std::fs::write(scratch.path().join(format!("{name}.sha256")), line).unwrap();
            run(
                "sha256sum",
                &["-c", &format!("{name}.sha256")],
                scratch.path(),
            );
        }
        let sums = sha256sums(&artifacts).unwrap();
        let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            names,
            [
                "provenance.intoto.json",
                "tool-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
                "tool_1.0.0_amd64.deb"
            ]
        );
        std::fs::write(scratch.path().join("SHA256SUMS"), &sums).unwrap();
        let checked = run(
            "sha256sum",
            &["-c", "--strict", "SHA256SUMS"],
            scratch.path(),
        );
        assert_eq!(checked.matches(": OK").count(), 3, "{checked}");
    }

    #[test]
    fn a_name_given_twice_is_an_error() {
        let twice: [(&str, &[u8]); 2] = [("a", b"1"), ("a", b"2")];
        assert!(sha256sums(&twice).is_err());
    }
}
