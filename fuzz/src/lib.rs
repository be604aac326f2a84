//! The checks behind the fuzz targets, kept out of `fuzz_targets/` so that the regression tests
//! (`tools/tests/fuzz_regressions.rs`, `knowledge/tests/fuzz_regressions.rs`) and the end-to-end
//! battery (`tests/e2e/reliability.rs`) run exactly the same code on the inputs kept under
//! `regressions/`: each of those files is included there with `#[path]`.

pub mod arguments;
pub mod document;
pub mod oracle;
