//! The house rules that the compiler does not check: the crate's top-level modules import each
//! other without cycles, and only the command line (which starts the embedded simulator) and
//! the simulator itself name `sim`. Read from the sources, so a new `use` that breaks a rule
//! fails here with the path of imports that closes the cycle.
#![allow(clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The top-level module a source file belongs to (`src/lane/driver.rs` → `lane`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without its unit tests: tests may reach anywhere.
fn production_code(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Every top-level module named as `crate::<module>` in `text`, also inside braces
/// (`crate::{a::x, b}` names `a` and `b`).
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    let mut add = |name: String| {
        if modules.contains(&name) {
            found.insert(name);
        }
    };
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let Some(inner) = rest.strip_prefix('{') else {
            add(ident(rest));
            continue;
        };
        // The first name of each item at the top level of the braces.
        let mut depth = 0;
        let mut item_start = true;
        for (j, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if item_start && !c.is_whitespace() => {
                    add(ident(&inner[j..]));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        if file.to_string_lossy().ends_with("_tests.rs") {
            continue;
        }
        let text = fs::read_to_string(file).expect("readable source");
        let deps = graph.entry(module.clone()).or_default();
        for dep in imports(production_code(&text), &modules) {
            if dep != module {
                deps.insert(dep);
            }
        }
    }
    graph
}

/// A cycle through `start`, as the list of modules along it.
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    at: &str,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    for next in graph.get(at).into_iter().flatten() {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(start.to_string());
            return Some(cycle);
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if let Some(c) = cycle_from(graph, start, next, path, seen) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn the_import_reader_sees_paths_and_braces() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let text = "use crate::{a::x, b, c::{y, z}};\nfn f() { crate::d::g() }";
    assert_eq!(imports(text, &modules), modules);
    assert!(imports("use super::a; // crate-wide", &modules).is_empty());
}

#[test]
fn a_cycle_is_found_with_its_path() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, deps)| (m.to_string(), deps.into_iter().map(String::from).collect()))
    .collect();
    let mut path = vec!["a".to_string()];
    let cycle = cycle_from(&graph, "a", "a", &mut path, &mut BTreeSet::new());
    assert_eq!(cycle, Some(["a", "b", "c", "a"].map(String::from).to_vec()));
    let mut path = vec!["d".to_string()];
    assert_eq!(
        cycle_from(&graph, "d", "d", &mut path, &mut BTreeSet::new()),
        None
    );
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = graph();
    assert!(
        graph.len() > 10,
        "the crate's modules were found: {graph:?}"
    );
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut path = vec![start.clone()];
        if let Some(cycle) = cycle_from(&graph, start, start, &mut path, &mut seen) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn only_the_command_line_starts_the_simulator() {
    for (module, deps) in graph() {
        if deps.contains("sim") {
            assert_eq!(module, "cli", "{module} imports the simulator");
        }
    }
}
