//! The fixture files of `tools/fixtures/`: one per registered tool, none for a tool that is not
//! registered, and every example accepted by its tool with a result that fits its schema.

#[path = "../fixtures/examples.rs"]
mod examples;

use tools::{Advisor, REGISTRY};

#[test]
fn every_registered_tool_has_examples_it_accepts() {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let all = examples::all(REGISTRY.iter().map(|r| r.name));
    assert!(all.len() >= REGISTRY.len(), "{} examples", all.len());
    for example in all {
        let output = advisor
            .call(&example.tool, &example.arguments)
            .unwrap_or_else(|e| panic!("{} `{}` is refused: {e}", example.tool, example.name));
        assert!(
            output.structured.is_object() && !output.markdown.is_empty(),
            "{} `{}`",
            example.tool,
            example.name
        );
    }
}

#[test]
fn every_fixture_file_names_a_registered_tool() {
    let mut files = 0;
    for entry in std::fs::read_dir(examples::folder()).expect("the fixtures folder") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            files += 1;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            assert!(
                REGISTRY.iter().any(|r| r.name == stem),
                "{}: no registered tool `{stem}`",
                path.display()
            );
        }
    }
    assert_eq!(files, REGISTRY.len());
}
