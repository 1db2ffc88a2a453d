//! Adding and removing `[patch.crates-io]` entries in the root Cargo.toml, through toml_edit so
//! that every other byte (comments, layout) stays as it was.

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

fn parse(text: &str, display: &str) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>()
        .map_err(|e| anyhow::anyhow!("{display}: invalid TOML: {}", e.message()))
}

/// Adds `name = { path = "…" }` under `[patch.crates-io]`.
pub fn add_patch(text: &str, display: &str, name: &str, path: &str) -> anyhow::Result<String> {
    let mut doc = parse(text, display)?;
    let patch = doc.entry("patch").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    let patch = patch
        .as_table_like_mut()
        .ok_or_else(|| anyhow::anyhow!("{display}: `patch` is not a table; fix it by hand"))?;
    let registry = patch
        .entry("crates-io")
        .or_insert(Item::Table(Table::new()));
    let registry = registry.as_table_like_mut().ok_or_else(|| {
        anyhow::anyhow!("{display}: `patch.crates-io` is not a table; fix it by hand")
    })?;
    if registry.contains_key(name) {
        anyhow::bail!(
            "{display}: [patch.crates-io] already has `{name}`; use `cargo repro patch adopt {name}`"
        );
    }
    let mut entry = InlineTable::new();
    entry.insert("path", Value::from(path));
    registry.insert(name, Item::Value(Value::InlineTable(entry)));
    Ok(doc.to_string())
}

/// Removes `name` from `[patch.<registry>]`, and the table when it becomes empty.
pub fn remove_patch(
    text: &str,
    display: &str,
    registry: &str,
    name: &str,
) -> anyhow::Result<String> {
    let mut doc = parse(text, display)?;
    let Some(patch) = doc.get_mut("patch").and_then(Item::as_table_like_mut) else {
        return Ok(text.to_string());
    };
    let mut registry_empty = false;
    if let Some(table) = patch.get_mut(registry).and_then(Item::as_table_like_mut) {
        table.remove(name);
        registry_empty = table.is_empty();
    }
    if registry_empty {
        patch.remove(registry);
    }
    if patch.is_empty() {
        doc.remove("patch");
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_keep_other_bytes() {
        let text = "[package]\nname = \"app\"   # keep\n\n[dependencies]\nage = \"0.11\" # why\n";
        let added = add_patch(text, "Cargo.toml", "i18n-embed-fl", "vendor/i18n-embed-fl").unwrap();
        assert_eq!(
            added,
            format!(
                "{text}\n[patch.crates-io]\ni18n-embed-fl = {{ path = \"vendor/i18n-embed-fl\" }}\n"
            )
        );
        assert_eq!(
            remove_patch(&added, "Cargo.toml", "crates-io", "i18n-embed-fl").unwrap(),
            text
        );
        let two = add_patch(&added, "Cargo.toml", "other", "vendor/other").unwrap();
        assert_eq!(
            remove_patch(&two, "Cargo.toml", "crates-io", "other").unwrap(),
            added
        );
    }
}
