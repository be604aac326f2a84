//! Replays the inputs kept under `fuzz/regressions/knowledge_document/` through the very checks
//! of the `knowledge_document` fuzz target (`fuzz/src/document.rs`), plus the embedded documents
//! themselves, which seed its corpus.

#[path = "../../fuzz/src/document.rs"]
mod document;

/// The kept inputs of one target, by file name, in a fixed order; fails when the folder is
/// missing or empty.
fn kept_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the kept inputs of `{target}`)", dir.display()));
    let mut inputs: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.is_file())
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read(&path).expect("a readable input"),
            )
        })
        .collect();
    // A replay of nothing proves nothing: the folder must hold inputs.
    assert!(!inputs.is_empty(), "{}: no kept inputs", dir.display());
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
