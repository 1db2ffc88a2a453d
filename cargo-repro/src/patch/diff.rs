//! Unified diffs between a pristine release and a vendored tree, in a form `patch -p1` applies.

use similar::TextDiff;

use super::tree::Tree;

/// The unified diff from `old` to `new`, files in path order; empty when they are equal.
pub fn unified(old: &Tree, new: &Tree) -> String {
    let mut paths: Vec<&String> = old.files.keys().chain(new.files.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        let (before, after) = (old.files.get(path), new.files.get(path));
        if before == after {
            continue;
        }
        let text = |f: Option<&super::tree::TreeFile>| {
            f.map(|f| std::str::from_utf8(&f.bytes).map(str::to_string))
        };
        match (text(before), text(after)) {
            (Some(Err(_)), _) | (_, Some(Err(_))) => {
                out.push_str(&format!("Binary files a/{path} and b/{path} differ\n"));
            }
            (before_text, after_text) => {
                let before_text = before_text.and_then(Result::ok).unwrap_or_default();
                let after_text = after_text.and_then(Result::ok).unwrap_or_default();
                let old_name = if before.is_some() {
                    format!("a/{path}")
                } else {
                    "/dev/null".to_string()
                };
                let new_name = if after.is_some() {
                    format!("b/{path}")
                } else {
                    "/dev/null".to_string()
                };
                if before_text == after_text {
                    out.push_str(&format!("File mode of {path} changed\n"));
                    continue;
                }
                let diff = TextDiff::from_lines(&before_text, &after_text);
                let mut unified = diff.unified_diff();
                unified.context_radius(3).header(&old_name, &new_name);
                out.push_str(&unified.to_string());
                if !out.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// The paths that differ between two trees.
pub fn changed_files(old: &Tree, new: &Tree) -> Vec<String> {
    let mut paths: Vec<String> = old.files.keys().chain(new.files.keys()).cloned().collect();
    paths.sort();
    paths.dedup();
    paths.retain(|p| old.files.get(p) != new.files.get(p));
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    #[test]
    fn diff_of_changed_added_and_removed_files() {
        let old = tree(&[("src/lib.rs", "a\nb\nc\n"), ("gone.txt", "x\n")]);
        let new = tree(&[("src/lib.rs", "a\nB\nc\n"), ("new.txt", "y\n")]);
        let diff = unified(&old, &new);
        assert_eq!(
            diff,
            "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
             --- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+y\n\
             --- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        assert_eq!(
            changed_files(&old, &new),
            ["gone.txt", "new.txt", "src/lib.rs"]
        );
        assert_eq!(unified(&old, &old), "");
    }
}
