//! Invariants of `size_cache` and `plan_capacity` over generated inputs: sizes never shrink
//! when the load grows, every number in a result is finite (or the input is refused), and the
//! same input always gives the same output.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tools::calculator::Figure;
use tools::plan_capacity::CapacityPlan;
use tools::size_cache::CacheSizing;
use tools::{Advisor, CallError, ToolOutput};

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

/// Calls in `detail: full`, whose result reads back into the tool's type (concise leaves the
/// workings out).
fn call(tool: &str, args: &Map<String, Value>) -> Result<ToolOutput, CallError> {
    let mut args = args.clone();
    args.entry("detail").or_insert(Value::from("full"));
    ADVISOR.call(tool, &args)
}

fn ok(tool: &str, args: &Map<String, Value>) -> ToolOutput {
    call(tool, args).unwrap_or_else(|e| panic!("{tool}({args:?}) was refused: {e}"))
}

fn sizing(args: &Map<String, Value>) -> CacheSizing {
    serde_json::from_value(ok("size_cache", args).structured).expect("the result reads back")
}

fn plan(args: &Map<String, Value>) -> CapacityPlan {
    serde_json::from_value(ok("plan_capacity", args).structured).expect("the result reads back")
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Any size, from nothing to the edge of the finite numbers.
fn any_amount() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..1e6f64,
        1e6..1e300f64,
        1e300..f64::MAX,
        Just(f64::MAX),
        Just(0.0),
    ]
}

/// Any strictly positive rate, including the tiny ones that make quotients explode.
fn any_rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        1e-3..1e6f64,
        1e6..1e300f64,
        1e300..f64::MAX,
        Just(f64::MIN_POSITIVE),
        1e-300..1e-290f64,
    ]
}

fn insert<T: Into<Value>>(args: &mut Map<String, Value>, name: &str, value: Option<T>) {
    if let Some(value) = value {
        args.insert(name.into(), value.into());
    }
}

fn assert_finite(what: &str, value: f64) {
    assert!(value.is_finite(), "{what} is {value}");
}

fn assert_workings_finite(workings: &[tools::calculator::Working]) {
    for w in workings {
        if let Figure::Amount(x) = w.value {
            assert_finite(&w.quantity, x);
        }
        assert!(!w.substituted.contains("inf") && !w.substituted.contains("NaN"));
    }
}

proptest! {
    #[test]
    fn memory_and_nodes_grow_with_the_working_set(
        a in 0.0..1e9f64,
        b in 0.0..1e9f64,
        overhead in 1.0..10.0f64,
        node in 0.5..1024.0f64,
        utilization in 1.0..=100.0f64,
        replicas in 0u64..5,
    ) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        let args = |working_set: f64| object(json!({
            "working_set_gb": working_set, "overhead_factor": overhead, "node_memory_gb": node,
            "max_memory_utilization_pct": utilization, "replicas": replicas,
        }));
        let (s, l) = (sizing(&args(small)), sizing(&args(large)));
        prop_assert!(s.memory_gb <= l.memory_gb);
        prop_assert!(s.nodes <= l.nodes);
        prop_assert!(s.total_nodes <= l.total_nodes);
    }

    #[test]
    fn the_working_set_grows_with_the_total_data(
        a in 0.0..1e9f64,
        b in 0.0..1e9f64,
        hot in 0.0..=1.0f64,
    ) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        let args = |total: f64| object(json!({"total_data_gb": total, "hot_fraction": hot}));
        let (s, l) = (sizing(&args(small)), sizing(&args(large)));
        prop_assert!(s.working_set_gb <= l.working_set_gb);
        prop_assert!(s.memory_gb <= l.memory_gb);
    }

    #[test]
    fn capacity_and_servers_grow_with_the_peak(
        a in 1e-3..1e9f64,
        b in 1e-3..1e9f64,
        growth in 0.1..10.0f64,
        safety in 1.0..3.0f64,
        per_server in 1.0..1e5f64,
        latency in 0.1..1e4f64,
    ) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        let args = |peak: f64| object(json!({
            "peak_rps": peak, "growth_factor": growth, "safety_margin": safety,
            "per_server_rps": per_server, "avg_latency_ms": latency,
        }));
        let (s, l) = (plan(&args(small)), plan(&args(large)));
        prop_assert!(s.required_rps <= l.required_rps);
        prop_assert!(s.servers <= l.servers);
        prop_assert!(s.in_flight_requests <= l.in_flight_requests);
    }

    #[test]
    fn size_cache_is_finite_or_refused_and_deterministic(
        working_set in proptest::option::of(any_amount()),
        total in proptest::option::of(any_amount()),
        hot in proptest::option::of(0.0..=1.0f64),
        overhead in proptest::option::of(prop_oneof![1.0..10.0f64, 1e300..f64::MAX]),
        node in proptest::option::of(any_rate()),
        utilization in proptest::option::of(1.0..=100.0f64),
        replicas in proptest::option::of(prop_oneof![0u64..4, Just(u64::MAX)]),
        requests in proptest::option::of(any_rate()),
        hit_rate in proptest::option::of(0.0..=100.0f64),
        flags in proptest::collection::vec(any::<bool>(), 4),
    ) {
        let mut args = Map::new();
        insert(&mut args, "working_set_gb", working_set);
        insert(&mut args, "total_data_gb", total);
        insert(&mut args, "hot_fraction", hot);
        insert(&mut args, "overhead_factor", overhead);
        insert(&mut args, "node_memory_gb", node);
        insert(&mut args, "max_memory_utilization_pct", utilization);
        insert(&mut args, "replicas", replicas);
        insert(&mut args, "requests_per_sec", requests);
        insert(&mut args, "hit_rate_pct", hit_rate);
        for (name, flag) in ["strong_freshness", "write_heavy", "tolerates_data_loss", "expensive_misses"]
            .into_iter()
            .zip(flags)
        {
            args.insert(name.into(), flag.into());
        }
        let first = call("size_cache", &args);
        prop_assert_eq!(&first, &call("size_cache", &args));
        match first {
            Err(CallError::Arguments(_)) => {}
            Err(e) => prop_assert!(false, "not an argument error: {e}"),
            Ok(out) => {
                let r: CacheSizing = serde_json::from_value(out.structured).expect("reads back");
                assert_finite("working_set_gb", r.working_set_gb);
                assert_finite("memory_gb", r.memory_gb);
                prop_assert_eq!(r.nodes.is_some(), node.is_some());
                prop_assert_eq!(r.total_nodes.is_some(), node.is_some());
                prop_assert_eq!(
                    r.db_reads_per_sec.is_some(),
                    requests.is_some() && hit_rate.is_some()
                );
                if let Some(reads) = r.db_reads_per_sec {
                    assert_finite("db_reads_per_sec", reads);
                }
                assert_workings_finite(&r.workings);
            }
        }
    }

    #[test]
    fn plan_capacity_is_finite_or_refused_and_deterministic(
        peak in any_rate(),
        growth in proptest::option::of(any_rate()),
        safety in proptest::option::of(prop_oneof![1.0..3.0f64, 1e300..f64::MAX]),
        per_server in proptest::option::of(any_rate()),
        cores in proptest::option::of(prop_oneof![1u64..128, Just(u64::MAX)]),
        spindles in proptest::option::of(prop_oneof![0u64..16, Just(u64::MAX)]),
        reads in proptest::option::of(any_rate()),
        replica_capacity in proptest::option::of(any_rate()),
        latency in proptest::option::of(any_rate()),
        users in proptest::option::of(prop_oneof![0u64..100_000_000, Just(u64::MAX)]),
    ) {
        let mut args = Map::new();
        args.insert("peak_rps".into(), peak.into());
        insert(&mut args, "growth_factor", growth);
        insert(&mut args, "safety_margin", safety);
        insert(&mut args, "per_server_rps", per_server);
        insert(&mut args, "db_cores", cores);
        insert(&mut args, "effective_spindles", spindles);
        insert(&mut args, "reads_per_sec", reads);
        insert(&mut args, "replica_read_capacity_per_sec", replica_capacity);
        insert(&mut args, "avg_latency_ms", latency);
        insert(&mut args, "users", users);
        let first = call("plan_capacity", &args);
        prop_assert_eq!(&first, &call("plan_capacity", &args));
        match first {
            Err(CallError::Arguments(_)) => {}
            Err(e) => prop_assert!(false, "not an argument error: {e}"),
            Ok(out) => {
                let r: CapacityPlan = serde_json::from_value(out.structured).expect("reads back");
                assert_finite("required_rps", r.required_rps);
                prop_assert_eq!(r.servers.is_some(), per_server.is_some());
                prop_assert_eq!(r.pool_size.is_some(), cores.is_some());
                prop_assert_eq!(
                    r.read_replicas.is_some(),
                    reads.is_some() && replica_capacity.is_some()
                );
                prop_assert_eq!(r.in_flight_requests.is_some(), latency.is_some());
                if let Some(in_flight) = r.in_flight_requests {
                    assert_finite("in_flight_requests", in_flight);
                }
                prop_assert_eq!(r.stage.is_some(), users.is_some());
                prop_assert_eq!(r.monthly_cost_usd.is_some(), users.is_some());
                assert_workings_finite(&r.workings);
            }
        }
    }
}
