//! Issue 28, the diagnosis says only what is true: a need the caller states that the
//! architecture does not meet is a finding with its trigger and fixes, a text about a
//! reported cascade appears only when one was reported, and no system with a bad given metric
//! is called healthy. Each situation beside its neighbours, so every test can fail both ways.

use serde_json::{Map, Value, json};
use tools::Advisor;

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

/// The structured result and the markdown of a call that must succeed.
fn call(advisor: &Advisor, tool: &str, args: &Value) -> (Value, String) {
    let map = args.as_object().expect("arguments are an object");
    match advisor.call(tool, map) {
        Ok(out) => (out.structured, out.markdown),
        Err(e) => panic!("{tool} {args}: {e}"),
    }
}

fn finding<'a>(d: &'a Value, id: &str) -> Option<&'a Value> {
    d["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
}

fn with(base: &Value, extra: &Value) -> Value {
    let mut map = base.as_object().cloned().unwrap_or_default();
    map.extend(extra.as_object().cloned().unwrap_or_default());
    Value::Object(map)
}

// ---------------------------------------------------------------------------------------------
// A stated need the architecture does not meet.

/// A system at each stage below the one that has several regions: (architecture, stage).
fn single_region_systems() -> Vec<(Value, u64)> {
    vec![
        (json!({"users": 5000}), 1),
        (json!({"has_cache": true}), 2),
        (json!({"has_cache": true, "has_read_replicas": true}), 3),
        (json!({"has_read_replicas": true, "regions": 1}), 3),
        (json!({"sharded": true, "has_read_replicas": true}), 4),
    ]
}

#[test]
fn multi_region_needed_in_one_region_is_a_finding_with_its_trigger() {
    let advisor = advisor();
    for (system, stage) in single_region_systems() {
        let args = with(&system, &json!({"needs_multi_region": true}));
        let (d, markdown) = call(&advisor, "diagnose_bottleneck", &args);
        assert_eq!(d["current_stage"]["number"], stage, "{args}");
        let found = finding(&d, "unmet_multi_region")
            .unwrap_or_else(|| panic!("{args}: no unmet_multi_region finding in {d}"));
        assert_eq!(found["severity"], "warning", "{args}");
        let evidence = found["evidence"].to_string();
        assert!(
            evidence.contains("needs_multi_region"),
            "{args}: {evidence}"
        );
        let fixes = found["fixes"].as_object().cloned().unwrap_or_default();
        let written = fixes
            .values()
            .filter(|t| t.as_str().is_some_and(|t| t.len() > 40));
        assert_eq!(
            written.count(),
            3,
            "{args}: three horizons, each a sentence: {fixes:?}"
        );
        assert!(
            found["fixes"]["short_term"]
                .as_str()
                .is_some_and(|t| t.contains("second region") || t.contains("standby region")),
            "{args}: {}",
            found["fixes"]
        );
        assert_eq!(d["healthy"], false, "{args}");
        let summary = d["summary"].as_str().unwrap_or_default();
        assert!(!summary.contains("healthy"), "{args}: {summary}");
        assert!(!markdown.contains("Healthy"), "{args}: {markdown}");
        assert!(
            !summary.contains("no graduation trigger"),
            "{args}: {summary}"
        );
        let next = &d["next_stage"];
        assert_eq!(next["number"], 5, "{args}: {next}");
        assert!(
            next["add"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("multi_region"))),
            "{args}: {next}"
        );
        assert_eq!(next["urgency"], "now", "{args}");
        let sources = d["sources"].to_string();
        assert!(
            sources.contains("knowledge://monitoring#diagnostic-findings")
                && sources.contains("knowledge://scaling-stages#graduation-triggers"),
            "{args}: {sources}"
        );
    }
}

#[test]
fn the_reviewers_stage_3_system_is_not_healthy() {
    // Issue 28: "`diagnose_bottleneck` with `needs_multi_region` at stage 3 says 'healthy, no
    // trigger'".
    let advisor = advisor();
    let args = json!({"users": 300000, "has_cache": true, "has_read_replicas": true, "needs_multi_region": true});
    let (d, _) = call(&advisor, "diagnose_bottleneck", &args);
    assert_eq!(d["current_stage"]["number"], 3);
    assert_eq!(d["healthy"], false, "{d}");
    assert!(finding(&d, "unmet_multi_region").is_some(), "{d}");
    assert_eq!(d["next_stage"]["number"], 5, "{d}");
}

#[test]
fn a_need_met_or_not_stated_gives_no_finding() {
    let advisor = advisor();
    // Neighbours: the same systems without the need, with the need stated false, and with
    // several regions in place.
    for (system, _) in single_region_systems() {
        for extra in [json!({}), json!({"needs_multi_region": false})] {
            let args = with(&system, &extra);
            let (d, _) = call(&advisor, "diagnose_bottleneck", &args);
            assert!(finding(&d, "unmet_multi_region").is_none(), "{args}: {d}");
            assert_eq!(d["healthy"], true, "{args}: {d}");
        }
    }
    for regions in [2, 5] {
        let args = json!({"regions": regions, "needs_multi_region": true, "has_cache": true});
        let (d, _) = call(&advisor, "diagnose_bottleneck", &args);
        assert_eq!(d["current_stage"]["number"], 5, "{args}");
        assert!(finding(&d, "unmet_multi_region").is_none(), "{args}: {d}");
        assert_eq!(d["healthy"], true, "{args}: {d}");
        assert!(d["next_stage"].is_null(), "{args}: {d}");
    }
}

#[test]
fn regions_given_as_one_are_evidence_and_never_a_missing_input() {
    let advisor = advisor();
    let (d, _) = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"regions": 1, "needs_multi_region": true}),
    );
    let found = finding(&d, "unmet_multi_region").expect("fires with one region");
    assert!(
        found["evidence"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["metric"] == "regions" && e["value"] == 1.0)),
        "{found}"
    );
    // Not given, `regions` is one region, as the stage rules read it: not something missing,
    // and not shown as if the caller had said it.
    let (d, _) = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"has_cache": true, "needs_multi_region": true}),
    );
    let found = finding(&d, "unmet_multi_region").expect("fires without regions");
    assert!(
        !found["evidence"].to_string().contains("\"regions\""),
        "{found}"
    );
    assert!(
        !d["missing_inputs"].to_string().contains("\"regions\""),
        "{}",
        d["missing_inputs"]
    );
}

// ---------------------------------------------------------------------------------------------
// "with a cascade failure reported" only when one was.

#[test]
fn a_shared_dependency_mentions_a_cascade_only_when_one_was_reported() {
    let advisor = advisor();
    let quiet = json!({"sharded": true, "shared_across_shards": ["cache"]});
    let (d, markdown) = call(&advisor, "diagnose_bottleneck", &quiet);
    let found = finding(&d, "shared_dependency").expect("fires on a shared cache");
    assert_eq!(found["severity"], "warning");
    for text in [d.to_string(), markdown] {
        assert!(!text.contains("cascade failure reported"), "{text}");
        assert!(!text.contains("path of the cascade"), "{text}");
    }
    let (report, markdown) = call(&advisor, "scaling_report", &json!({"system": quiet}));
    for text in [report.to_string(), markdown] {
        assert!(!text.contains("cascade failure reported"), "{text}");
    }

    let reported = with(&quiet, &json!({"symptoms": ["cascade_failure"]}));
    let (d, markdown) = call(&advisor, "diagnose_bottleneck", &reported);
    let found = finding(&d, "shared_dependency").expect("fires on a shared cache");
    assert_eq!(found["severity"], "critical");
    let summary = found["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("cascade"), "{summary}");
    assert!(
        markdown.contains(summary.trim_end_matches('.')),
        "{markdown}"
    );
}

// ---------------------------------------------------------------------------------------------
// No bad given metric is called healthy.

/// Every number argument of `diagnose_bottleneck` that measures the system (not its size, its
/// regions or its growth), with the values at both ends of its advertised range.
fn metric_extremes(advisor: &Advisor) -> Vec<(String, [Value; 2])> {
    let tool = advisor.tool("diagnose_bottleneck").expect("registered");
    let properties = tool.input_schema["properties"]
        .as_object()
        .expect("the input schema lists its properties");
    let not_metrics = ["users", "regions", "monthly_growth_pct"];
    let metrics: Vec<(String, [Value; 2])> = properties
        .iter()
        .filter(|(name, _)| !not_metrics.contains(&name.as_str()))
        .filter(|(_, p)| {
            let kind = p["type"].to_string();
            kind.contains("number") || kind.contains("integer")
        })
        .map(|(name, p)| {
            let low = p["minimum"].as_f64().unwrap_or(0.0);
            let high = p["maximum"].as_f64().unwrap_or(1e6);
            let ends = if p["type"] == "integer" {
                [json!(low as u64), json!(high as u64)]
            } else {
                [json!(low), json!(high)]
            };
            (name.clone(), ends)
        })
        .collect();
    assert!(metrics.len() >= 15, "too few metrics read: {metrics:?}");
    metrics
}

#[test]
fn no_metric_at_either_end_of_its_range_is_healthy() {
    let advisor = advisor();
    for (metric, ends) in metric_extremes(&advisor) {
        // One end of every metric's range is bad; it must show as a finding on its own.
        let bad_ends: Vec<&Value> = ends
            .iter()
            .filter(|value| {
                let mut args = Map::new();
                args.insert(metric.clone(), (*value).clone());
                if metric == "shard_skew_ratio" {
                    args.insert("sharded".into(), json!(true));
                }
                let (d, markdown) = call(&advisor, "diagnose_bottleneck", &Value::Object(args));
                let unhealthy = d["healthy"] == false;
                assert_eq!(
                    unhealthy,
                    !d["findings"].as_array().is_some_and(Vec::is_empty),
                    "{metric} {value}: healthy means no findings"
                );
                assert_eq!(unhealthy, !markdown.contains("Healthy"), "{metric} {value}");
                unhealthy
            })
            .collect();
        assert!(
            !bad_ends.is_empty(),
            "{metric}: neither {ends:?} gives a finding, so a bad {metric} is called healthy"
        );
    }
}

#[test]
fn a_slow_tail_alone_is_a_finding_on_both_sides_of_its_lines() {
    let advisor = advisor();
    let cases = [
        (1000.0, None),
        (1001.0, Some("warning")),
        (10000.0, Some("warning")),
        (10001.0, Some("critical")),
    ];
    for (p99, severity) in cases {
        let (d, _) = call(
            &advisor,
            "diagnose_bottleneck",
            &json!({"p99_latency_ms": p99, "p95_latency_ms": 150}),
        );
        let got = finding(&d, "high_tail_latency").map(|f| f["severity"].clone());
        assert_eq!(got, severity.map(|s| json!(s)), "p99 {p99}: {d}");
        assert_eq!(d["healthy"], severity.is_none(), "p99 {p99}");
    }
}
