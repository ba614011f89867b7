//! The modules of `src/` import one another without a cycle, by file and by folder.
//!
//! Every `crate::` and `super::` path of each file (in `use` lines, grouped or not, and
//! inline), and every path into a module the file declares (`mod state;` … `state::X`),
//! outside comments and the unit tests, is an edge from the file to the module file it
//! names. A cycle of any length is a failure, listed file by file. By folder, each
//! top-level module (a file of `src/`, or a folder with everything in it) is one node.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path below the crate root: `["http", "state"]` for `src/http/state.rs`.
type Module = Vec<String>;

/// Every module file of `src/`, by its module path, with its text.
fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(name);
                walk(&path, &inner, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module = prefix.to_vec();
                if !(name == "mod" || (prefix.is_empty() && (name == "lib" || name == "main"))) {
                    module.push(name.clone());
                }
                if name == "main" && prefix.is_empty() {
                    continue; // the binary: it only calls the library
                }
                out.insert(module, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The text of a file that can import: without its unit tests and its comments.
fn code(text: &str) -> String {
    let end = text
        .find("#[cfg(test)]\nmod tests")
        .or_else(|| text.find("#[cfg(test)]\npub(crate) mod tests"))
        .unwrap_or(text.len());
    text[..end]
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths that `code`, in module `from`, names with `crate::` or `super::`:
/// each path's segments, as far as they go (`crate::{a, b::c}` gives `a` and `b::c`).
fn named_paths(from: &[String], code: &str) -> Vec<Module> {
    let mut found = Vec::new();
    let declared = children(code);
    let bytes = code.as_bytes();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let into_child = declared
            .iter()
            .any(|name| rest.starts_with(name.as_str()) && rest[name.len()..].starts_with("::"));
        let (base, skip) = if into_child {
            // A path into a declared module starts with its name, which stays in the path.
            (from.to_vec(), 0)
        } else if rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if rest.starts_with("super::") {
            let mut base = from.to_vec();
            let mut skip = 0;
            while code[at + skip..].starts_with("super::") {
                base.pop();
                skip += "super::".len();
            }
            (base, skip)
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        // Not part of a longer identifier (`my_crate::`), nor of a longer path (`a::state::`).
        let boundary = at == 0
            || !(bytes[at - 1].is_ascii_alphanumeric()
                || bytes[at - 1] == b'_'
                || bytes[at - 1] == b':');
        if boundary {
            found.extend(expand(&base, &code[at + skip..]));
        }
        at += skip.max(1);
    }
    found
}

/// The modules `code` declares: `mod name;`, of any visibility.
fn children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub(crate) ")
                .or_else(|| line.strip_prefix("pub "))
                .unwrap_or(line);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// The paths at the start of `text` below `base`: `a::b::C`, or a `{…}` group of them.
fn expand(base: &[String], text: &str) -> Vec<Module> {
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let mut items = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group[..end].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&group[start..end]);
        return items
            .into_iter()
            .flat_map(|item| expand(base, item.trim()))
            .collect();
    }
    let mut path = base.to_vec();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() || name == "self" {
            break;
        }
        rest = &rest[name.len()..];
        path.push(name);
        match rest.strip_prefix("::") {
            Some(after) if after.starts_with('{') => {
                return expand(&path, after);
            }
            Some(after) => rest = after,
            None => break,
        }
    }
    vec![path]
}

/// The module file a path names: its longest prefix that is a module.
fn resolve(path: &[String], modules: &BTreeMap<Module, String>) -> Module {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains_key(prefix))
        .unwrap_or_default()
}

/// The import graph by file.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    modules
        .iter()
        .map(|(from, text)| {
            let targets = named_paths(from, &code(text))
                .iter()
                .map(|path| resolve(path, &modules))
                .filter(|to| to != from)
                .collect();
            (from.clone(), targets)
        })
        .collect()
}

/// Every cycle's nodes, one per strongly connected component of more than one node
/// (Tarjan's algorithm).
fn cycles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct Walk<'g, N> {
        graph: &'g BTreeMap<N, BTreeSet<N>>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on_stack: BTreeSet<N>,
        found: Vec<Vec<N>>,
    }
    impl<N: Ord + Clone> Walk<'_, N> {
        fn visit(&mut self, node: &N) {
            let i = self.index.len();
            self.index.insert(node.clone(), i);
            self.low.insert(node.clone(), i);
            self.stack.push(node.clone());
            self.on_stack.insert(node.clone());
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node.clone(), low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node.clone(), low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(&top);
                    let done = &top == node;
                    component.push(top);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

fn shown(module: &[String]) -> String {
    if module.is_empty() {
        "lib".into()
    } else {
        module.join("/")
    }
}

#[test]
fn no_file_of_src_imports_itself_through_others() {
    let graph = graph();
    // The walk sees the imports it should: by `crate::`, by `super::` and into a module
    // the file declares.
    let module = |path: &str| path.split('/').map(str::to_owned).collect::<Vec<_>>();
    let prerendered = &graph[&module("http/prerendered")];
    assert!(prerendered.contains(&module("catalog")), "{prerendered:?}");
    assert!(
        prerendered.contains(&module("http/request")),
        "{prerendered:?}"
    );
    assert!(graph[&module("http")].contains(&module("http/state")));
    let found: Vec<String> = cycles(&graph)
        .iter()
        .map(|cycle| {
            cycle
                .iter()
                .map(|m| shown(m))
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles by file: {found:#?}");
}

#[test]
fn no_folder_of_src_imports_itself_through_others() {
    let mut folders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph() {
        let from = from.first().cloned().unwrap_or_else(|| "lib".into());
        let entry = folders.entry(from.clone()).or_default();
        for to in targets {
            let to = to.first().cloned().unwrap_or_else(|| "lib".into());
            if to != from {
                entry.insert(to);
            }
        }
    }
    let found = cycles(&folders);
    assert!(found.is_empty(), "import cycles by folder: {found:#?}");
}

#[test]
fn the_walk_finds_cycles_of_any_length_and_reads_grouped_paths() {
    let graph: BTreeMap<&str, BTreeSet<&str>> = [
        ("a", ["b"].into()),
        ("b", ["c"].into()),
        ("c", ["a"].into()),
        ("d", ["a"].into()),
        ("e", ["e"].into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);

    let from = vec!["http".to_owned(), "extract".to_owned()];
    let paths = named_paths(
        &from,
        "use crate::{bucket::X, problem::{ApiError, Y}};\nlet x = super::fast::f(); my_crate::z",
    );
    let paths: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        [
            "bucket::X",
            "problem::ApiError",
            "problem::Y",
            "http::fast::f"
        ]
    );
}
