//! `image-unpinned`: container images named by tag instead of by digest.

use std::collections::BTreeMap;

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use std::ops::Range;

use crate::workspace::Workspace;
use crate::workspace::entry_points::{ArgDefault, EntryPoint, ImageKind, ImageUse, in_job};

pub static RULE: Rule = Rule {
    id: "image-unpinned",
    default_level: Level::Warn,
    summary: "a container image is named by tag, not pinned by digest",
    docs: r#"
### What it finds
A Dockerfile `FROM` (or `COPY --from=<image>`) whose image has no `@sha256:` digest, including
images that come from an `ARG` default; a CI workflow job's `container:` (also through the
matrix, inline mappings included, and expressions such as `${{ matrix.os.container }}` or
`${{ fromJSON(matrix.container) }}`) or `services:` image, `uses: docker://…`, and
`docker run IMAGE` / `podman run IMAGE` in any entry point (an image named with matrix values,
`ghcr.io/cross-rs/${{ matrix.target }}:main`, with each of them), naming an image without a
digest. The same image run in several steps of a job is one finding. `scratch` and earlier
build stages are not images and are skipped; `--platform=…` and `AS name` are understood.
Images of development jobs are notes.

### Why it breaks reproducibility
A tag such as `rust:1.80` or `debian:bookworm` is moved by its publisher whenever the image is
rebuilt (security updates, new patch releases). The same Dockerfile then builds with a
different compiler, linker or C library, and the binaries differ.

### Example
```dockerfile
FROM rust:1.80 AS build
```

### Fix
Keep the tag for readers and add the digest, which is what is actually pulled:
```dockerfile
FROM rust:1.80@sha256:<digest> AS build
```
`docker buildx imagetools inspect rust:1.80` prints the digest. Tools such as Renovate can
keep digests up to date.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &workspace.entry_points {
        for job in &entry.jobs {
            // One decision per image a job runs: `docker run` of the same image in several
            // steps is one finding, the other places in its notes.
            let mut found: Vec<(ImageKind, &str, Finding)> = Vec::new();
            for image in &job.images {
                let Some(finding) = unpinned(entry, image) else {
                    continue;
                };
                let folds = !matches!(image.kind, ImageKind::Base | ImageKind::CopyFrom);
                match found.iter_mut().find(|(kind, text, _)| {
                    folds && *kind == image.kind && *text == image.image.text
                }) {
                    Some((_, _, first)) => {
                        let line = entry.file.line_of(image.image.span.start);
                        first.notes.push(format!("also at line {line}"));
                    }
                    None => found.push((image.kind, &image.image.text, finding)),
                }
            }
            out.extend(found.into_iter().map(|(_, _, f)| in_job(f, job)));
        }
    }
}

/// A finding for an image used without a digest.
fn unpinned(entry: &EntryPoint, image: &ImageUse) -> Option<Finding> {
    let reference = ImageReference::resolve(&image.image.text, &image.args);
    if reference.is_stage_or_scratch(&image.stages) {
        return None;
    }
    if image.kind == ImageKind::CopyFrom && image.image.text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if image.kind != ImageKind::Base && image.kind != ImageKind::CopyFrom && image.image.dynamic {
        return values_unpinned(entry, image);
    }
    reference.finding(entry, &image.image.span, image.kind.describe())
}

/// A finding for an image named by a word with several values (through the matrix), when
/// some of them have no digest.
fn values_unpinned(entry: &EntryPoint, image: &ImageUse) -> Option<Finding> {
    let unpinned: Vec<&String> = image
        .image
        .values
        .iter()
        .filter(|v| !v.contains("@sha256:"))
        .collect();
    let first = unpinned.first()?;
    let mut shown: Vec<String> = unpinned.iter().take(3).map(|v| format!("`{v}`")).collect();
    if unpinned.len() > 3 {
        shown.push(format!("and {} more", unpinned.len() - 3));
    }
    let message = format!(
        "{} `{}` is not pinned by digest: it is {}, and a tag can be moved to a different image",
        image.kind.describe(),
        image.image.text,
        shown.join(", ")
    );
    Some(
        Finding::new(RULE.id, message, entry.location(&image.image.span)).help(format!(
            "pin each image's digest: `{first}@sha256:<digest>` (`docker buildx imagetools inspect {first}` prints it)"
        )),
    )
}

/// An image reference as written, and as it reads once build arguments are substituted.
struct ImageReference<'a> {
    written: &'a str,
    resolved: String,
    /// Build arguments used, with their default when they have one.
    used_args: Vec<(String, Option<&'a ArgDefault>)>,
}

impl<'a> ImageReference<'a> {
    /// Substitutes `$NAME`, `${NAME}` and `${NAME:-default}` from `ARG` defaults.
    fn resolve(written: &'a str, args: &'a BTreeMap<String, ArgDefault>) -> ImageReference<'a> {
        let mut resolved = String::new();
        let mut used_args = Vec::new();
        let mut rest = written;
        while let Some(at) = rest.find('$') {
            resolved.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, fallback, consumed) = match after.strip_prefix('{') {
                Some(braced) => match braced.find('}') {
                    Some(end) => {
                        let inner = &braced[..end];
                        let (name, fallback) = match inner.split_once(":-") {
                            Some((name, fallback)) => (name, Some(fallback)),
                            None => (inner, None),
                        };
                        (name, fallback, end + 2)
                    }
                    None => (braced, None, after.len()),
                },
                None => {
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..end], None, end)
                }
            };
            let default = args.get(name);
            let value = default
                .map(|d| d.value.as_str())
                .filter(|v| !v.is_empty())
                .or(fallback)
                .unwrap_or("");
            resolved.push_str(value);
            used_args.push((name.to_string(), default));
            rest = &after[consumed..];
        }
        resolved.push_str(rest);
        ImageReference {
            written,
            resolved,
            used_args,
        }
    }

    fn is_stage_or_scratch(&self, stages: &[String]) -> bool {
        let name = self.resolved.to_ascii_lowercase();
        name == "scratch" || stages.contains(&name)
    }

    fn is_pinned(&self) -> bool {
        self.resolved.contains("@sha256:")
    }

    /// A finding when the reference has no digest.
    fn finding(&self, entry: &EntryPoint, span: &Range<usize>, what: &str) -> Option<Finding> {
        if self.is_pinned() {
            return None;
        }
        let message = if self.resolved.is_empty() {
            format!(
                "{what} `{}` is not pinned by digest: its build arguments have no default",
                self.written
            )
        } else if has_tag(&self.resolved) {
            format!(
                "{what} `{}` is not pinned by digest: the tag can be moved to a different image",
                self.resolved
            )
        } else {
            format!(
                "{what} `{}` has neither tag nor digest: it follows whatever `latest` points to",
                self.resolved
            )
        };
        let shown = if self.resolved.is_empty() {
            "<image>:<tag>"
        } else {
            &self.resolved
        };
        let mut finding = Finding::new(RULE.id, message, entry.location(span))
            .help(format!("pin the digest: `{}@sha256:<digest>` (`docker buildx imagetools inspect {shown}` prints it)", shown));
        for (name, default) in &self.used_args {
            finding = finding.note(match default {
                Some(d) if !d.value.is_empty() => {
                    format!(
                        "`{name}` comes from `ARG {name}={}` on line {}",
                        d.value,
                        entry.file.line_of(d.span.start)
                    )
                }
                _ => format!(
                    "`{name}` has no default: the image is whatever `--build-arg {name}=…` passes"
                ),
            });
        }
        Some(finding)
    }
}

/// True when the last path segment of an image reference has a `:tag`.
fn has_tag(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::workspace::entry_points::EntryKind;

    fn findings(kind: EntryKind, text: &str) -> Vec<Finding> {
        let entry = EntryPoint::from_text(kind, text);
        let mut out = Vec::new();
        for job in &entry.jobs {
            out.extend(job.images.iter().filter_map(|i| unpinned(&entry, i)));
        }
        out
    }

    #[test]
    fn dockerfile_images() {
        let found = findings(
            EntryKind::Dockerfile,
            "ARG BASE=debian:bookworm\n\
             FROM --platform=$BUILDPLATFORM rust:1.80 AS build\n\
             FROM build AS test\n\
             FROM scratch\n\
             FROM ${BASE}\n\
             COPY --from=build /a /b\n\
             COPY --from=ghcr.io/x/y:1 /a /b\n\
             FROM rust@sha256:00 AS pinned\n\
             FROM ubuntu\n",
        );
        let messages: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 4, "{messages:#?}");
        assert_eq!(found[0].location.column, Some(32));
        assert!(messages[1].contains("debian:bookworm"));
        assert!(found[1].notes[0].contains("line 1"));
        assert!(messages[2].contains("ghcr.io/x/y:1"));
        assert!(messages[3].contains("neither tag"));
    }

    #[test]
    fn workflow_images() {
        let found = findings(
            EntryKind::Workflow,
            "jobs:\n  a:\n    container: rust:1.80\n  b:\n    container:\n      image: \"rust@sha256:00\"\n  c:\n    container: ${{ matrix.image }}\n    steps:\n      - uses: docker://alpine:3.20\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].location.line, Some(3));
        assert_eq!(found[0].location.column, Some(16));
        assert_eq!(found[1].location.line, Some(10));
        assert_eq!(found[1].location.column, Some(24));
    }
}
