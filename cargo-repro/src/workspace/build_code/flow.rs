//! Where values go: a small taint analysis over the functions of one crate.
//!
//! A rule names its *sources* (the iteration of a `HashMap`, a `read_dir` listing, a clock
//! read) through [`Sources`]. The analysis walks each function in order, statement by
//! statement, and follows the values that carry a source: through locals, method chains,
//! closures, loops, accumulators (`push`, `extend`, `write!`), struct literals, calls to
//! functions of the same crate (both ways: into a callee's parameters and back through its
//! return value to its callers). A source *reaches the output* when it gets into the crate's
//! output: tokens a proc-macro returns or writes into a `&mut TokenStream`, or, for a build
//! script, a file it writes, a `cargo:` instruction it prints or the arguments of a compiler it
//! runs. What cannot change the output drops it: sorting, sorted or hashed collections,
//! order-insensitive reductions (`len`, `any`, `sum`, `contains`, …), searches that pick one
//! element, error paths (`compile_error!`, `panic!`, `Err(…)`, `syn::Error::new`). Where the
//! value leaves what the tool can follow (stored in a field, returned to callers it cannot
//! see), the source is *unknown*.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};

use super::index::{Collection, Crate, Function, Pos, path_ends_with, path_text};

/// Identifies a source found by the analysis.
pub type SourceId = usize;

/// The sources a value carries.
pub type Taint = BTreeSet<SourceId>;

/// What a crate emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A proc-macro's expansion.
    Tokens,
    /// A build script's generated files, `cargo:` instructions and compiler invocations.
    BuildScript,
}

/// A rule's sources.
pub trait Sources {
    /// The output that matters.
    fn output(&self) -> Output;

    /// When `expr` is a source, what it does ("iterates the HashMap `names`").
    fn at_expr(&self, expr: &Expr, scope: &Scope) -> Option<String>;

    /// When iterating `iterable` in a `for` loop is a source, what it does.
    fn at_for(&self, _iterable: &Expr, _scope: &Scope) -> Option<String> {
        None
    }
}

/// A source found in the code.
#[derive(Clone, Debug)]
pub struct Found {
    pub pos: Pos,
    pub what: String,
}

/// What became of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It gets into the output at `pos` (`how` says through what).
    Reaches { pos: Pos, how: String },
    /// The tool could not follow it (`why` says where it lost it).
    Unknown { pos: Pos, why: String },
}

/// The result of an analysis: each source, and what became of it (`None`: it never reaches
/// the output).
#[derive(Debug, Default)]
pub struct Report {
    pub sources: Vec<(Found, Option<Verdict>)>,
}

/// Runs the analysis over every function of the crate.
pub fn analyse(krate: &Crate, sources: &dyn Sources) -> Report {
    let mut state = State::default();
    for index in 0..krate.functions.len() {
        let function = Followed {
            index,
            creating: true,
            overrides: BTreeMap::new(),
            depth: 0,
        };
        follow(krate, sources, &mut state, function, &mut BTreeSet::new());
    }
    let mut report = Report::default();
    for (id, found) in state.found.into_iter().enumerate() {
        let verdict = state
            .reached
            .remove(&id)
            .or_else(|| state.unknown.remove(&id));
        report.sources.push((found, verdict));
    }
    report
}

#[derive(Default)]
struct State {
    found: Vec<Found>,
    /// The first place each source gets into the output.
    reached: BTreeMap<SourceId, Verdict>,
    /// The first place the tool lost each source.
    unknown: BTreeMap<SourceId, Verdict>,
    /// Where each source was first put into tokens (`quote!`), for the message.
    tokens_at: BTreeMap<SourceId, Pos>,
    /// Callee summaries: (function, tainted parameters) → taint of its return value.
    summaries: BTreeMap<(usize, Vec<Taint>), Taint>,
    /// Functions being analysed as callees (recursion guard).
    active: BTreeSet<usize>,
    /// Sources whose value was chosen by a branch on the build's profile or the package's
    /// version (`if PROFILE == "debug"`, a `-pre` version): where the branch is.
    conditional: BTreeMap<SourceId, Pos>,
}

impl State {
    fn reach(&mut self, taint: &Taint, pos: Pos, how: &str) {
        for &id in taint {
            if let Some(&branch) = self.conditional.get(&id) {
                let why = format!(
                    "it reaches {how}, but only in a branch taken for some build profiles or \
                     package versions (at line {}), which the tool does not evaluate",
                    branch.line
                );
                self.unknown
                    .entry(id)
                    .or_insert(Verdict::Unknown { pos, why });
                continue;
            }
            self.reached.entry(id).or_insert_with(|| Verdict::Reaches {
                pos: self.tokens_at.get(&id).copied().unwrap_or(pos),
                how: how.to_string(),
            });
        }
    }

    fn lose(&mut self, taint: &Taint, pos: Pos, why: &str) {
        for &id in taint {
            self.unknown.entry(id).or_insert_with(|| Verdict::Unknown {
                pos,
                why: why.to_string(),
            });
        }
    }
}

/// Most levels of callers and callees followed from a source.
const MAX_DEPTH: usize = 3;

/// Decides what the return value and escaped places of a function mean: followed into its
/// callers where it has some, else the output (a proc-macro's token function) or unknown.
#[allow(clippy::too_many_arguments)]
fn finish(
    krate: &Crate,
    sources: &dyn Sources,
    state: &mut State,
    index: usize,
    ret: Taint,
    escaped: Vec<(Taint, Pos, String)>,
    depth: usize,
    visited: &mut BTreeSet<usize>,
) {
    for (taint, pos, why) in escaped {
        state.lose(&taint, pos, &why);
    }
    let open: Taint = ret
        .into_iter()
        .filter(|id| !state.reached.contains_key(id))
        .collect();
    if open.is_empty() {
        return;
    }
    let function = &krate.functions[index];
    let pos = Pos::of(function.file, function.sig.ident.span());
    if sources.output() == Output::Tokens && is_token_function(function) {
        let callers = krate.callers_of(&function.name);
        if callers.is_empty() || is_proc_macro_entry(function) {
            let how = format!("the expansion `{}` returns", function.name);
            state.reach(&open, pos, &how);
            return;
        }
    }
    if function.name == "main" && sources.output() == Output::BuildScript {
        return;
    }
    let callers: Vec<usize> = krate
        .callers_of(&function.name)
        .into_iter()
        .filter(|&c| c != index)
        .collect();
    if callers.is_empty() || depth >= MAX_DEPTH || !visited.insert(index) {
        let why = format!(
            "it is returned by `{}`, whose callers the tool cannot follow",
            function.name
        );
        state.lose(&open, pos, &why);
        return;
    }
    for caller in callers {
        let mut overrides = BTreeMap::new();
        overrides.insert(function.name.clone(), open.clone());
        let caller = Followed {
            index: caller,
            creating: false,
            overrides,
            depth: depth + 1,
        };
        follow(krate, sources, state, caller, visited);
    }
}

/// A function to analyse: whether it records new sources, the calls whose return value is
/// given (a callee's return followed into a caller), and how far from the source it is.
struct Followed {
    index: usize,
    creating: bool,
    overrides: BTreeMap<String, Taint>,
    depth: usize,
}

/// Analyses a function, then decides what its return value and escaped places mean.
fn follow(
    krate: &Crate,
    sources: &dyn Sources,
    state: &mut State,
    function: Followed,
    visited: &mut BTreeSet<usize>,
) {
    let Followed {
        index,
        creating,
        overrides,
        depth,
    } = function;
    let mut run = Run::new(krate, sources, state, index, creating, overrides, depth);
    let ret = run.function(&[]);
    let escaped = std::mem::take(&mut run.escaped);
    drop(run);
    finish(krate, sources, state, index, ret, escaped, depth, visited);
}

/// True when a function returns tokens (or is a proc-macro entry point).
fn is_token_function(function: &Function) -> bool {
    if is_proc_macro_entry(function) {
        return true;
    }
    match &function.sig.output {
        syn::ReturnType::Type(_, ty) => mentions_tokens(&quote_text(ty)),
        syn::ReturnType::Default => false,
    }
}

fn is_proc_macro_entry(function: &Function) -> bool {
    function.attrs.iter().any(|a| {
        let path = a.path();
        path.is_ident("proc_macro")
            || path.is_ident("proc_macro_derive")
            || path.is_ident("proc_macro_attribute")
    })
}

fn mentions_tokens(text: &str) -> bool {
    text.contains("TokenStream") || text.contains("TokenTree")
}

/// The token text of a syntax node (`& mut TokenStream`).
fn quote_text(node: &dyn quote::ToTokens) -> String {
    node.to_token_stream().to_string()
}

/// A local variable as the analysis sees it.
#[derive(Clone, Debug)]
struct Local {
    taint: Taint,
    collection: Collection,
    /// Writing into it is output (a `&mut TokenStream` parameter, a created file).
    output: bool,
}

/// What the sources can ask about the code around an expression.
pub struct Scope<'a, 'c> {
    krate: &'a Crate<'c>,
    locals: &'a BTreeMap<String, Local>,
}

impl Scope<'_, '_> {
    /// How the value of `expr` orders what it holds, when the tool knows.
    pub fn collection(&self, expr: &Expr) -> Collection {
        match expr {
            Expr::Path(p) => match p.path.get_ident() {
                Some(ident) => self
                    .locals
                    .get(&ident.to_string())
                    .map_or(Collection::Unknown, |l| l.collection),
                None => Collection::Unknown,
            },
            Expr::Field(f) => self.krate.field_collection(&f.member),
            Expr::Reference(r) => self.collection(&r.expr),
            Expr::Paren(p) => self.collection(&p.expr),
            Expr::Group(g) => self.collection(&g.expr),
            Expr::Unary(u) => self.collection(&u.expr),
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "clone" | "borrow" | "borrow_mut" | "as_ref" | "as_mut" | "unwrap" | "lock"
                ) =>
            {
                self.collection(&m.receiver)
            }
            _ => Collection::Unknown,
        }
    }

    /// The name shown for an expression naming a collection (`names`, `self.names`).
    pub fn name_of(&self, expr: &Expr) -> String {
        match expr {
            Expr::Path(p) => path_text(&p.path),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => name.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            },
            Expr::Reference(r) => self.name_of(&r.expr),
            Expr::Paren(p) => self.name_of(&p.expr),
            Expr::Unary(u) => self.name_of(&u.expr),
            Expr::MethodCall(m) => self.name_of(&m.receiver),
            _ => "the collection".to_string(),
        }
    }
}

/// Methods after which the order of what came before no longer matters.
const ORDER_INSENSITIVE: &[&str] = &[
    "len",
    "is_empty",
    "count",
    "any",
    "all",
    "sum",
    "product",
    "max",
    "min",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "contains",
    "contains_key",
    "get",
    "get_mut",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "find",
    "find_map",
    "position",
    "starts_with",
    "ends_with",
    "eq",
    "ne",
];

/// Methods that sort the receiver in place.
const SORT_IN_PLACE: &[&str] = &[
    "sort",
    "sort_by",
    "sort_by_key",
    "sort_by_cached_key",
    "sort_unstable",
    "sort_unstable_by",
    "sort_unstable_by_key",
];

/// Methods that return their receiver's items sorted (itertools, walkdir).
const SORTED: &[&str] = &[
    "sorted",
    "sorted_by",
    "sorted_by_key",
    "sorted_unstable",
    "sorted_unstable_by",
    "sorted_unstable_by_key",
    "sort_by_file_name",
    "sort_by_key",
];

/// Methods that add their arguments to the receiver.
const ACCUMULATE: &[&str] = &[
    "push",
    "push_str",
    "push_back",
    "push_front",
    "extend",
    "extend_from_slice",
    "append",
    "append_all",
    "insert",
    "write_str",
    "write_all",
    "write_fmt",
    "write",
    "to_tokens",
];

/// Methods of build tools whose arguments reach a compiler or another command (`cc::Build`,
/// `std::process::Command`, `cmake::Config`).
const COMPILER_INPUTS: &[&str] = &[
    "file", "files", "arg", "args", "include", "includes", "flag", "define", "object",
];

/// Macros whose arguments only reach an error or a log.
const ERROR_MACROS: &[&str] = &[
    "compile_error",
    "panic",
    "unreachable",
    "unimplemented",
    "todo",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "abort",
    "abort_call_site",
    "emit_error",
    "emit_call_site_error",
    "emit_warning",
    "bail",
    "ensure",
    "eprintln",
    "eprint",
    "dbg",
    "error",
    "warn",
    "info",
    "debug",
    "trace",
];

/// Macros that build tokens.
const TOKEN_MACROS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
];

/// One function's analysis.
struct Run<'r, 'c> {
    krate: &'r Crate<'c>,
    sources: &'r dyn Sources,
    state: &'r mut State,
    function: usize,
    file: usize,
    /// New sources are recorded (false when following a value into callers or callees).
    creating: bool,
    /// Calls to these functions return this taint (a callee's return followed into a caller).
    overrides: BTreeMap<String, Taint>,
    depth: usize,
    locals: BTreeMap<String, Local>,
    /// Taint of what the function returns.
    ret: Taint,
    /// The taint of each enclosing `for` loop's items (innermost last).
    loops: Vec<Taint>,
    /// Tainted values stored where the tool cannot follow them.
    escaped: Vec<(Taint, Pos, String)>,
}

impl<'r, 'c> Run<'r, 'c> {
    fn new(
        krate: &'r Crate<'c>,
        sources: &'r dyn Sources,
        state: &'r mut State,
        function: usize,
        creating: bool,
        overrides: BTreeMap<String, Taint>,
        depth: usize,
    ) -> Run<'r, 'c> {
        Run {
            krate,
            sources,
            state,
            function,
            file: krate.functions[function].file,
            creating,
            overrides,
            depth,
            locals: BTreeMap::new(),
            ret: Taint::new(),
            loops: Vec::new(),
            escaped: Vec::new(),
        }
    }

    fn pos(&self, span: proc_macro2::Span) -> Pos {
        Pos::of(self.file, span)
    }

    /// Analyses the function with its parameters tainted as given (by position, `self`
    /// first); returns the taint of its return value.
    fn function(&mut self, params: &[Taint]) -> Taint {
        let function = &self.krate.functions[self.function];
        let sig = function.sig;
        for (i, input) in sig.inputs.iter().enumerate() {
            let taint = params.get(i).cloned().unwrap_or_default();
            match input {
                syn::FnArg::Receiver(_) => {
                    self.bind_name("self", taint, Collection::Unknown, false);
                }
                syn::FnArg::Typed(typed) => {
                    let collection = self.krate.collection_of_type(&typed.ty);
                    let ty = quote_text(&*typed.ty);
                    let output = match self.sources.output() {
                        Output::Tokens => ty.starts_with("& mut") && mentions_tokens(&ty),
                        Output::BuildScript => {
                            ty.starts_with("& mut") && (ty.contains("Write") || ty.contains("File"))
                                || ty.starts_with("impl Write")
                        }
                    };
                    self.bind_pattern(&typed.pat, &taint, collection, output);
                }
            }
        }
        let tail = self.block(function.body);
        let mut ret = std::mem::take(&mut self.ret);
        ret.extend(tail);
        ret
    }

    fn bind_name(&mut self, name: &str, taint: Taint, collection: Collection, output: bool) {
        self.locals.insert(
            name.to_string(),
            Local {
                taint,
                collection,
                output,
            },
        );
    }

    /// Binds every name of a pattern to `taint`.
    fn bind_pattern(&mut self, pat: &Pat, taint: &Taint, collection: Collection, output: bool) {
        match pat {
            Pat::Ident(p) => {
                self.bind_name(&p.ident.to_string(), taint.clone(), collection, output);
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pattern(sub, taint, Collection::Unknown, false);
                }
            }
            Pat::Type(t) => {
                let collection = self.krate.collection_of_type(&t.ty);
                self.bind_pattern(&t.pat, taint, collection, output);
            }
            Pat::Reference(r) => self.bind_pattern(&r.pat, taint, collection, output),
            Pat::Paren(p) => self.bind_pattern(&p.pat, taint, collection, output),
            Pat::Tuple(t) => {
                for elem in &t.elems {
                    self.bind_pattern(elem, taint, Collection::Unknown, false);
                }
            }
            Pat::TupleStruct(t) => {
                for elem in &t.elems {
                    self.bind_pattern(elem, taint, Collection::Unknown, false);
                }
            }
            Pat::Slice(s) => {
                for elem in &s.elems {
                    self.bind_pattern(elem, taint, Collection::Unknown, false);
                }
            }
            Pat::Or(o) => {
                for case in &o.cases {
                    self.bind_pattern(case, taint, collection, output);
                }
            }
            Pat::Struct(s) => {
                for field in &s.fields {
                    let collection = self.krate.field_collection(&field.member);
                    self.bind_pattern(&field.pat, taint, collection, false);
                }
            }
            _ => {}
        }
    }

    fn block(&mut self, block: &syn::Block) -> Taint {
        let mut tail = Taint::new();
        for stmt in &block.stmts {
            tail = self.stmt(stmt);
        }
        tail
    }

    /// A statement; returns the taint of its value when it is a tail expression.
    fn stmt(&mut self, stmt: &Stmt) -> Taint {
        match stmt {
            Stmt::Local(local) => {
                let (taint, init_collection) = match &local.init {
                    Some(init) => {
                        let taint = self.expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.expr(diverge);
                        }
                        (taint, self.collection_of_value(&init.expr))
                    }
                    None => (Taint::new(), Collection::Unknown),
                };
                let (declared, output) = match &local.pat {
                    Pat::Type(t) => (self.krate.collection_of_type(&t.ty), false),
                    _ => (init_collection, is_created_file(local)),
                };
                let collection = match declared {
                    Collection::Unknown => init_collection,
                    known => known,
                };
                let taint = if matches!(
                    collection,
                    Collection::Sorted | Collection::Hash | Collection::FixedHash
                ) {
                    Taint::new()
                } else {
                    taint
                };
                self.bind_pattern(&local.pat, &taint, collection, output);
                Taint::new()
            }
            Stmt::Item(_) => Taint::new(),
            Stmt::Expr(expr, semi) => {
                let taint = self.expr(expr);
                if semi.is_some() { Taint::new() } else { taint }
            }
            Stmt::Macro(mac) => {
                // `quote! { … }` ending a block is its value.
                let taint = self.mac(&mac.mac);
                if mac.semi_token.is_some() {
                    Taint::new()
                } else {
                    taint
                }
            }
        }
    }

    /// The collection a value is, from the expression that makes it.
    fn collection_of_value(&self, expr: &Expr) -> Collection {
        match expr {
            Expr::Call(call) => match &*call.func {
                Expr::Path(p) => {
                    let segments: Vec<String> = p
                        .path
                        .segments
                        .iter()
                        .map(|s| s.ident.to_string())
                        .collect();
                    match segments.len() {
                        n if n >= 2 => {
                            let ty = &p.path.segments[n - 2];
                            let args = match &ty.arguments {
                                syn::PathArguments::AngleBracketed(a) => a.args.len(),
                                _ => 0,
                            };
                            let constructor = segments[n - 1].as_str();
                            let kind = self.krate.collection_named(&segments[n - 2], args);
                            match (kind, constructor) {
                                (Collection::Hash, "with_hasher" | "with_capacity_and_hasher") => {
                                    Collection::FixedHash
                                }
                                (kind, _) => kind,
                            }
                        }
                        _ => Collection::Unknown,
                    }
                }
                _ => Collection::Unknown,
            },
            Expr::MethodCall(m) if m.method == "collect" => self.collected_into(m),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => Collection::Ordered,
            Expr::Macro(m) if TOKEN_MACROS.iter().any(|name| m.mac.path.is_ident(name)) => {
                Collection::Ordered
            }
            Expr::MethodCall(m) if m.method == "clone" => self.collection_of_value(&m.receiver),
            Expr::Path(_) | Expr::Reference(_) => self.scope().collection(expr),
            _ => Collection::Unknown,
        }
    }

    /// The collection `.collect::<T>()` makes, from its turbofish.
    fn collected_into(&self, call: &syn::ExprMethodCall) -> Collection {
        call.turbofish
            .as_ref()
            .and_then(|t| t.args.first())
            .map_or(Collection::Unknown, |arg| match arg {
                syn::GenericArgument::Type(ty) => self.krate.collection_of_type(ty),
                _ => Collection::Unknown,
            })
    }

    fn scope(&self) -> Scope<'_, 'c> {
        Scope {
            krate: self.krate,
            locals: &self.locals,
        }
    }

    fn new_source(&mut self, span: proc_macro2::Span, what: String) -> SourceId {
        let id = self.state.found.len();
        self.state.found.push(Found {
            pos: self.pos(span),
            what,
        });
        id
    }

    /// The local (or `self.field`) an expression writes into.
    fn place(expr: &Expr) -> Option<String> {
        match expr {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            Expr::Field(f) => match (&*f.base, &f.member) {
                (Expr::Path(base), syn::Member::Named(name)) if base.path.is_ident("self") => {
                    Some(format!("self.{name}"))
                }
                _ => Run::place(&f.base),
            },
            Expr::Index(i) => Run::place(&i.expr),
            Expr::Unary(u) => Run::place(&u.expr),
            Expr::Reference(r) => Run::place(&r.expr),
            Expr::Paren(p) => Run::place(&p.expr),
            Expr::MethodCall(m) => Run::place(&m.receiver),
            _ => None,
        }
    }

    /// Adds `taint` to what `target` holds: output when it is an output, else the place gets
    /// the taint; a place the tool cannot follow loses it.
    fn write_into(&mut self, target: &Expr, taint: Taint, span: proc_macro2::Span, how: &str) {
        if taint.is_empty() {
            return;
        }
        let pos = self.pos(span);
        // Inserting into a hashed or sorted collection (`meta.seen.insert(x)`) keeps no order.
        if matches!(
            self.scope().collection(target),
            Collection::Hash | Collection::Sorted | Collection::FixedHash
        ) {
            return;
        }
        let Some(place) = Run::place(target) else {
            self.escaped.push((
                taint,
                pos,
                "it is written into a value the tool cannot follow".into(),
            ));
            return;
        };
        match self.locals.get_mut(&place) {
            Some(local) if local.output => {
                self.state.reach(&taint, pos, how);
            }
            Some(local) => {
                if matches!(
                    local.collection,
                    Collection::Hash | Collection::Sorted | Collection::FixedHash
                ) {
                    return;
                }
                local.taint.extend(taint);
            }
            None if place.starts_with("self.") => {
                let field = &place["self.".len()..];
                if matches!(
                    self.krate.fields.get(field),
                    Some(Collection::Hash | Collection::Sorted | Collection::FixedHash)
                ) {
                    return;
                }
                let why = format!("it is stored in `{place}`, which the tool does not follow");
                self.escaped.push((taint.clone(), pos, why));
                self.bind_name(&place, taint, Collection::Unknown, false);
            }
            None => {
                let why = format!("it is written into `{place}`, which the tool does not follow");
                self.escaped.push((taint, pos, why));
            }
        }
    }

    fn expr(&mut self, expr: &Expr) -> Taint {
        let mut taint = Taint::new();
        if self.creating
            && let Some(what) = self.sources.at_expr(expr, &self.scope())
        {
            taint.insert(self.new_source(expr.span(), what));
        }
        taint.extend(self.expr_inner(expr));
        taint
    }

    fn exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) -> Taint {
        let mut taint = Taint::new();
        for expr in exprs {
            taint.extend(self.expr(expr));
        }
        taint
    }

    fn expr_inner(&mut self, expr: &Expr) -> Taint {
        match expr {
            Expr::Path(p) => match p.path.get_ident() {
                Some(ident) => self
                    .locals
                    .get(&ident.to_string())
                    .map(|l| l.taint.clone())
                    .unwrap_or_default(),
                None => Taint::new(),
            },
            Expr::Field(f) => {
                let mut taint = self.expr(&f.base);
                if let Some(place) = Run::place(expr)
                    && let Some(local) = self.locals.get(&place)
                {
                    taint.extend(local.taint.iter().copied());
                }
                taint
            }
            Expr::Reference(e) => self.expr(&e.expr),
            Expr::Paren(e) => self.expr(&e.expr),
            Expr::Group(e) => self.expr(&e.expr),
            Expr::Unary(e) => self.expr(&e.expr),
            Expr::Cast(e) => self.expr(&e.expr),
            Expr::Try(e) => self.expr(&e.expr),
            Expr::Await(e) => self.expr(&e.base),
            Expr::Index(e) => {
                let taint = self.expr(&e.expr);
                self.expr(&e.index);
                taint
            }
            Expr::Binary(e) => {
                let left = self.expr(&e.left);
                let right = self.expr(&e.right);
                if is_compound_assignment(&e.op) {
                    self.write_into(&e.left, right, e.op.span(), "an assignment");
                    return Taint::new();
                }
                if is_comparison(&e.op) {
                    return Taint::new();
                }
                left.union(&right).copied().collect()
            }
            Expr::Assign(e) => {
                let right = self.expr(&e.right);
                match Run::place(&e.left) {
                    Some(place) if self.locals.contains_key(&place) && is_plain_local(&e.left) => {
                        let local = self.locals.get_mut(&place).expect("checked");
                        local.taint = right;
                    }
                    _ => self.write_into(&e.left, right, e.eq_token.span, "an assignment"),
                }
                Taint::new()
            }
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Macro(m) => self.mac(&m.mac),
            Expr::ForLoop(e) => {
                let mut items = self.expr(&e.expr);
                if self.creating
                    && let Some(what) = self.sources.at_for(&e.expr, &self.scope())
                {
                    items.insert(self.new_source(e.expr.span(), what));
                }
                self.bind_pattern(&e.pat, &items, Collection::Unknown, false);
                self.loops.push(items);
                self.block(&e.body);
                self.loops.pop();
                Taint::new()
            }
            Expr::While(e) => {
                self.expr(&e.cond);
                self.block(&e.body);
                Taint::new()
            }
            Expr::Loop(e) => {
                self.block(&e.body);
                Taint::new()
            }
            Expr::If(e) => {
                self.expr(&e.cond);
                let mut taint = self.block(&e.then_branch);
                if let Some((_, other)) = &e.else_branch {
                    taint.extend(self.expr(other));
                }
                if self.is_build_kind_condition(&e.cond, 2) {
                    let pos = self.pos(e.if_token.span);
                    for &id in &taint {
                        self.state.conditional.entry(id).or_insert(pos);
                    }
                }
                taint
            }
            Expr::Match(e) => {
                let scrutinee = self.expr(&e.expr);
                let mut taint = Taint::new();
                for arm in &e.arms {
                    self.bind_pattern(&arm.pat, &scrutinee, Collection::Unknown, false);
                    if let Some((_, guard)) = &arm.guard {
                        self.expr(guard);
                    }
                    taint.extend(self.expr(&arm.body));
                }
                taint
            }
            Expr::Let(e) => {
                let taint = self.expr(&e.expr);
                self.bind_pattern(&e.pat, &taint, Collection::Unknown, false);
                Taint::new()
            }
            Expr::Block(e) => self.block(&e.block),
            Expr::Unsafe(e) => self.block(&e.block),
            Expr::Const(e) => self.block(&e.block),
            Expr::TryBlock(e) => self.block(&e.block),
            Expr::Async(e) => self.block(&e.block),
            Expr::Closure(c) => self.closure(c, &Taint::new()),
            Expr::Return(e) => {
                if let Some(value) = &e.expr {
                    let taint = self.expr(value);
                    self.returned(taint);
                }
                Taint::new()
            }
            Expr::Break(e) => {
                // `break value` picks one item: a search, as for `return` in a loop.
                if let Some(value) = &e.expr {
                    self.expr(value);
                }
                Taint::new()
            }
            Expr::Struct(e) => {
                let mut taint = self.exprs(e.fields.iter().map(|f| &f.expr));
                if let Some(rest) = &e.rest {
                    taint.extend(self.expr(rest));
                }
                taint
            }
            Expr::Tuple(e) => self.exprs(&e.elems),
            Expr::Array(e) => self.exprs(&e.elems),
            Expr::Repeat(e) => self.expr(&e.expr),
            Expr::Range(e) => {
                let mut taint = Taint::new();
                if let Some(start) = &e.start {
                    taint.extend(self.expr(start));
                }
                if let Some(end) = &e.end {
                    taint.extend(self.expr(end));
                }
                taint
            }
            _ => Taint::new(),
        }
    }

    /// A `return value`: inside a loop over a source, picking one item is a search (its
    /// order only matters when several items match, which the tool does not count as output).
    fn returned(&mut self, taint: Taint) {
        let searched: Taint = self.loops.iter().flatten().copied().collect();
        self.ret.extend(taint.difference(&searched).copied());
    }

    /// True when a condition reads the build's profile or the package's version (`PROFILE`,
    /// `DEBUG`, `OPT_LEVEL`, `CARGO_PKG_VERSION*`, `debug_assertions`), itself or through the
    /// crate's functions it calls (`depth` levels).
    fn is_build_kind_condition(&self, cond: &Expr, depth: usize) -> bool {
        let mut names = BuildKindNames::default();
        syn::visit::Visit::visit_expr(&mut names, cond);
        names.found
            || (depth > 0
                && names
                    .calls
                    .iter()
                    .any(|name| self.reads_build_kind(name, depth - 1)))
    }

    /// True when a function of the crate named `name` reads the build's profile or version,
    /// itself or through the functions it calls (`depth` more levels).
    fn reads_build_kind(&self, name: &str, depth: usize) -> bool {
        self.krate.functions_named(name).any(|index| {
            let mut names = BuildKindNames::default();
            syn::visit::Visit::visit_block(&mut names, self.krate.functions[index].body);
            names.found
                || (depth > 0
                    && names
                        .calls
                        .iter()
                        .any(|called| self.reads_build_kind(called, depth - 1)))
        })
    }

    fn closure(&mut self, closure: &syn::ExprClosure, items: &Taint) -> Taint {
        for input in &closure.inputs {
            self.bind_pattern(input, items, Collection::Unknown, false);
        }
        let saved = std::mem::take(&mut self.ret);
        let mut taint = self.expr(&closure.body);
        taint.extend(std::mem::replace(&mut self.ret, saved));
        taint
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Taint {
        let method = call.method.to_string();
        let receiver = self.expr(&call.receiver);
        let mut args = Taint::new();
        for arg in &call.args {
            args.extend(match arg {
                Expr::Closure(c) => self.closure(c, &receiver),
                other => self.expr(other),
            });
        }
        if let Some(taint) = self.overrides.get(&method) {
            let mut taint = taint.clone();
            taint.extend(self.callee(&method, &receiver, &args));
            return taint;
        }
        let method = method.as_str();
        let pos = self.pos(call.method.span());
        if SORT_IN_PLACE.contains(&method) {
            if let Some(place) = Run::place(&call.receiver)
                && let Some(local) = self.locals.get_mut(&place)
            {
                local.taint.clear();
            }
            return Taint::new();
        }
        if SORTED.contains(&method) || ORDER_INSENSITIVE.contains(&method) {
            return Taint::new();
        }
        if method == "collect" {
            let into = self.collected_into(call);
            if matches!(
                into,
                Collection::Sorted | Collection::Hash | Collection::FixedHash
            ) {
                return Taint::new();
            }
            if into == Collection::Ordered && self.sources.output() == Output::Tokens {
                let text = call
                    .turbofish
                    .as_ref()
                    .map(|t| quote_text(t))
                    .unwrap_or_default();
                if mentions_tokens(&text) {
                    self.mark_tokens(&receiver, pos);
                }
            }
            return receiver;
        }
        if ACCUMULATE.contains(&method) {
            let (target, value) = if method == "to_tokens" {
                (call.args.first(), receiver.clone())
            } else {
                (Some(&*call.receiver), args.clone())
            };
            if let Some(target) = target {
                let how = if method == "to_tokens" || self.sources.output() == Output::Tokens {
                    "the tokens written"
                } else {
                    "what is written"
                };
                self.write_into(target, value, call.method.span(), how);
            }
            return Taint::new();
        }
        if self.sources.output() == Output::BuildScript && COMPILER_INPUTS.contains(&method) {
            if !args.is_empty() {
                let how = format!("the arguments of `.{method}(…)`");
                self.state.reach(&args, pos, &how);
            }
            return receiver;
        }
        let callee = self.callee(method, &receiver, &args);
        let mut taint = receiver;
        taint.extend(args);
        taint.extend(callee);
        taint
    }

    /// The taint a crate function returns when called with these taints (followed when some
    /// argument is tainted and the function is the crate's own).
    fn callee(&mut self, name: &str, receiver: &Taint, args: &Taint) -> Taint {
        if (receiver.is_empty() && args.is_empty()) || self.depth >= MAX_DEPTH {
            return Taint::new();
        }
        let mut out = Taint::new();
        let candidates: Vec<usize> = self.krate.functions_named(name).collect();
        for index in candidates {
            if self.state.active.contains(&index) || index == self.function {
                continue;
            }
            let has_receiver = matches!(
                self.krate.functions[index].sig.inputs.first(),
                Some(syn::FnArg::Receiver(_))
            );
            let count = self.krate.functions[index].sig.inputs.len();
            let params: Vec<Taint> = (0..count)
                .map(|i| {
                    if has_receiver && i == 0 {
                        receiver.clone()
                    } else {
                        args.clone()
                    }
                })
                .collect();
            let key = (index, params.clone());
            if let Some(summary) = self.state.summaries.get(&key) {
                out.extend(summary.iter().copied());
                continue;
            }
            self.state.active.insert(index);
            let (ret, escaped) = {
                let mut run = Run::new(
                    self.krate,
                    self.sources,
                    self.state,
                    index,
                    false,
                    BTreeMap::new(),
                    self.depth + 1,
                );
                let ret = run.function(&params);
                (ret, std::mem::take(&mut run.escaped))
            };
            self.state.active.remove(&index);
            for (taint, pos, why) in escaped {
                self.state.lose(&taint, pos, &why);
            }
            self.state.summaries.insert(key, ret.clone());
            out.extend(ret);
        }
        out
    }

    fn call(&mut self, call: &syn::ExprCall) -> Taint {
        let mut args = Taint::new();
        for arg in &call.args {
            args.extend(self.expr(arg));
        }
        let Expr::Path(func) = &*call.func else {
            let mut taint = self.expr(&call.func);
            taint.extend(args);
            return taint;
        };
        let path = &func.path;
        let name = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if let Some(taint) = self.overrides.get(&name) {
            let mut taint = taint.clone();
            taint.extend(self.callee(&name, &Taint::new(), &args));
            return taint;
        }
        if path.is_ident("Err") || is_error_constructor(path) {
            return Taint::new();
        }
        let pos = self.pos(call.func.span());
        if self.sources.output() == Output::BuildScript && path_ends_with(path, "fs::write") {
            if let Some(contents) = call.args.iter().nth(1) {
                let taint = self.expr_taint_only(contents);
                self.state.reach(&taint, pos, "the file it writes");
            }
            return Taint::new();
        }
        if self.sources.output() == Output::BuildScript && path_ends_with(path, "env::set_var") {
            self.state
                .reach(&args, pos, "an environment variable it sets for the build");
            return Taint::new();
        }
        if self.sources.output() == Output::Tokens
            && (path_ends_with(path, "TokenStream::from_iter")
                || path_ends_with(path, "TokenStream::from"))
        {
            self.mark_tokens(&args, pos);
        }
        let callee = self.callee(&name, &Taint::new(), &args);
        let mut taint = args;
        taint.extend(callee);
        taint
    }

    /// The taint of an expression already evaluated (reads locals only).
    fn expr_taint_only(&mut self, expr: &Expr) -> Taint {
        let creating = std::mem::replace(&mut self.creating, false);
        let taint = self.expr(expr);
        self.creating = creating;
        taint
    }

    fn mark_tokens(&mut self, taint: &Taint, pos: Pos) {
        for &id in taint {
            self.state.tokens_at.entry(id).or_insert(pos);
        }
    }

    fn mac(&mut self, mac: &syn::Macro) -> Taint {
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return Taint::new();
        };
        let pos = self.pos(mac.path.span());
        if TOKEN_MACROS.contains(&name.as_str()) {
            if mentions_ident(&mac.tokens, "compile_error") {
                return Taint::new();
            }
            let mut taint = Taint::new();
            for interpolated in interpolations(&mac.tokens) {
                if let Some(local) = self.locals.get(&interpolated) {
                    taint.extend(local.taint.iter().copied());
                }
            }
            self.mark_tokens(&taint, pos);
            return taint;
        }
        if ERROR_MACROS.contains(&name.as_str()) {
            return Taint::new();
        }
        let args = self.macro_args(mac);
        match name.as_str() {
            "println" | "print" if self.sources.output() == Output::BuildScript => {
                let instruction = first_string(mac).unwrap_or_default();
                if is_effective_cargo_instruction(&instruction) {
                    let shown = instruction.split('=').next().unwrap_or("cargo:");
                    let how = format!("the `{shown}` instruction printed to cargo");
                    self.state.reach(&args, pos, &how);
                }
                Taint::new()
            }
            "write" | "writeln" => {
                let parsed = mac.parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                );
                if let Ok(parsed) = parsed
                    && let Some(target) = parsed.first()
                {
                    let how = if self.sources.output() == Output::Tokens {
                        "the tokens written"
                    } else {
                        "what is written"
                    };
                    self.write_into(target, args, mac.path.span(), how);
                }
                Taint::new()
            }
            _ => args,
        }
    }

    /// The taint of a macro's arguments: comma-separated expressions when they parse, and the
    /// names in a format string (`{name}`).
    fn macro_args(&mut self, mac: &syn::Macro) -> Taint {
        let mut taint = Taint::new();
        let parsed = mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated);
        match parsed {
            Ok(args) => {
                for arg in &args {
                    if let Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = arg
                    {
                        // The literal itself can be a source (a flag in a `cargo:` line).
                        taint.extend(self.expr(arg));
                        for name in inline_format_names(&s.value()) {
                            if let Some(local) = self.locals.get(&name) {
                                taint.extend(local.taint.iter().copied());
                            }
                        }
                    } else {
                        taint.extend(self.expr(arg));
                    }
                }
            }
            Err(_) => {
                for name in idents(&mac.tokens) {
                    if let Some(local) = self.locals.get(&name) {
                        taint.extend(local.taint.iter().copied());
                    }
                }
            }
        }
        taint
    }
}

/// Variables and cfgs that tell one kind of build from another.
const BUILD_KIND_NAMES: &[&str] = &[
    "PROFILE",
    "DEBUG",
    "OPT_LEVEL",
    "CARGO_PKG_VERSION",
    "CARGO_PKG_VERSION_PRE",
    "debug_assertions",
];

/// Whether code names one of [`BUILD_KIND_NAMES`], and the functions it calls.
#[derive(Default)]
struct BuildKindNames {
    found: bool,
    calls: Vec<String>,
}

impl syn::visit::Visit<'_> for BuildKindNames {
    fn visit_lit_str(&mut self, lit: &syn::LitStr) {
        self.found |= BUILD_KIND_NAMES.contains(&lit.value().as_str());
    }

    fn visit_ident(&mut self, ident: &proc_macro2::Ident) {
        self.found |= ident == "debug_assertions";
    }

    fn visit_macro(&mut self, mac: &syn::Macro) {
        self.found |= BUILD_KIND_NAMES
            .iter()
            .any(|name| mentions_ident(&mac.tokens, name))
            || mac.tokens.to_string().contains("debug_assertions")
            || BUILD_KIND_NAMES
                .iter()
                .any(|name| mac.tokens.to_string().contains(&format!("\"{name}\"")));
    }

    fn visit_expr_call(&mut self, call: &syn::ExprCall) {
        if let Expr::Path(p) = &*call.func
            && let Some(last) = p.path.segments.last()
        {
            self.calls.push(last.ident.to_string());
        }
        syn::visit::visit_expr_call(self, call);
    }
}

fn is_plain_local(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(p) if p.path.get_ident().is_some())
}

fn is_compound_assignment(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

fn is_comparison(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        Eq(_) | Lt(_) | Le(_) | Ne(_) | Ge(_) | Gt(_) | And(_) | Or(_)
    )
}

/// `let f = File::create(…)` (and `BufWriter::new(File::create(…))`).
fn is_created_file(local: &syn::Local) -> bool {
    #[derive(Default)]
    struct Creates(bool);
    impl syn::visit::Visit<'_> for Creates {
        fn visit_path(&mut self, path: &syn::Path) {
            self.0 |= path_ends_with(path, "File::create")
                || path.segments.iter().any(|s| s.ident == "OpenOptions");
        }
    }
    local.init.as_ref().is_some_and(|init| {
        let mut creates = Creates::default();
        syn::visit::Visit::visit_expr(&mut creates, &init.expr);
        creates.0
    })
}

/// `syn::Error::new`, `Error::new_spanned`, `darling::Error::custom` and the like.
fn is_error_constructor(path: &syn::Path) -> bool {
    let segments: Vec<&syn::Ident> = path.segments.iter().map(|s| &s.ident).collect();
    match segments.as_slice() {
        [.., ty, _] if ty.to_string().ends_with("Error") => true,
        [.., f] => *f == "format_err" || *f == "abort" || *f == "panic_any",
        _ => false,
    }
}

/// The first string literal of a macro's arguments.
fn first_string(mac: &syn::Macro) -> Option<String> {
    mac.tokens.clone().into_iter().find_map(|tree| match tree {
        TokenTree::Literal(lit) => match syn::parse_str::<syn::LitStr>(&lit.to_string()) {
            Ok(s) => Some(s.value()),
            Err(_) => None,
        },
        _ => None,
    })
}

/// True for a `cargo:` (or `cargo::`) instruction that changes the build; `rerun-if-*` and
/// `warning` do not.
fn is_effective_cargo_instruction(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("cargo::")
        .or_else(|| text.strip_prefix("cargo:"))
    else {
        return false;
    };
    !(rest.starts_with("rerun-if") || rest.starts_with("warning") || rest.starts_with("error"))
}

/// The names a format string uses inline (`{name}`, `{name:?}`).
fn inline_format_names(format: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let end = rest.find(['}', ':']).unwrap_or(rest.len());
        let name = &rest[..end];
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// The names interpolated into a `quote!` (`#name`, and inside `#(…)*` repetitions).
fn interpolations(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Punct(p) if p.as_char() == '#' => match trees.get(i + 1) {
                Some(TokenTree::Ident(ident)) => out.push(ident.to_string()),
                Some(TokenTree::Group(group))
                    if group.delimiter() == proc_macro2::Delimiter::Parenthesis =>
                {
                    out.extend(interpolations(&group.stream()));
                }
                _ => {}
            },
            TokenTree::Group(group) => out.extend(interpolations(&group.stream())),
            _ => {}
        }
    }
    out
}

/// True when `name` appears as an identifier in the tokens.
fn mentions_ident(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == name,
        TokenTree::Group(group) => mentions_ident(&group.stream(), name),
        _ => false,
    })
}

/// Every identifier in the tokens.
fn idents(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => out.extend(idents(&group.stream())),
            _ => {}
        }
    }
    out
}
