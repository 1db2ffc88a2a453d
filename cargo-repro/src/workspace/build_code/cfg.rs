//! `cfg` attributes evaluated against the features and targets the code is compiled with, and
//! the items, statements, fields and arms that do not survive them stripped from the syntax tree.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use cfg_expr::targets::{TargetInfo, get_builtin_target_by_triple};
use cfg_expr::{Expression, Predicate};
use syn::visit_mut::VisitMut;
use syn::{Attribute, Item, Meta};

/// What `cfg` sees when a package's build-time code is compiled: a release build (no
/// `debug_assertions`, no `test`), the package's enabled features, and the platforms the code
/// is compiled for (build scripts and proc-macros are compiled for the host).
#[derive(Clone, Debug)]
pub struct CfgContext {
    /// The enabled features; `None` when the graph is not resolved, so that `feature`
    /// predicates are unknown and code behind them is kept either way.
    pub features: Option<BTreeSet<String>>,
    /// The platforms; code is kept when it is compiled for any of them. Empty: unknown, so
    /// every target predicate holds.
    pub targets: Vec<&'static TargetInfo>,
    /// True for a proc-macro crate (`cfg(proc_macro)`).
    pub proc_macro: bool,
    /// The features `feature` predicates asked about, with the answers `features` gave: code
    /// stripped with this context is the same for any feature set that answers them alike.
    pub answers: RefCell<BTreeMap<String, bool>>,
}

impl CfgContext {
    /// The context for code compiled on this machine's platform with `features` enabled.
    pub fn host(features: Option<BTreeSet<String>>, proc_macro: bool) -> CfgContext {
        CfgContext {
            features,
            targets: host_target().into_iter().collect(),
            proc_macro,
            answers: RefCell::default(),
        }
    }

    /// The context for code compiled on any of `triples` (the host's when none is known to
    /// cfg-expr) with `features` enabled.
    pub fn for_triples(
        features: Option<BTreeSet<String>>,
        triples: &[String],
        proc_macro: bool,
    ) -> CfgContext {
        let targets: Vec<&'static TargetInfo> = triples
            .iter()
            .filter_map(|t| get_builtin_target_by_triple(t))
            .collect();
        if targets.is_empty() {
            return CfgContext::host(features, proc_macro);
        }
        CfgContext {
            features,
            targets,
            proc_macro,
            answers: RefCell::default(),
        }
    }

    /// True when an item with these attributes is compiled: every `cfg` holds for one of the
    /// platforms, and it is not a `#[test]` or `#[bench]` function.
    pub fn keeps(&self, attrs: &[Attribute]) -> bool {
        if attrs
            .iter()
            .any(|a| a.path().is_ident("test") || a.path().is_ident("bench"))
        {
            return false;
        }
        let cfgs: Vec<Expression> = attrs.iter().filter_map(cfg_expression).collect();
        if cfgs.is_empty() {
            return true;
        }
        // Three-valued: what the tool cannot know is `None`, and only a certain `false` strips.
        let holds =
            |target: Option<&TargetInfo>| cfgs.iter().all(|e| self.eval(e, target) != Some(false));
        if self.targets.is_empty() {
            return holds(None);
        }
        self.targets.iter().any(|target| holds(Some(target)))
    }

    fn eval(&self, expression: &Expression, target: Option<&TargetInfo>) -> Option<bool> {
        expression.eval(|predicate| match predicate {
            Predicate::Target(tp) => target.map(|t| tp.matches(t)),
            // A release build of a dependency: no test harness, no debug assertions.
            Predicate::Test | Predicate::DebugAssertions => Some(false),
            Predicate::ProcMacro => Some(self.proc_macro),
            Predicate::Feature(name) => {
                let on = self.features.as_ref()?.contains(*name);
                self.answers.borrow_mut().insert(name.to_string(), on);
                Some(on)
            }
            // Target features depend on `-C target-feature`/`target-cpu`, which the tool does not
            // know here: unknown, so the code is kept.
            Predicate::TargetFeature(_) => None,
            // `docsrs`, `fuzzing`, `loom`, `miri` and custom flags are not set by a plain build.
            Predicate::Flag(_) | Predicate::KeyValue { .. } => Some(false),
        })
    }

    /// True when `features` answer every feature question this context was asked as its own
    /// features did (`None`, unknown features, answers none), so that what it stripped would be
    /// stripped alike for them.
    pub fn answers_alike(&self, features: Option<&BTreeSet<String>>) -> bool {
        let answers = self.answers.borrow();
        match features {
            None => answers.is_empty(),
            Some(f) => answers.iter().all(|(name, on)| f.contains(name) == *on),
        }
    }

    /// Removes from `file` what these settings do not compile.
    pub fn strip(&self, file: &mut syn::File) {
        file.items.retain(|item| self.keeps(item_attrs(item)));
        Stripper { cfg: self }.visit_file_mut(file);
    }
}

/// The expression of a `#[cfg(…)]` attribute (`None` for other attributes, and for a `cfg`
/// the tool cannot parse, which then holds).
fn cfg_expression(attr: &Attribute) -> Option<Expression> {
    if !attr.path().is_ident("cfg") {
        return None;
    }
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    Expression::parse(&list.tokens.to_string()).ok()
}

/// The builtin target of the machine the tool runs on, when it is one rustc knows.
fn host_target() -> Option<&'static TargetInfo> {
    get_builtin_target_by_triple(host_triple()?)
}

/// The triple of the machine the tool runs on, for the platforms it knows.
pub fn host_triple() -> Option<&'static str> {
    Some(match (std::env::consts::ARCH, std::env::consts::OS) {
        ("x86_64", "linux") => "x86_64-unknown-linux-gnu",
        ("aarch64", "linux") => "aarch64-unknown-linux-gnu",
        ("x86_64", "macos") => "x86_64-apple-darwin",
        ("aarch64", "macos") => "aarch64-apple-darwin",
        ("x86_64", "windows") => "x86_64-pc-windows-msvc",
        ("aarch64", "windows") => "aarch64-pc-windows-msvc",
        _ => return None,
    })
}

/// The outer attributes of an item.
pub fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The attributes of a statement.
fn stmt_attrs(stmt: &syn::Stmt) -> &[Attribute] {
    match stmt {
        syn::Stmt::Local(local) => &local.attrs,
        syn::Stmt::Item(item) => item_attrs(item),
        syn::Stmt::Expr(expr, _) => expr_attrs(expr),
        syn::Stmt::Macro(mac) => &mac.attrs,
    }
}

/// The outer attributes of the expressions that commonly carry a `cfg`.
fn expr_attrs(expr: &syn::Expr) -> &[Attribute] {
    use syn::Expr;
    match expr {
        Expr::Block(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Unsafe(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        _ => &[],
    }
}

struct Stripper<'a> {
    cfg: &'a CfgContext,
}

impl VisitMut for Stripper<'_> {
    fn visit_item_mod_mut(&mut self, module: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut module.content {
            items.retain(|item| self.cfg.keeps(item_attrs(item)));
        }
        syn::visit_mut::visit_item_mod_mut(self, module);
    }

    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        item.items.retain(|member| {
            let attrs = match member {
                syn::ImplItem::Const(c) => &c.attrs,
                syn::ImplItem::Fn(f) => &f.attrs,
                syn::ImplItem::Type(t) => &t.attrs,
                syn::ImplItem::Macro(m) => &m.attrs,
                _ => return true,
            };
            self.cfg.keeps(attrs)
        });
        syn::visit_mut::visit_item_impl_mut(self, item);
    }

    fn visit_item_trait_mut(&mut self, item: &mut syn::ItemTrait) {
        item.items.retain(|member| match member {
            syn::TraitItem::Fn(f) => self.cfg.keeps(&f.attrs),
            syn::TraitItem::Const(c) => self.cfg.keeps(&c.attrs),
            _ => true,
        });
        syn::visit_mut::visit_item_trait_mut(self, item);
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        block.stmts.retain(|stmt| self.cfg.keeps(stmt_attrs(stmt)));
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_fields_named_mut(&mut self, fields: &mut syn::FieldsNamed) {
        fields.named = std::mem::take(&mut fields.named)
            .into_pairs()
            .filter(|pair| self.cfg.keeps(&pair.value().attrs))
            .collect();
        syn::visit_mut::visit_fields_named_mut(self, fields);
    }

    fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
        item.variants = std::mem::take(&mut item.variants)
            .into_pairs()
            .filter(|pair| self.cfg.keeps(&pair.value().attrs))
            .collect();
        syn::visit_mut::visit_item_enum_mut(self, item);
    }

    fn visit_expr_match_mut(&mut self, expr: &mut syn::ExprMatch) {
        expr.arms.retain(|arm| self.cfg.keeps(&arm.attrs));
        syn::visit_mut::visit_expr_match_mut(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str, features: &[&str]) -> Vec<String> {
        let mut file = syn::parse_file(text).unwrap();
        let cfg = CfgContext {
            features: Some(features.iter().map(|f| f.to_string()).collect()),
            targets: vec![get_builtin_target_by_triple("x86_64-unknown-linux-gnu").unwrap()],
            proc_macro: false,
            answers: Default::default(),
        };
        cfg.strip(&mut file);
        let mut names = Vec::new();
        for item in &file.items {
            if let Item::Fn(f) = item {
                names.push(f.sig.ident.to_string());
                for stmt in &f.block.stmts {
                    if let syn::Stmt::Item(Item::Fn(inner)) = stmt {
                        names.push(format!("{}::{}", f.sig.ident, inner.sig.ident));
                    }
                }
            }
            if let Item::Mod(m) = item {
                names.push(format!("mod {}", m.ident));
            }
        }
        names
    }

    #[test]
    fn items_outside_the_build_are_stripped() {
        let text = r#"
            fn always() {}
            #[cfg(test)] mod tests {}
            #[test] fn unit() {}
            #[cfg(feature = "std")] fn with_std() {}
            #[cfg(not(feature = "std"))] fn without_std() {}
            #[cfg(windows)] fn on_windows() {}
            #[cfg(all(unix, target_arch = "x86_64"))] fn on_linux() {}
            #[cfg(fuzzing)] fn fuzz() {}
            #[cfg(debug_assertions)] fn debug() {}
            fn outer() { #[cfg(test)] fn inner_test() {} fn inner() {} }
        "#;
        assert_eq!(
            kept(text, &["std"]),
            ["always", "with_std", "on_linux", "outer", "outer::inner"]
        );
        assert_eq!(
            kept(text, &[]),
            ["always", "without_std", "on_linux", "outer", "outer::inner"]
        );
    }

    #[test]
    fn a_stripping_stands_for_the_feature_sets_that_answer_alike() {
        let mut file = syn::parse_file(
            "#[cfg(feature = \"std\")] fn a() {}\n#[cfg(all(feature = \"alloc\", unix))] fn b() {}\nfn c() {}",
        )
        .unwrap();
        let cfg = CfgContext::host(Some(["std".to_string()].into()), false);
        cfg.strip(&mut file);
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
        // Features the code does not name change nothing; one it names does.
        assert!(cfg.answers_alike(Some(&set(&["std", "serde"]))));
        assert!(!cfg.answers_alike(Some(&set(&["std", "alloc"]))));
        assert!(!cfg.answers_alike(Some(&set(&[]))));
        assert!(!cfg.answers_alike(None));
        let plain = CfgContext::host(Some(BTreeSet::new()), false);
        plain.strip(&mut syn::parse_file("#[cfg(unix)] fn d() {}").unwrap());
        assert!(plain.answers_alike(None));
    }

    #[test]
    fn unknown_features_keep_both_arms() {
        let mut file = syn::parse_file(
            "#[cfg(feature = \"std\")] fn a() {}\n#[cfg(not(feature = \"std\"))] fn b() {}\n#[cfg(test)] fn c() {}",
        )
        .unwrap();
        CfgContext::host(None, false).strip(&mut file);
        assert_eq!(file.items.len(), 2);
    }

    #[test]
    fn a_cfg_the_tool_cannot_parse_holds() {
        assert_eq!(kept("#[cfg(unknown_thing(x))] fn f() {}", &[]), ["f"]);
    }
}
