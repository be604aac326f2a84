//! Arbitrary bytes → a JSON argument object → `Advisor::call`, for every tool: no panic, and
//! every result valid against its output schema with only finite numbers.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tools::Advisor;

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

fuzz_target!(|data: &[u8]| scale_advisor_fuzz::arguments::check(&ADVISOR, data));
