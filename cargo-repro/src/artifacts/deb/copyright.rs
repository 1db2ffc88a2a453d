//! `usr/share/doc/PACKAGE/copyright` in Debian's machine-readable format (DEP-5), generated
//! from `license` and the licence text when the package gives no copyright file of its own.

/// The licences whose full text every Debian system has in `/usr/share/common-licenses`, by
/// SPDX identifier, with that file's name.
const COMMON_LICENSES: &[(&str, &str)] = &[
    ("Apache-2.0", "Apache-2.0"),
    ("Artistic-1.0", "Artistic"),
    ("BSD-3-Clause", "BSD"),
    ("CC0-1.0", "CC0-1.0"),
    ("GFDL-1.3-only", "GFDL-1.3"),
    ("GPL-1.0-only", "GPL-1"),
    ("GPL-2.0-only", "GPL-2"),
    ("GPL-2.0-or-later", "GPL-2"),
    ("GPL-3.0-only", "GPL-3"),
    ("GPL-3.0-or-later", "GPL-3"),
    ("LGPL-2.0-only", "LGPL-2"),
    ("LGPL-2.1-only", "LGPL-2.1"),
    ("LGPL-2.1-or-later", "LGPL-2.1"),
    ("LGPL-3.0-only", "LGPL-3"),
    ("LGPL-3.0-or-later", "LGPL-3"),
    ("MPL-1.1", "MPL-1.1"),
    ("MPL-2.0", "MPL-2.0"),
];

/// What the copyright file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copyright {
    pub upstream_name: String,
    /// Where the source comes from (the repository or homepage).
    pub source: Option<String>,
    /// The `Copyright:` holders (cargo-deb's `copyright` key, else the authors).
    pub holders: Vec<String>,
    /// The SPDX expression (`MIT OR Apache-2.0`); `None` when only a licence file is given.
    pub license: Option<String>,
    /// The licence texts (from `license-file` or the package's `LICENSE*` files), by name.
    pub texts: Vec<(String, String)>,
}

impl Copyright {
    /// The DEP-5 text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
        );
        out.push_str(&format!(
            "Upstream-Name: {}\n",
            one_line(&self.upstream_name)
        ));
        if let Some(source) = &self.source {
            out.push_str(&format!("Source: {}\n", one_line(source)));
        }
        out.push_str("\nFiles: *\n");
        let holders: Vec<String> = self.holders.iter().map(|h| one_line(h)).collect();
        out.push_str(&format!(
            "Copyright: {}\n",
            if holders.is_empty() {
                format!("the {} authors", one_line(&self.upstream_name))
            } else {
                holders.join("\n           ")
            }
        ));
        let expression = self
            .license
            .as_deref()
            .map(dep5_expression)
            .unwrap_or_else(|| "custom".to_string());
        out.push_str(&format!("License: {expression}\n"));
        let identifiers = self.license.as_deref().map(identifiers).unwrap_or_default();
        if self.texts.is_empty() {
            if identifiers.is_empty() {
                out.push_str(" The licence text is not included in the package.\n");
            }
            // Each licence gets its own paragraph below, pointing at the common copy.
        } else {
            let mut first = true;
            for (name, text) in &self.texts {
                if !first {
                    out.push_str(" .\n");
                }
                first = false;
                if self.texts.len() > 1 {
                    out.push_str(&format!(" {}:\n .\n", one_line(name)));
                }
                out.push_str(&indented(text));
            }
        }
        if self.texts.is_empty() {
            for identifier in identifiers {
                out.push_str(&format!("\nLicense: {identifier}\n"));
                match COMMON_LICENSES.iter().find(|(spdx, _)| *spdx == identifier) {
                    Some((_, common)) => out.push_str(&format!(
                        " On Debian systems, the complete text of this licence is in\n \"/usr/share/common-licenses/{common}\".\n"
                    )),
                    None => out.push_str(&format!(
                        " See https://spdx.org/licenses/{identifier}.html for the text of this licence.\n"
                    )),
                }
            }
        }
        out
    }
}

/// An SPDX expression in DEP-5's spelling: `or`, `and` and `with` in lower case.
fn dep5_expression(expression: &str) -> String {
    // `MIT/Apache-2.0`, the old crates.io spelling, is `MIT OR Apache-2.0`.
    one_line(&expression.replace('/', " OR "))
        .split_whitespace()
        .map(|word| match word {
            "OR" => "or",
            "AND" => "and",
            "WITH" => "with",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The licence identifiers of an SPDX expression, sorted, without operators or parentheses.
fn identifiers(expression: &str) -> Vec<String> {
    let mut ids: Vec<String> = expression
        .split(|c: char| c.is_whitespace() || "()/".contains(c))
        .filter(|w| !w.is_empty() && !["OR", "AND", "WITH", "or", "and", "with"].contains(w))
        .map(|w| w.trim_end_matches('+').to_string())
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c))
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Text as a DEP-5 continuation: each line indented by one space, blank lines as ` .`.
fn indented(text: &str) -> String {
    super::control::extended_description_lines(&text.replace('\t', "    "))
}

fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_licence_points_at_texts_or_common_licenses() {
        let copyright = Copyright {
            upstream_name: "hello".to_string(),
            source: Some("https://example.org/hello".to_string()),
            holders: vec!["Ada <ada@example.org>".to_string()],
            license: Some("MIT OR Apache-2.0".to_string()),
            texts: vec![],
        };
        let text = copyright.render();
        assert!(text.contains("License: MIT or Apache-2.0\n"), "{text}");
        assert!(
            text.contains("\nLicense: Apache-2.0\n On Debian systems"),
            "{text}"
        );
        assert!(
            text.contains("\nLicense: MIT\n See https://spdx.org/licenses/MIT.html"),
            "{text}"
        );
    }

    #[test]
    fn licence_text_is_indented_with_blank_lines_as_dots() {
        let copyright = Copyright {
            upstream_name: "hello".to_string(),
            license: Some("MIT".to_string()),
            texts: vec![(
                "LICENSE".to_string(),
                "Permission\n\nis granted\n".to_string(),
            )],
            ..Copyright::default()
        };
        let text = copyright.render();
        assert!(
            text.ends_with("License: MIT\n Permission\n .\n is granted\n"),
            "{text}"
        );
        assert!(text.contains("Copyright: the hello authors\n"), "{text}");
    }
}
