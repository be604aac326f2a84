//! The in-process cost of each tool: `Advisor::call` with the first example of its fixture, from the JSON
//! argument object to the structured result and its markdown (validation, the knowledge tables,
//! rendering, serialization), without any transport. Also the one-time cost that every process
//! pays once at start-up: parsing the embedded knowledge base and preparing the tools.
//!
//! Run: `cargo bench -p scale-advisor-tools --bench tools` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use knowledge::Knowledge;
use tools::Advisor;

// The allocator of the `scale-advisor` binary: allocation is a large share of a call's cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../fixtures/examples.rs"]
mod examples;

fn bench_tools(c: &mut Criterion) {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let mut group = c.benchmark_group("call");
    for tool in advisor.tools() {
        // The first example of the tool's fixture file: several inputs, as an assistant would
        // send them. A refusal means the fixture is out of date with the tool: fail loudly
        // rather than time an error path.
        let args = examples::first(tool.name).arguments;
        if let Err(error) = advisor.call(tool.name, &args) {
            panic!("`{}` refused its fixture arguments: {error}", tool.name);
        }
        group.bench_function(tool.name, |b| {
            b.iter(|| advisor.call(black_box(tool.name), black_box(&args)))
        });
    }
    group.finish();
}

fn bench_start_up(c: &mut Criterion) {
    let mut group = c.benchmark_group("start_up");
    group.sample_size(20);
    group.bench_function("knowledge_embedded", |b| {
        b.iter(|| Knowledge::embedded().map(black_box))
    });
    group.bench_function("advisor_embedded", |b| {
        b.iter(|| Advisor::embedded().map(black_box))
    });
    group.finish();
}

criterion_group!(benches, bench_tools, bench_start_up);
criterion_main!(benches);
