//! The in-process cost of each tool: `Advisor::call` with typical arguments, from the JSON
//! argument object to the structured result and its markdown (validation, the knowledge tables,
//! rendering, serialization), without any transport. Also the one-time cost that every process
//! pays once at start-up: parsing the embedded knowledge base and preparing the tools.
//!
//! Run: `cargo bench -p scale-advisor-tools --bench tools` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use knowledge::Knowledge;
use serde_json::{Map, Value, json};
use tools::Advisor;

// The allocator of the `scale-advisor` binary: allocation is a large share of a call's cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Typical arguments for each tool, as an assistant would send them: several inputs, so that
/// the decision paths, warnings and calculations do real work. A tool registered but missing
/// here is reported and skipped; a tool listed here but not (yet) registered is skipped.
fn arguments() -> Vec<(&'static str, Value)> {
    let system = json!({
        "users": 50000, "has_cache": true, "db_cpu_pct": 75, "cache_hit_rate_pct": 65,
        "read_pct": 90, "p95_latency_ms": 350
    });
    vec![
        ("diagnose_bottleneck", system.clone()),
        (
            "choose_datastore",
            json!({"needs_acid": true, "complex_queries": true, "read_heavy": true, "full_text_search": true,
                   "reads_per_sec": 5000, "data_size_gb": 200}),
        ),
        (
            "choose_message_queue",
            json!({"needs_replay": true, "fan_out": true, "cloud": "aws", "messages_per_sec": 20000}),
        ),
        (
            "pick_consistency_model",
            json!({"read_your_writes_critical": true, "availability_during_partition": true, "multi_region": true,
                   "quorum": {"n": 3, "w": 2, "r": 2}}),
        ),
        (
            "size_cache",
            json!({"total_data_gb": 500, "hot_fraction": 0.2, "node_memory_gb": 64, "replicas": 1,
                   "requests_per_sec": 20000, "hit_rate_pct": 90, "expensive_misses": true}),
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 5000, "growth_factor": 2, "per_server_rps": 1000, "db_cores": 16,
                   "reads_per_sec": 20000, "replica_read_capacity_per_sec": 5000, "avg_latency_ms": 80,
                   "users": 200000}),
        ),
        (
            "plan_migration",
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 6}),
        ),
        (
            "forecast_growth",
            json!({"growth_multiple": 3, "over_months": 12, "db_cpu_pct": 45, "app_cpu_pct": 30,
                   "pool_utilization_pct": 40, "users": 80000, "p95_latency_ms": 180, "utilization_pct": 40,
                   "queueing": {"servers": 16, "arrival_rps": 500, "service_time_ms": 20},
                   "cache": {"cache_items": 200000, "catalog_items": 5000000, "zipf_alpha": 0.8, "policy": "lru"},
                   "current_monthly_cost_usd": 5000}),
        ),
        (
            "scaling_report",
            json!({"system": system, "requirements": {"needs_acid": true, "read_heavy": true},
                   "capacity": {"peak_rps": 5000, "per_server_rps": 1000}, "current_monthly_cost_usd": 4000}),
        ),
    ]
}

fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn bench_tools(c: &mut Criterion) {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let table = arguments();
    let mut group = c.benchmark_group("call");
    for tool in advisor.tools() {
        let Some((_, args)) = table.iter().find(|(name, _)| *name == tool.name) else {
            eprintln!(
                "warning: no benchmark arguments for `{}`; add them to arguments() in tools/benches/tools.rs",
                tool.name
            );
            continue;
        };
        let args = as_object(args.clone());
        // A refusal means the table above is out of date with the tool: fail loudly rather
        // than time an error path.
        if let Err(error) = advisor.call(tool.name, &args) {
            panic!("`{}` refused its benchmark arguments: {error}", tool.name);
        }
        group.bench_function(tool.name, |b| {
            b.iter(|| advisor.call(black_box(tool.name), black_box(&args)))
        });
    }
    group.finish();
}

/// The heaviest input `forecast_growth` accepts: the largest catalog (10^12 items, LRU, growing
/// for the longest horizon), the most servers of an M/M/c queue (Erlang B runs one step per
/// server at every checkpoint), 100 resources, 10000 load-test points to fit, every month in
/// `full` detail.
fn heaviest_forecast() -> Value {
    let resources: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("disk_{i}_gb"), "current": 100 + i, "warning": 800, "critical": 950}))
        .collect();
    let measurements: Vec<Value> = (1..=10_000_u64)
        .map(|n| {
            let x = n as f64;
            json!({"nodes": n, "throughput": 1000.0 * x / (1.0 + 0.02 * (x - 1.0) + 0.00001 * x * (x - 1.0))})
        })
        .collect();
    json!({
        "monthly_growth_pct": 5, "horizon_months": 120, "detail": "full",
        "db_cpu_pct": 45, "app_cpu_pct": 30, "db_read_load_pct": 50, "db_write_load_pct": 20,
        "pool_utilization_pct": 40, "resources": resources, "users": 80000,
        "p95_latency_ms": 180, "utilization_pct": 40,
        "queueing": {"servers": 100000, "arrival_rps": 500000, "service_time_ms": 100},
        "cache": {"cache_items": 1000000000, "catalog_items": 1000000000000_u64, "zipf_alpha": 0.999, "policy": "lru"},
        "scalability": {"measurements": measurements, "current_rps": 20000},
        "current_monthly_cost_usd": 5000
    })
}

fn bench_heaviest(c: &mut Criterion) {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let args = as_object(heaviest_forecast());
    if let Err(error) = advisor.call("forecast_growth", &args) {
        panic!("`forecast_growth` refused its heaviest input: {error}");
    }
    let mut group = c.benchmark_group("heaviest");
    group.sample_size(20);
    group.bench_function("forecast_growth", |b| {
        b.iter(|| advisor.call(black_box("forecast_growth"), black_box(&args)))
    });
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

criterion_group!(benches, bench_tools, bench_heaviest, bench_start_up);
criterion_main!(benches);
