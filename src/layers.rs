//! Keeps the modules layered: a module that uses another must not be used by it, directly or
//! through others. A cycle means neither side can be read or changed alone, so this test reads
//! `src/` and fails on the first cycle it finds, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its non-test code names through `crate::`.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn top_module(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// The code a module ships: without its test module and without comments, where a path named in
/// prose is no dependency.
fn shipped_code(source: &str) -> String {
    let shipped = source.split("#[cfg(test)]").next().unwrap_or_default();
    shipped
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment after each `crate::`, and each top-level name in a `crate::{a, b::c}` group.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = true;
            let mut name = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if start && !name.is_empty() => {
                        names.insert(std::mem::take(&mut name));
                        start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                names.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

fn read_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src/");
            let module = top_module(relative);
            if matches!(module.as_str(), "lib" | "main") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("a readable source file");
            let uses = named_modules(&shipped_code(&source));
            graph.entry(module).or_default().extend(uses);
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, uses) in &mut graph {
        uses.retain(|used| used != module && modules.contains(used));
    }
    graph
}

/// A cycle through the graph, as the modules along it, or `None`.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }
    fn visit(
        module: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(module.to_owned(), Mark::OnPath);
        path.push(module.to_owned());
        for used in graph.get(module).into_iter().flatten() {
            match marks.get(used) {
                Some(Mark::OnPath) => {
                    let from = path.iter().position(|m| m == used).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    cycle.push(used.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(cycle) = visit(used, graph, marks, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        marks.insert(module.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for module in graph.keys() {
        if !marks.contains_key(module)
            && let Some(cycle) = visit(module, graph, &mut marks, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_uses_a_module_that_uses_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = read_graph(&src);
    assert!(graph.len() > 20, "read too few modules: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules form a cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn groups_and_paths_are_both_read() {
    let code = "use crate::{settings::{A, B}, yaml};\nlet x = crate::naming::f();";
    let names: Vec<_> = named_modules(code).into_iter().collect();
    assert_eq!(names, ["naming", "settings", "yaml"]);
}

#[test]
fn a_cycle_is_named() {
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".into()].into());
    graph.insert("b".into(), ["c".into()].into());
    graph.insert("c".into(), ["a".into()].into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn prose_and_tests_are_no_dependency() {
    let source =
        "//! see crate::render\nuse crate::yaml;\n#[cfg(test)]\nmod tests { use crate::cli; }";
    let names: Vec<_> = named_modules(&shipped_code(source)).into_iter().collect();
    assert_eq!(names, ["yaml"]);
}
