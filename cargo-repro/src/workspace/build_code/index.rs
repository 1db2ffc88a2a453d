//! A crate's parsed, `cfg`-stripped files indexed by function, struct field and call, with
//! positions turned into findings' locations.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::Span;
use syn::visit::Visit;

use super::CodeFile;
use crate::diag::Location;

/// A span of one file of the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Index into the crate's files.
    pub file: usize,
    /// 1-based line.
    pub line: usize,
    /// 0-based column in characters.
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Pos {
    pub fn of(file: usize, span: Span) -> Pos {
        let (start, end) = (span.start(), span.end());
        Pos {
            file,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// How a collection orders what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// A std `HashMap`/`HashSet` with the default (randomly seeded) hasher.
    Hash,
    /// A map or set with another hasher (`FxHashMap`, `HashMap<K, V, S>`): its order does not
    /// change between runs of the same binary.
    FixedHash,
    /// Kept sorted whatever the insertion order (`BTreeMap`, `BTreeSet`, `BinaryHeap`).
    Sorted,
    /// Kept in insertion order (`Vec`, `String`, `IndexMap`, token streams…).
    Ordered,
    Unknown,
}

/// A function of the crate with a body.
pub struct Function<'c> {
    pub file: usize,
    pub name: String,
    pub sig: &'c syn::Signature,
    pub attrs: &'c [syn::Attribute],
    pub body: &'c syn::Block,
    /// Names of the functions and methods it calls.
    pub calls: BTreeSet<String>,
}

/// The parsed files of one crate, indexed.
pub struct Crate<'c> {
    pub files: &'c [CodeFile],
    pub functions: Vec<Function<'c>>,
    /// Struct fields by name (a name declared with two kinds of collection is `Unknown`).
    pub fields: BTreeMap<String, Collection>,
    /// `HashMap`/`HashSet` names that the crate renames or defines as something else.
    pub shadowed_hash_names: BTreeSet<String>,
    /// Functions by name.
    by_name: BTreeMap<String, Vec<usize>>,
    /// The functions calling each name.
    callers: BTreeMap<String, Vec<usize>>,
}

impl<'c> Crate<'c> {
    pub fn new(files: &'c [CodeFile]) -> Crate<'c> {
        let mut index = Indexer {
            file: 0,
            functions: Vec::new(),
            fields: Vec::new(),
            shadowed: BTreeSet::new(),
        };
        for (i, file) in files.iter().enumerate() {
            index.file = i;
            index.visit_file(&file.ast);
        }
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, function) in index.functions.iter().enumerate() {
            by_name.entry(function.name.clone()).or_default().push(i);
        }
        let mut callers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, function) in index.functions.iter().enumerate() {
            for name in &function.calls {
                callers.entry(name.clone()).or_default().push(i);
            }
        }
        let mut krate = Crate {
            files,
            functions: index.functions,
            fields: BTreeMap::new(),
            shadowed_hash_names: index.shadowed,
            by_name,
            callers,
        };
        let mut fields = BTreeMap::new();
        for (name, ty) in index.fields {
            let kind = krate.collection_of_type(ty);
            fields
                .entry(name)
                .and_modify(|k: &mut Collection| {
                    if *k != kind {
                        *k = Collection::Unknown;
                    }
                })
                .or_insert(kind);
        }
        krate.fields = fields;
        krate
    }

    /// How the struct field `member` orders what it holds (by field name, crate-wide).
    pub fn field_collection(&self, member: &syn::Member) -> Collection {
        match member {
            syn::Member::Named(name) => self
                .fields
                .get(&name.to_string())
                .copied()
                .unwrap_or(Collection::Unknown),
            syn::Member::Unnamed(_) => Collection::Unknown,
        }
    }

    /// The functions named `name`.
    pub fn functions_named(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_name.get(name).into_iter().flatten().copied()
    }

    /// The functions that call `name`.
    pub fn callers_of(&self, name: &str) -> Vec<usize> {
        self.callers.get(name).cloned().unwrap_or_default()
    }

    /// A location for a position.
    pub fn location(&self, pos: Pos) -> Location {
        let file = &self.files[pos.file].file;
        let line = pos.line.clamp(1, file.line_count());
        let start = file.line_start(line) + char_offset(file.line_text(line), pos.column);
        let end = if pos.end_line == pos.line {
            file.line_start(line) + char_offset(file.line_text(line), pos.end_column)
        } else {
            file.line_start(line) + file.line_text(line).len()
        };
        file.location(start..end.max(start + 1))
    }

    /// The display path of a file.
    pub fn path(&self, file: usize) -> &str {
        &self.files[file].file.display_path
    }

    /// How a type orders what it holds.
    pub fn collection_of_type(&self, ty: &syn::Type) -> Collection {
        match ty {
            syn::Type::Reference(r) => self.collection_of_type(&r.elem),
            syn::Type::Paren(p) => self.collection_of_type(&p.elem),
            syn::Type::Group(g) => self.collection_of_type(&g.elem),
            syn::Type::Path(p) => match p.path.segments.last() {
                Some(segment) => {
                    let args = match &segment.arguments {
                        syn::PathArguments::AngleBracketed(a) => a.args.len(),
                        _ => 0,
                    };
                    self.collection_named(&segment.ident.to_string(), args)
                }
                None => Collection::Unknown,
            },
            _ => Collection::Unknown,
        }
    }

    /// How the type named `name` (with `args` generic arguments) orders what it holds.
    pub fn collection_named(&self, name: &str, args: usize) -> Collection {
        match name {
            "HashMap" | "HashSet" if self.shadowed_hash_names.contains(name) => Collection::Unknown,
            "HashMap" if args > 2 => Collection::FixedHash,
            "HashSet" if args > 1 => Collection::FixedHash,
            "HashMap" | "HashSet" => Collection::Hash,
            "BTreeMap" | "BTreeSet" | "BinaryHeap" => Collection::Sorted,
            "Vec" | "VecDeque" | "String" | "IndexMap" | "IndexSet" | "TokenStream"
            | "TokenStream2" | "LinkedList" => Collection::Ordered,
            name if name.ends_with("HashMap") || name.ends_with("HashSet") => Collection::FixedHash,
            _ => Collection::Unknown,
        }
    }
}

/// The byte offset of the `column`th character of `line`.
fn char_offset(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column)
        .map_or(line.len(), |(offset, _)| offset)
}

struct Indexer<'c> {
    file: usize,
    functions: Vec<Function<'c>>,
    fields: Vec<(String, &'c syn::Type)>,
    shadowed: BTreeSet<String>,
}

impl<'c> Visit<'c> for Indexer<'c> {
    fn visit_item_fn(&mut self, item: &'c syn::ItemFn) {
        self.push(&item.sig, &item.attrs, &item.block);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'c syn::ImplItemFn) {
        self.push(&item.sig, &item.attrs, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'c syn::TraitItemFn) {
        if let Some(body) = &item.default {
            self.push(&item.sig, &item.attrs, body);
        }
        syn::visit::visit_trait_item_fn(self, item);
    }

    fn visit_field(&mut self, field: &'c syn::Field) {
        if let Some(name) = &field.ident {
            self.fields.push((name.to_string(), &field.ty));
        }
        syn::visit::visit_field(self, field);
    }

    fn visit_use_rename(&mut self, rename: &'c syn::UseRename) {
        self.shadowed.insert(rename.rename.to_string());
    }

    fn visit_item_type(&mut self, item: &'c syn::ItemType) {
        self.shadowed.insert(item.ident.to_string());
    }

    fn visit_item_struct(&mut self, item: &'c syn::ItemStruct) {
        self.shadowed.insert(item.ident.to_string());
        syn::visit::visit_item_struct(self, item);
    }
}

impl<'c> Indexer<'c> {
    fn push(&mut self, sig: &'c syn::Signature, attrs: &'c [syn::Attribute], body: &'c syn::Block) {
        let mut calls = Calls::default();
        calls.visit_block(body);
        self.functions.push(Function {
            file: self.file,
            name: sig.ident.to_string(),
            sig,
            attrs,
            body,
            calls: calls.0,
        });
    }
}

/// The names a body calls (functions by the last segment of their path, and methods).
#[derive(Default)]
struct Calls(BTreeSet<String>);

impl Visit<'_> for Calls {
    fn visit_expr_call(&mut self, call: &syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func
            && let Some(last) = path.path.segments.last()
        {
            self.0.insert(last.ident.to_string());
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &syn::ExprMethodCall) {
        self.0.insert(call.method.to_string());
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &syn::Macro) {
        // Calls inside `println!(…, f())` and the like.
        let args = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        );
        if let Ok(args) = args {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_item(&mut self, _: &syn::Item) {
        // Nested items are functions of their own.
    }
}

/// The text of a path (`std::fs::read_dir`).
pub fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// True when the path's text ends with `suffix` on segment boundaries (`fs::read_dir` ends with
/// `read_dir`, `my_read_dir` does not).
pub fn path_ends_with(path: &syn::Path, suffix: &str) -> bool {
    let wanted = suffix.split("::");
    let count = wanted.clone().count();
    path.segments.len() >= count
        && path
            .segments
            .iter()
            .skip(path.segments.len() - count)
            .zip(wanted)
            .all(|(segment, name)| segment.ident == name)
}
