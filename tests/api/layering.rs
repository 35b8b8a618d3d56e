//! The layering check (issue 12): reads every file of `src/`, lists the edges between
//! top-level modules (`crate::x` paths in `use` lines and in expressions, and `super::`
//! paths that climb out of a module) and fails on any edge from a lower layer to a
//! higher one, and on any cycle between the modules inside `store/`:
//!
//! ```text
//! domain <- store <- {recruiterflow, replication, mail, slack, notify} <- web <- app <- cli
//! ```
//!
//! The leaf modules `config`, `credentials`, `tasks` and `telemetry` may be used by any
//! layer and may use only `domain`. A module of `src/` missing from [`LAYERS`] fails the
//! check until it is placed. Modules of one layer (`recruiterflow` and `replication`)
//! may use each other. In `store/`, edges to the store's root (`store/mod.rs`: `Store`,
//! `Result`, `Tx`) are not part of the cycle check, only edges between its submodules.
//!
//! `src/main.rs` is the binary's crate (its paths say `jobrank::`, not `crate::`) and is
//! not read; `src/lib.rs` only declares the modules. Comments (doc links included),
//! strings and character literals are skipped, so only code makes an edge.
//!
//! The check runs with the suite (`scripts/test`); `cargo test --test api layering --
//! --nocapture` prints the edge list. It is tested on a small tree of its own
//! (`tests/fixtures/layering/src`), with a bad edge of each kind and a store cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where a top-level module of `src/` sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// Higher layers may use lower ones: 0 is `domain`, 5 is `cli`.
    Rank(u8),
    /// Used by any layer; uses only `domain`.
    Leaf,
}

/// Every top-level module of `src/` and its layer.
const LAYERS: &[(&str, Layer)] = &[
    ("domain", Layer::Rank(0)),
    ("store", Layer::Rank(1)),
    // Integrations, beside each other.
    ("recruiterflow", Layer::Rank(2)),
    ("replication", Layer::Rank(2)),
    ("mail", Layer::Rank(2)),
    ("slack", Layer::Rank(2)),
    ("notify", Layer::Rank(2)),
    ("web", Layer::Rank(3)),
    ("app", Layer::Rank(4)),
    ("cli", Layer::Rank(5)),
    ("config", Layer::Leaf),
    ("credentials", Layer::Leaf),
    ("tasks", Layer::Leaf),
    ("telemetry", Layer::Leaf),
];

fn layer_of(module: &str) -> Option<Layer> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// One use of another module: where, and the path as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
    path: String,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} -> {} ({})",
            self.file, self.line, self.from, self.to, self.path
        )
    }
}

/// What the check found in a source tree.
#[derive(Debug, Default)]
struct Report {
    /// Edges between top-level modules.
    edges: Vec<Edge>,
    /// Edges between the submodules of `store/` (`from` and `to` are their names).
    store_edges: Vec<Edge>,
}

impl Report {
    /// Every offending edge, one line each, naming its file and line.
    fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.edges {
            let why = match (layer_of(&e.from), layer_of(&e.to)) {
                (None, _) => Some(format!("{} is not in the layering table", e.from)),
                (_, None) => Some(format!("{} is not in the layering table", e.to)),
                (Some(Layer::Leaf), _) if e.to != "domain" => Some(format!(
                    "{} is a leaf module: it may use only domain",
                    e.from
                )),
                (Some(Layer::Rank(from)), Some(Layer::Rank(to))) if from < to => Some(format!(
                    "{} (layer {from}) must not use {} (layer {to}), a higher layer",
                    e.from, e.to
                )),
                _ => None,
            };
            if let Some(why) = why {
                out.push(format!("{e}: {why}"));
            }
        }
        for cycle in store_cycles(&self.store_edges) {
            let names: Vec<&str> = cycle.iter().map(String::as_str).collect();
            for e in &self.store_edges {
                if cycle.contains(&e.from) && cycle.contains(&e.to) {
                    out.push(format!(
                        "{e}: store::{} and store::{} are in a cycle of store/ ({})",
                        e.from,
                        e.to,
                        names.join(", ")
                    ));
                }
            }
        }
        out
    }

    /// The edges between top-level modules, counted: "from -> to: n".
    fn summary(&self) -> Vec<String> {
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for e in &self.edges {
            *counts.entry((&e.from, &e.to)).or_default() += 1;
        }
        counts
            .iter()
            .map(|((from, to), n)| format!("{from} -> {to}: {n}"))
            .collect()
    }
}

/// The strongly connected groups of more than one store submodule (Tarjan), each
/// sorted by name.
fn store_cycles(edges: &[Edge]) -> Vec<BTreeSet<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
        graph.entry(&e.to).or_default();
    }
    struct Tarjan<'a> {
        graph: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        groups: Vec<BTreeSet<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for &w in &self.graph[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.groups.push(group);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for &v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.groups.sort();
    t.groups
}

// ---------- reading the tree ----------

/// The `.rs` files under `src` with their module paths (`src/store/jobs.rs` is
/// `["store", "jobs"]`), sorted; `main.rs` is left out.
fn modules(src: &Path) -> Vec<(PathBuf, Vec<String>)> {
    fn walk(dir: &Path, prefix: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, &p, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let module = match (prefix.is_empty(), stem) {
                    (true, "main") => continue,
                    (true, "lib") | (false, "mod") => prefix.to_vec(),
                    _ => {
                        let mut p = prefix.to_vec();
                        p.push(stem.to_string());
                        p
                    }
                };
                out.push((path, module));
            }
        }
    }
    let mut out = Vec::new();
    walk(src, &[], &mut out);
    out
}

/// Reads the tree under `src` (a crate's `src/`).
fn check(src: &Path) -> Report {
    let files = modules(src);
    let tops: BTreeSet<String> = files
        .iter()
        .filter_map(|(_, m)| m.first().cloned())
        .collect();
    let store_children: BTreeSet<String> = files
        .iter()
        .filter(|(_, m)| m.len() >= 2 && m[0] == "store")
        .map(|(_, m)| m[1].clone())
        .collect();
    let root = src.parent().unwrap_or(src);
    // Each file's code, and the modules declared `#[cfg(test)] mod x;` (unit tests in
    // files of their own, not read).
    let mut code = Vec::new();
    let mut test_modules: Vec<Vec<String>> = Vec::new();
    for (path, module) in &files {
        let (text, tests) = production_code(&std::fs::read_to_string(path).unwrap());
        test_modules.extend(
            tests
                .into_iter()
                .map(|t| [module.clone(), vec![t]].concat()),
        );
        code.push(text);
    }
    let mut report = Report::default();
    for ((path, module), text) in files.iter().zip(code) {
        let Some(top) = module.first() else {
            continue; // lib.rs declares the modules.
        };
        if test_modules.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let file = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        for (line, written, target) in paths(&text, module) {
            let Some(to) = target.first().filter(|t| tops.contains(*t)) else {
                continue; // an item of lib.rs (`crate::install_crypto`), or unresolvable
            };
            let edge = |from: &str, to: &str| Edge {
                from: from.to_string(),
                to: to.to_string(),
                file: file.clone(),
                line,
                path: written.clone(),
            };
            if to != top {
                report.edges.push(edge(top, to));
            } else if top == "store"
                && module.len() >= 2
                && target.len() >= 2
                && store_children.contains(&target[1])
                && target[1] != module[1]
            {
                report.store_edges.push(edge(&module[1], &target[1]));
            }
        }
    }
    report.edges.sort();
    report.edges.dedup();
    report.store_edges.sort();
    report.store_edges.dedup();
    report
}

/// A file's code without its unit tests, and the test modules it declares in files of
/// their own: a test module may call what the code it tests may not (a store entity's
/// tests setting the scene with store commands), which is no edge of the program.
///
/// `#[cfg(test)]` before `mod x;` marks the module `x`, in its own file: that line is
/// skipped (and [`check`] skips the file). Before anything else it marks an inline
/// `mod tests { ... }`, which by convention ends the file: the rest is skipped. Skipped
/// lines stay as empty lines, so every line keeps its number.
fn production_code(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_modules = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        match lines.next().and_then(module_declaration) {
            Some(name) => {
                test_modules.push(name);
                out.push_str("\n\n");
            }
            None => break,
        }
    }
    (out, test_modules)
}

/// The name of a module declared without a body on this line: `mod x;`, `pub mod x;`,
/// `pub(crate) mod x;`.
fn module_declaration(line: &str) -> Option<String> {
    let (head, name) = line.trim().strip_suffix(';')?.rsplit_once(' ')?;
    let visibility = head.strip_suffix("mod")?.trim_end();
    let visible = visibility.is_empty()
        || visibility == "pub"
        || (visibility.starts_with("pub(") && visibility.ends_with(')'));
    let ident = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    (visible && ident).then(|| name.to_string())
}

/// A token of Rust source, as far as paths need: identifiers (raw ones without `r#`),
/// `::`, and single punctuation characters; with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Splits Rust source into tokens, skipping whitespace, comments (line, block and
/// nested block), string, byte string, raw string and character literals, lifetimes
/// and numbers.
fn tokens(text: &str) -> Vec<(usize, Token)> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' || (matches!(ch, 'b' | 'c') && at(i + 1) == '"') {
            // A string: to the closing quote not escaped.
            i += if ch == '"' { 1 } else { 2 };
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if let Some(hashes) = raw_string_start(&c, i) {
            // r"..", r#".."#, br#".."#: to the quote followed by as many #.
            i += hashes.1;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (1..=hashes.0).all(|k| at(i + k) == '#') {
                    i += 1 + hashes.0;
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped character literal: '\n', '\'', '\u{1F600}'.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3; // 'x'
            } else {
                // A lifetime or label: 'a, 'static.
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
        } else if ch == 'r' && at(i + 1) == '#' && (at(i + 2).is_alphabetic() || at(i + 2) == '_') {
            // A raw identifier.
            let start = i + 2;
            i = start;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((line, Token::Ident(c[start..i].iter().collect())));
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((line, Token::Ident(c[start..i].iter().collect())));
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                // 1.5, 0x1F, 10_000u64; `1..2` stops at the second dot below.
                if c[i] == '.' && at(i + 1) == '.' {
                    break;
                }
                i += 1;
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push((line, Token::PathSep));
            i += 2;
        } else {
            out.push((line, Token::Punct(ch)));
            i += 1;
        }
    }
    out
}

/// At a raw string's start (`r"`, `r#"`, `br##"`, ...): (number of #, chars up to and
/// including the opening quote).
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') || c.get(j) == Some(&'c') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j + 1 - i))
}

/// The paths in a file of module `module` that start with `crate`, `super` or `self`,
/// in `use` trees and in code: (line, path as written, absolute module path it names).
/// A `use` group (`use super::{a, b::c}`) gives one path per member. Inline modules
/// (`mod tests { use super::*; }`) are followed, so their `super` is the file's module.
fn paths(text: &str, module: &[String]) -> Vec<(usize, String, Vec<String>)> {
    let toks = tokens(text);
    let ident = |i: usize| match toks.get(i) {
        Some((_, Token::Ident(s))) => Some(s.as_str()),
        _ => None,
    };
    let is = |i: usize, t: &Token| toks.get(i).map(|(_, x)| x) == Some(t);
    // The module each token is in: the file's, plus inline `mod name {` blocks.
    let mut current: Vec<String> = module.to_vec();
    let mut opened: Vec<Option<String>> = Vec::new();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].1 {
            Token::Punct('{') => {
                let inline = (i >= 2 && ident(i - 2) == Some("mod"))
                    .then(|| ident(i - 1).map(str::to_string))
                    .flatten();
                if let Some(name) = &inline {
                    current.push(name.clone());
                }
                opened.push(inline);
            }
            Token::Punct('}') => {
                if let Some(Some(_)) = opened.pop() {
                    current.pop();
                }
            }
            Token::Ident(first)
                if matches!(first.as_str(), "crate" | "super" | "self")
                    && is(i + 1, &Token::PathSep)
                    && !(i > 0 && is(i - 1, &Token::PathSep))
                    && !(i > 0 && ident(i - 1) == Some("in")) =>
            {
                let (end, found) = use_tree(&toks, i, Vec::new());
                for (line, segments) in found {
                    let written = segments.join("::");
                    if let Some(target) = resolve(&current, &segments) {
                        out.push((line, written, target));
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads a path (or `use` tree) from token `i`: every full path it names, each with
/// the line of its last segment, and the index after it. Braced groups are expanded;
/// `*` and `as` end a path.
fn use_tree(
    toks: &[(usize, Token)],
    mut i: usize,
    prefix: Vec<String>,
) -> (usize, Vec<(usize, Vec<String>)>) {
    let mut path = prefix;
    let mut line = toks.get(i).map_or(0, |(l, _)| *l);
    let mut found = Vec::new();
    loop {
        match toks.get(i) {
            Some((l, Token::Ident(s))) => {
                path.push(s.clone());
                line = *l;
                i += 1;
            }
            Some((_, Token::Punct('{'))) => {
                // A group: members separated by commas, each a tree of its own.
                i += 1;
                loop {
                    match toks.get(i).map(|(_, t)| t) {
                        Some(Token::Punct('}')) => {
                            i += 1;
                            break;
                        }
                        Some(Token::Punct(',')) => i += 1,
                        None => break,
                        _ => {
                            let (next, inner) = use_tree(toks, i, path.clone());
                            found.extend(inner);
                            // Skip `as name` and anything else up to `,` or `}`.
                            i = next;
                            while let Some((_, t)) = toks.get(i) {
                                if matches!(t, Token::Punct(',') | Token::Punct('}')) {
                                    break;
                                }
                                i += 1;
                            }
                        }
                    }
                }
                return (i, found);
            }
            _ => break,
        }
        if matches!(toks.get(i).map(|(_, t)| t), Some(Token::PathSep)) {
            i += 1;
        } else {
            break;
        }
    }
    // `use a::{self}` names `a`.
    if path.last().is_some_and(|s| s == "self") && path.len() > 1 {
        path.pop();
    }
    found.push((line, path));
    (i, found)
}

/// The absolute module path a path names from `module`: `crate::a::b` is `[a, b]`,
/// `super::x` in `[store, jobs]` is `[store, x]`, `self::x` is `module ++ [x]`. `None`
/// for a `super` beyond the crate root, or a path that is `self` alone.
fn resolve(module: &[String], segments: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String>;
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &rest[1..];
        }
        Some("self") => {
            base = module.to_vec();
            rest = &rest[1..];
        }
        Some("super") => {
            base = module.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

// ---------- the checks ----------

/// jobrank's own `src/` keeps its layers.
#[test]
fn the_source_tree_keeps_its_layers_and_store_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let report = check(&src);
    println!("edges between the top-level modules of src/:");
    for line in report.summary() {
        println!("  {line}");
    }
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "{} edges break the layering (domain <- store <- integrations <- web <- app <- cli; \
         leaves use only domain; no cycle in store/):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The check itself, on a small tree with one bad edge of each kind and a store cycle:
/// it names each offending edge (file and line) and nothing else. Code after a
/// `#[cfg(test)] mod tests;` line (`store/mod.rs`) is read; that module's file and an
/// inline test module (`store/outbox.rs`) are not.
#[test]
fn the_layering_check_finds_bad_edges_and_store_cycles_in_a_fixture() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layering/src");
    let report = check(&src);
    let summary = report.summary();
    assert_eq!(
        summary,
        [
            "cli -> app: 1",
            "cli -> web: 1",
            "config -> store: 1",
            "domain -> web: 1",
            "recruiterflow -> replication: 1",
            "recruiterflow -> store: 1",
            "store -> config: 1",
            "store -> domain: 2",
            "store -> recruiterflow: 1",
            "store -> web: 1",
            "web -> cli: 1",
            "web -> domain: 1",
            "web -> store: 1",
            "widgets -> domain: 1",
        ],
        "{:#?}",
        report.edges
    );
    let f = |name: &str| format!("src/{name}");
    assert_eq!(
        report.violations(),
        [
            format!(
                "{}:3: config -> store (crate::store::Store): config is a leaf module: it may use only domain",
                f("config.rs")
            ),
            format!(
                "{}:6: domain -> web (crate::web::render): domain (layer 0) must not use web (layer 3), a higher layer",
                f("domain/mod.rs")
            ),
            format!(
                "{}:8: store -> recruiterflow (super::super::recruiterflow::Client): store (layer 1) must not use recruiterflow (layer 2), a higher layer",
                f("store/jobs.rs")
            ),
            format!(
                "{}:13: store -> web (crate::web::render): store (layer 1) must not use web (layer 3), a higher layer",
                f("store/mod.rs")
            ),
            format!(
                "{}:12: web -> cli (super::cli::new_token): web (layer 3) must not use cli (layer 5), a higher layer",
                f("web/mod.rs")
            ),
            format!(
                "{}:1: widgets -> domain (crate::domain::Score): widgets is not in the layering table",
                f("widgets.rs")
            ),
            format!(
                "{}:3: jobs -> ranks (super::ranks): store::jobs and store::ranks are in a cycle of store/ (jobs, ranks, settings)",
                f("store/jobs.rs")
            ),
            format!(
                "{}:4: ranks -> settings (crate::store::settings::current): store::ranks and store::settings are in a cycle of store/ (jobs, ranks, settings)",
                f("store/ranks.rs")
            ),
            format!(
                "{}:2: settings -> jobs (super::jobs::Job): store::settings and store::jobs are in a cycle of store/ (jobs, ranks, settings)",
                f("store/settings.rs")
            ),
        ]
    );
}

#[test]
fn comments_strings_and_characters_make_no_edge() {
    let text = r####"
        // crate::web::a
        /* crate::web::b /* nested crate::web::c */ crate::web::d */
        /// [`crate::web::e`]
        let s = "crate::web::f \" crate::web::g";
        let r = r#"crate::web::h " crate::web::i"#;
        let b = br##"crate::web::j"##;
        let c = '"'; let d = '\''; let e: &'static str = "x";
        fn f<'a>(x: &'a str) -> &'a str { crate::store::keep(x) }
        let n = 1..2; let m = 0x1f_u8;
        pub(in crate::domain) fn g() {}
    "####;
    let found: Vec<(usize, String)> = paths(text, &["web".to_string()])
        .into_iter()
        .map(|(line, written, _)| (line, written))
        .collect();
    assert_eq!(found, [(9, "crate::store::keep".to_string())]);
}

#[test]
fn use_groups_super_chains_and_inline_modules_resolve() {
    let module: Vec<String> = vec!["store".into(), "jobs".into()];
    let text = "use super::{ranks, Store, settings::{self, current as cur}};\n\
                use self::inner::x;\n\
                fn f() { super::super::web::page(); }\n\
                mod tests { use super::*; use super::super::outbox::push; }\n\
                fn g() { crate::store::drafts::save(); }\n\
                use crate::{\n    app,\n    web::page,\n};\n";
    let found: Vec<(usize, String, Vec<String>)> = paths(text, &module);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    assert_eq!(
        found,
        [
            (1, "super::ranks".into(), s(&["store", "ranks"])),
            (1, "super::Store".into(), s(&["store", "Store"])),
            (1, "super::settings".into(), s(&["store", "settings"])),
            (
                1,
                "super::settings::current".into(),
                s(&["store", "settings", "current"])
            ),
            (
                2,
                "self::inner::x".into(),
                s(&["store", "jobs", "inner", "x"])
            ),
            (3, "super::super::web::page".into(), s(&["web", "page"])),
            (4, "super".into(), s(&["store", "jobs"])),
            (
                4,
                "super::super::outbox::push".into(),
                s(&["store", "outbox", "push"])
            ),
            (
                5,
                "crate::store::drafts::save".into(),
                s(&["store", "drafts", "save"])
            ),
            (7, "crate::app".into(), s(&["app"])),
            (8, "crate::web::page".into(), s(&["web", "page"])),
        ]
    );
}
