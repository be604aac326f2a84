//! Arbitrary text → `knowledge::Document::parse`, then every section, table cell and condition
//! accessor on what it accepted: no panic, and every refusal located in the text.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| scale_advisor_fuzz::document::check(data));
