//! What the tool can know of a word set elsewhere: every value it can take, when they can all
//! be listed. Shell parameters (`$NAME`, `${NAME}`, `${NAME:-word}`) resolve through the
//! environment in effect; each format adds its own expressions (`${{ … }}` in workflows,
//! `{{ … }}` in justfiles). A value the tool cannot list (`$(…)`, an unset variable, a
//! secret) makes the whole word unknown: it is never guessed.

use super::EnvVar;

/// At most this many values are listed; a word that can take more is unknown.
pub const MAX_VALUES: usize = 64;

/// Every concatenation of one value of each part, in order, without repeats; `None` past
/// [`MAX_VALUES`].
pub fn product(parts: Vec<Vec<String>>) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    for part in parts {
        let mut next = Vec::new();
        for prefix in &out {
            for value in &part {
                let joined = format!("{prefix}{value}");
                if !next.contains(&joined) {
                    next.push(joined);
                }
            }
        }
        if next.len() > MAX_VALUES {
            return None;
        }
        out = next;
    }
    Some(out)
}

/// The values of `text` once its shell parameters are expanded through `env` (the last
/// setting of a name wins). `None` when it holds anything else that expands (`$(…)`,
/// backquotes, `$1`, `${NAME#…}`, `${{ … }}`) or a variable the environment does not set.
pub fn shell_values(text: &str, env: &[EnvVar]) -> Option<Vec<String>> {
    if text.contains('`') || text.contains("{{") {
        return None;
    }
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        parts.push(vec![rest[..at].to_string()]);
        let after = &rest[at + 1..];
        let (name, default, consumed) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}')?;
            let inner = &braced[..end];
            let (name, default) = match inner.split_once(":-").or_else(|| inner.split_once('-')) {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            (name, default, end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], None, end)
        };
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return None;
        }
        let values: Vec<String> = match env.iter().rev().find(|v| v.name == name) {
            Some(var) => var
                .value
                .possible()?
                .into_iter()
                .map(str::to_string)
                .collect(),
            None => match default {
                Some(default) if !default.contains(['$', '`']) => vec![default.to_string()],
                _ => return None,
            },
        };
        parts.push(values);
        rest = &after[consumed..];
    }
    parts.push(vec![rest.to_string()]);
    product(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::Word;

    fn var(name: &str, text: &str, values: &[&str]) -> EnvVar {
        let mut value = Word::new(text, 0..0);
        value.values = values.iter().map(|v| v.to_string()).collect();
        EnvVar {
            name: name.into(),
            name_span: 0..0,
            value,
        }
    }

    #[test]
    fn parameters_expand_through_the_environment() {
        let env = [
            var("TARGET", "x86_64", &[]),
            var("FLAGS", "${{ matrix.flags }}", &["", "-C linker=cc"]),
        ];
        assert_eq!(
            shell_values("--target=${TARGET} $FLAGS", &env).unwrap(),
            ["--target=x86_64 ", "--target=x86_64 -C linker=cc"]
        );
        assert_eq!(shell_values("${UNSET:-cargo}", &env).unwrap(), ["cargo"]);
        assert_eq!(shell_values("$UNSET", &env), None);
        assert_eq!(shell_values("$(date)", &env), None);
        assert_eq!(shell_values("${TARGET#x86}", &env), None);
        let unknown = [var("X", "$(date)", &[])];
        assert_eq!(shell_values("a $X", &unknown), None);
    }

    #[test]
    fn products_are_bounded() {
        let eight: Vec<String> = (0..8).map(|i| i.to_string()).collect();
        assert_eq!(
            product(vec![eight.clone(), eight.clone()]).unwrap().len(),
            64
        );
        assert_eq!(product(vec![eight.clone(), eight.clone(), eight]), None);
        assert_eq!(
            product(vec![vec!["a".into()], vec!["b".into(), "c".into()]]).unwrap(),
            ["ab", "ac"]
        );
    }
}
