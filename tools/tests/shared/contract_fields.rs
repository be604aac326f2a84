//! The fields the contract names in each tool's result, read from the one list
//! `tools/tests/shared/contract_fields.json` (which `bench/sizes.sh` reads too), and the walk
//! that finds a path's values in a result. Included with `#[path]` by the tests of `tools/`
//! and by the e2e suite, so that no test retypes the list and the copies cannot drift.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::LazyLock;

use serde_json::Value;

/// The six tools that answer one question each, whose concise answers issue 26 holds to a
/// share of full (`tools/tests/concise_small_tools.rs` on the fixtures, the e2e
/// `model_reads` on the bench scenarios); `tools/tests/concise_fields.rs` covers the others.
pub const SINGLE_QUESTION_TOOLS: [&str; 6] = [
    "choose_datastore",
    "choose_message_queue",
    "pick_consistency_model",
    "size_cache",
    "plan_capacity",
    "plan_migration",
];

/// The list, seen from the crate that includes this file.
pub fn file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/tests/shared/contract_fields.json")
}

static LIST: LazyLock<Value> = LazyLock::new(|| {
    let path = file();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the contract's fields)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON ({e})", path.display()))
});

/// The paths of one entry: its sections' lists, in file order. Panics when the entry is
/// missing or names no path, so that a test reading it cannot pass by reading nothing.
fn paths_of(entry: &Value, what: &str) -> Vec<String> {
    let sections = entry
        .as_object()
        .unwrap_or_else(|| panic!("{}: no {what} (add it)", file().display()));
    let paths: Vec<String> = sections
        .iter()
        .flat_map(|(section, list)| {
            list.as_array()
                .unwrap_or_else(|| panic!("{what}, {section}: not a list of paths"))
                .iter()
                .map(move |p| {
                    p.as_str()
                        .unwrap_or_else(|| panic!("{what}, {section}: {p} is not a path"))
                        .to_string()
                })
        })
        .collect();
    assert!(
        !paths.is_empty(),
        "{}: {what} names no path",
        file().display()
    );
    paths
}

/// What §4 and §6 name in every result: `summary`, `missing_inputs`, `sources`.
pub fn every_result() -> Vec<String> {
    paths_of(&LIST["every_result"], "`every_result`")
}

/// The paths the contract names in `tool`'s result, beside [`every_result`].
pub fn paths(tool: &str) -> Vec<String> {
    paths_of(&LIST["tools"][tool], &format!("tool `{tool}`"))
}

/// The tools the list covers.
pub fn tools() -> Vec<String> {
    LIST["tools"]
        .as_object()
        .map(|tools| tools.keys().cloned().collect())
        .unwrap_or_default()
}

/// The values at `path` (`a.b[].c`), one per list item along the way; a missing or null part
/// yields nothing, so that a field only some results have (`reshard`) is compared where
/// present.
pub fn at<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    for part in path.split('.') {
        let (name, every) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        for v in current {
            let Some(child) = v.get(name).filter(|c| !c.is_null()) else {
                continue;
            };
            if every {
                next.extend(child.as_array().into_iter().flatten());
            } else {
                next.push(child);
            }
        }
        current = next;
    }
    current
}
