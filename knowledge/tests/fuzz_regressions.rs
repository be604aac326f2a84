//! Replays the inputs kept under `fuzz/regressions/knowledge_document/` through the very checks
//! of the `knowledge_document` fuzz target (`fuzz/src/document.rs`), plus the embedded documents
//! themselves, which seed its corpus.

#[path = "../../fuzz/src/document.rs"]
mod document;

fn kept_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|path| path.is_file() && path.file_name().is_some_and(|n| n != "README.md"))
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read(&path).expect("a readable input"),
            )
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn kept_fuzz_inputs_pass_the_fuzz_checks() {
    for (name, input) in kept_inputs("knowledge_document") {
        let outcome = std::panic::catch_unwind(|| document::check(&input));
        assert!(outcome.is_ok(), "{name} fails again");
    }
}

#[test]
fn the_embedded_documents_pass_the_fuzz_checks() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    for entry in std::fs::read_dir(docs).expect("the docs folder") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read(&path).expect("a readable document");
        document::check(&text);
        // The target reads cells for one input in eight (by content); make sure these do too.
        let mut padded = text.clone();
        padded.push(b'\n');
        // A tab adds 1 to the byte sum: at most seven reach a multiple of eight.
        while !padded
            .iter()
            .fold(0u8, |sum, &b| sum.wrapping_add(b))
            .is_multiple_of(8)
        {
            padded.push(b'\t');
        }
        document::check(&padded);
    }
}
