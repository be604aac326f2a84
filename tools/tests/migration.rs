//! `plan_migration`: every kind, the reshard arithmetic on several (current, target, virtual)
//! triples and as properties, and the refusals.

use proptest::prelude::*;
use serde_json::{Value, json};
use tools::plan_migration::{self, MigrationKind, MigrationPlan, Reshard, contiguous_map, quotas};
use tools::{Advisor, CallError};

/// One advisor for the property test's many cases.
static ADVISOR: std::sync::LazyLock<Advisor> = std::sync::LazyLock::new(advisor);

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

/// The arguments with `detail: full` unless they say otherwise: these tests read the
/// explanations too (`tests/e2e/model_reads.rs` covers what concise leaves out).
fn full_detail(args: &Value) -> serde_json::Map<String, Value> {
    let mut map = args.as_object().cloned().unwrap_or_default();
    map.entry("detail").or_insert_with(|| Value::from("full"));
    map
}

/// Calls the tool as a client would, returning the structured result.
fn call(advisor: &Advisor, args: Value) -> Value {
    advisor
        .call("plan_migration", &full_detail(&args))
        .unwrap_or_else(|e| panic!("refused {args}: {e}"))
        .structured
}

fn plan(advisor: &Advisor, args: Value) -> MigrationPlan {
    serde_json::from_value(call(advisor, args)).expect("the result reads back")
}

/// Calls the tool with arguments it must refuse, returning the refused field and the message.
fn refuse(advisor: &Advisor, args: Value) -> (String, String) {
    match advisor.call("plan_migration", args.as_object().expect("an object")) {
        Ok(out) => panic!("accepted {args}: {}", out.markdown),
        Err(CallError::Arguments(e)) => (e.field.clone(), e.to_string()),
        Err(e) => panic!("not an argument error for {args}: {e}"),
    }
}

/// Every kind: phases in order with contiguous weeks, risks, sources.
#[test]
fn every_kind_has_phases_risks_and_sources() {
    let advisor = advisor();
    for kind in MigrationKind::ALL {
        let mut args = json!({"kind": kind.id()});
        if kind == MigrationKind::Reshard {
            args = json!({"kind": "reshard", "current_shards": 4, "target_shards": 5});
        }
        let p = plan(&advisor, args);
        assert_eq!(p.kind, kind);
        assert!(p.zero_downtime, "{kind:?}: zero_downtime defaults to true");
        assert!(p.phases.len() >= 4, "{kind:?}");
        assert!(!p.risks.is_empty(), "{kind:?}");
        let mut week = 1;
        for phase in &p.phases {
            assert!(
                !phase.steps.is_empty() && phase.weeks >= 1,
                "{kind:?} {}",
                phase.id
            );
            assert!(!phase.exit_criteria.is_empty() && !phase.rollback.is_empty());
            assert_eq!(phase.start_week, week, "{kind:?} {}", phase.id);
            assert_eq!(phase.end_week, week + phase.weeks - 1);
            assert!(!phase.adapted_for_downtime);
            week += phase.weeks;
        }
        assert_eq!(p.total_weeks, week - 1);
        let phases_uri = format!(
            "knowledge://migrations#{}-phases",
            kind.id().replace('_', "-")
        );
        assert_eq!(p.sources[0], phases_uri);
        assert!(
            p.sources
                .contains(&"knowledge://migrations#risks".to_string())
        );
        for uri in &p.sources {
            assert!(
                advisor.knowledge().resolve(uri).is_some(),
                "{uri} does not resolve"
            );
        }
        assert_eq!(p.shard_strategy.is_some(), kind == MigrationKind::Shard);
        assert_eq!(p.reshard.is_some(), kind == MigrationKind::Reshard);
        let markdown = plan_migration::to_markdown(&p);
        assert!(
            markdown.contains("### Phases") && markdown.contains("### Risks"),
            "{markdown}"
        );
    }
}

#[test]
fn database_switch_has_the_five_phases_in_order() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL", "data_size_gb": 500}),
    );
    let ids: Vec<&str> = p.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dual_write",
            "backfill",
            "verify_reads",
            "cutover",
            "decommission"
        ]
    );
    assert_eq!(p.total_weeks, 8);
    assert_eq!(p.data_to_copy_gb, Some(500.0));
    assert_eq!(
        (p.from.as_deref(), p.to.as_deref()),
        (Some("MySQL"), Some("PostgreSQL"))
    );
    assert!(
        plan_migration::to_markdown(&p)
            .starts_with("## Migration plan · Database switch: MySQL → PostgreSQL")
    );
    assert!(
        p.risks.iter().any(|r| r.risk.contains("drift")),
        "{:?}",
        p.risks
    );
}

#[test]
fn a_maintenance_window_changes_only_the_marked_phases() {
    let advisor = advisor();
    let with_window = plan(
        &advisor,
        json!({"kind": "database_switch", "zero_downtime": false}),
    );
    let ids: Vec<&str> = with_window.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dual_write",
            "backfill",
            "verify_reads",
            "cutover",
            "decommission"
        ]
    );
    assert!(!with_window.zero_downtime);
    // Prepare, the window (copy, check and cutover inside it), decommission.
    assert_eq!(with_window.total_weeks, 3);
    let dual = &with_window.phases[0];
    assert!(dual.adapted_for_downtime);
    assert!(
        dual.steps.iter().any(|s| s.contains("read-only")),
        "{:?}",
        dual.steps
    );
    assert!(!with_window.phases[4].adapted_for_downtime);

    let reshard = plan(
        &advisor,
        json!({"kind": "reshard", "current_shards": 2, "target_shards": 3, "zero_downtime": false}),
    );
    let copy = reshard.phases.iter().find(|p| p.id == "copy").unwrap();
    assert!(copy.adapted_for_downtime && copy.weeks == 1);
    assert!(!copy.steps.iter().any(|s| s.contains("dual-write")));

    // With a window nothing is written to two places, so no phase may speak of dual writes.
    for args in [
        json!({"kind": "database_switch", "zero_downtime": false}),
        json!({"kind": "shard", "zero_downtime": false}),
        json!({"kind": "reshard", "current_shards": 2, "target_shards": 3, "zero_downtime": false}),
    ] {
        for phase in plan(&advisor, args.clone()).phases {
            let text = format!(
                "{} {} {} {}",
                phase.name,
                phase.steps.join("; "),
                phase.exit_criteria,
                phase.rollback
            );
            assert!(
                !text.contains("dual")
                    && !text.contains("Dual")
                    && !text.contains("writes to both"),
                "{args} {}: {text}",
                phase.id
            );
        }
    }

    // A kind the document does not adapt stays as it is, and says so.
    let cache = plan(
        &advisor,
        json!({"kind": "add_cache", "zero_downtime": false}),
    );
    let same = plan(&advisor, json!({"kind": "add_cache"}));
    assert_eq!(cache.phases, same.phases);
    assert!(
        cache
            .notes
            .iter()
            .any(|n| n.contains("the same either way"))
    );
}

#[test]
fn shard_strategy_follows_the_rule_order() {
    let advisor = advisor();
    for (args, strategy) in [
        (json!({"kind": "shard"}), "hash"),
        (
            json!({"kind": "shard", "needs_range_queries": true}),
            "range",
        ),
        (
            json!({"kind": "shard", "data_residency": true}),
            "geographic",
        ),
        (
            json!({"kind": "shard", "needs_range_queries": true, "data_residency": true}),
            "range",
        ),
        // A few tenants far larger than the rest are placed through a directory, before
        // every other rule.
        (json!({"kind": "shard", "large_tenants": true}), "directory"),
        (
            json!({"kind": "shard", "large_tenants": true, "needs_range_queries": true, "data_residency": true}),
            "directory",
        ),
        (json!({"kind": "shard", "large_tenants": false}), "hash"),
    ] {
        let p = plan(&advisor, args.clone());
        let s = p.shard_strategy.expect("a shard plan has a strategy");
        assert_eq!(s.strategy, strategy, "{args}");
        let names: Vec<&str> = s.tradeoffs.iter().map(|t| t.strategy.as_str()).collect();
        assert_eq!(names, ["directory", "hash", "range", "geographic"]);
        assert!(
            s.tradeoffs
                .iter()
                .all(|t| !t.pros.is_empty() && !t.cons.is_empty())
        );
        assert!(s.shard_key_advice.len() >= 3);
        assert!(
            s.shard_key_advice
                .iter()
                .any(|a| a.advice.contains("virtual shards"))
        );
        assert_eq!(s.virtual_shards, 1024);
        assert!(!s.reason.is_empty());
        assert!(
            p.sources
                .contains(&"knowledge://sharding#strategies".to_string())
        );
    }
    let hash = plan(&advisor, json!({"kind": "shard"}))
        .shard_strategy
        .unwrap();
    assert!(
        hash.reason
            .contains("`large_tenants` and `needs_range_queries` and `data_residency` are false"),
        "{}",
        hash.reason
    );
    let range = plan(
        &advisor,
        json!({"kind": "shard", "needs_range_queries": true}),
    )
    .shard_strategy
    .unwrap();
    assert!(
        range.reason.starts_with("`needs_range_queries` is true"),
        "{}",
        range.reason
    );
}

#[test]
fn a_first_sharding_maps_virtual_shards_from_the_start() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        json!({"kind": "shard", "target_shards": 4, "data_size_gb": 100}),
    );
    let map = p
        .shard_strategy
        .unwrap()
        .initial_map
        .expect("a map with target_shards");
    let ranges: Vec<Vec<&str>> = map
        .iter()
        .map(|s| s.virtual_ranges.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        ranges,
        [
            vec!["0-255"],
            vec!["256-511"],
            vec!["512-767"],
            vec!["768-1023"]
        ]
    );
    // The database becomes shard_1 and keeps a quarter; three quarters are copied out.
    assert_eq!(p.data_to_copy_gb, Some(75.0));

    let uneven = plan(
        &advisor,
        json!({"kind": "shard", "target_shards": 3, "virtual_shards": 10}),
    );
    let counts: Vec<u64> = uneven
        .shard_strategy
        .unwrap()
        .initial_map
        .unwrap()
        .iter()
        .map(|s| s.virtual_shard_count)
        .collect();
    assert_eq!(counts, [4, 3, 3]);

    let geographic = plan(
        &advisor,
        json!({"kind": "shard", "target_shards": 3, "data_residency": true}),
    );
    assert!(geographic.shard_strategy.unwrap().initial_map.is_none());
    assert!(!geographic.notes.is_empty());
}

#[test]
fn read_replicas_plan_watches_lag_and_reads_your_writes() {
    let advisor = advisor();
    let p = plan(&advisor, json!({"kind": "add_read_replicas"}));
    let steps: Vec<&str> = p
        .phases
        .iter()
        .flat_map(|p| p.steps.iter().map(String::as_str))
        .collect();
    assert!(
        steps.iter().any(|s| s.contains("replication lag")),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("after a write read from the primary")),
        "{steps:?}"
    );
    assert!(
        p.risks
            .iter()
            .any(|r| r.risk.contains("own write") && r.mitigation.contains("primary"))
    );
    assert!(
        p.sources
            .contains(&"knowledge://migrations#the-read-your-writes-gotcha".to_string())
    );
}

#[test]
fn cache_and_multi_region_plans() {
    let advisor = advisor();
    let cache = plan(&advisor, json!({"kind": "add_cache"}));
    assert!(cache.risks.iter().any(|r| r.risk.contains("stampede")));
    let multi = plan(
        &advisor,
        json!({"kind": "multi_region", "data_residency": true}),
    );
    assert!(multi.risks.iter().any(|r| r.risk.contains("Split brain")));
    assert!(multi.phases.iter().any(|p| p.id == "failover_test"));
}

// ---------------------------------------------------------------------------------------------
// The reshard arithmetic.

/// Parses `0-127` or `7` into an inclusive range.
fn parse_range(text: &str) -> (u64, u64) {
    match text.split_once('-') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => {
            let n = text.parse().unwrap();
            (n, n)
        }
    }
}

/// The owner of every virtual shard according to the map, checking that each appears once.
fn owners_from_map(r: &Reshard) -> Vec<usize> {
    let mut owner: Vec<Option<usize>> = vec![None; r.virtual_shards as usize];
    assert_eq!(r.shard_map.len() as u64, r.target_shards);
    for (i, shard) in r.shard_map.iter().enumerate() {
        assert_eq!(shard.shard, format!("shard_{}", i + 1));
        let mut previous_end: Option<u64> = None;
        let mut count = 0;
        for text in &shard.virtual_ranges {
            let (start, end) = parse_range(text);
            assert!(start <= end, "{text}");
            // Ascending and not touching: a compressed list never has two adjacent ranges.
            if let Some(prev) = previous_end {
                assert!(
                    start > prev + 1,
                    "{} ranges not compressed or not ascending: {:?}",
                    shard.shard,
                    shard.virtual_ranges
                );
            }
            previous_end = Some(end);
            for v in start..=end {
                let slot = &mut owner[v as usize];
                assert!(slot.is_none(), "virtual shard {v} appears twice");
                *slot = Some(i);
                count += 1;
            }
        }
        assert_eq!(count, shard.virtual_shard_count, "{}", shard.shard);
    }
    owner
        .into_iter()
        .enumerate()
        .map(|(v, o)| o.unwrap_or_else(|| panic!("virtual shard {v} is not mapped")))
        .collect()
}

/// Share of keys `key % c` and `key % t` place differently, counted over one period.
fn brute_force_modulo(c: u64, t: u64) -> f64 {
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let lcm = c / gcd(c, t) * t;
    let moved = (0..lcm).filter(|k| k % c != k % t).count();
    moved as f64 / lcm as f64
}

/// Every invariant of a reshard result.
fn check_reshard(r: &Reshard) {
    let (v, c, t) = (r.virtual_shards, r.current_shards, r.target_shards);
    let after = owners_from_map(r);
    // Even: the target quotas exactly.
    let counts: Vec<u64> = r.shard_map.iter().map(|s| s.virtual_shard_count).collect();
    assert_eq!(counts, quotas(v, t), "({c}, {t}, {v})");
    assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
    // Minimal: each shard keeps min(what it held, its quota), no more can stay.
    let before = contiguous_map(v, c);
    let held = quotas(v, c);
    let target_quota = quotas(v, t);
    let can_stay: u64 = (0..c.min(t) as usize)
        .map(|s| held[s].min(target_quota[s]))
        .sum();
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count() as u64;
    assert_eq!(r.moved_virtual_shards, moved, "({c}, {t}, {v})");
    assert_eq!(moved, v - can_stay, "({c}, {t}, {v}) is not minimal");
    assert!((r.moved_fraction - moved as f64 / v as f64).abs() < 1e-12);
    // The moves list is exactly the difference between the two maps.
    let listed: u64 = r.moves.iter().map(|m| m.virtual_shard_count).sum();
    assert_eq!(listed, moved);
    for m in &r.moves {
        let from: usize = m
            .from
            .trim_start_matches("shard_")
            .parse::<usize>()
            .unwrap()
            - 1;
        let to: usize = m.to.trim_start_matches("shard_").parse::<usize>().unwrap() - 1;
        for text in &m.virtual_ranges {
            let (start, end) = parse_range(text);
            for vs in start..=end {
                assert_eq!(
                    (before[vs as usize], after[vs as usize]),
                    (from, to),
                    "virtual shard {vs}"
                );
            }
        }
    }
    // The two comparisons.
    assert!(
        (r.naive_modulo_moved_fraction - brute_force_modulo(c, t)).abs() < 1e-12,
        "({c}, {t})"
    );
    let ring = c.abs_diff(t) as f64 / c.max(t) as f64;
    assert!((r.consistent_hashing_moved_fraction - ring).abs() < 1e-12);
}

#[test]
fn reshard_triples() {
    let advisor = advisor();
    // (current, target, virtual, moved virtual shards)
    for (c, t, v, moved) in [
        (4, 5, 1024, 204),
        (4, 8, 1024, 512),
        (8, 4, 1024, 512),
        (3, 7, 1000, 571),
        (5, 3, 16, 6),
        (1, 2, 2, 1),
        (2, 1, 2, 1),
        (7, 3, 7, 4),
    ] {
        let p = plan(
            &advisor,
            json!({"kind": "reshard", "current_shards": c, "target_shards": t, "virtual_shards": v}),
        );
        let r = p.reshard.expect("a reshard plan has the map");
        assert_eq!(
            (r.current_shards, r.target_shards, r.virtual_shards),
            (c, t, v)
        );
        assert_eq!(r.moved_virtual_shards, moved, "({c}, {t}, {v})");
        check_reshard(&r);
    }
}

#[test]
fn reshard_four_to_five_matches_the_document() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        json!({"kind": "reshard", "current_shards": 4, "target_shards": 5, "data_size_gb": 1024}),
    );
    let r = p.reshard.unwrap();
    // Each old shard keeps 205 and gives away 51: 204 move, about 20%; plain modulo moves 80%.
    let counts: Vec<u64> = r.shard_map.iter().map(|s| s.virtual_shard_count).collect();
    assert_eq!(counts, [205, 205, 205, 205, 204]);
    assert_eq!(r.shard_map[0].virtual_ranges, ["0-204"]);
    assert_eq!(
        r.shard_map[4].virtual_ranges,
        ["205-255", "461-511", "717-767", "973-1023"]
    );
    assert_eq!(r.moved_virtual_shards, 204);
    assert!((r.moved_fraction - 204.0 / 1024.0).abs() < 1e-12);
    assert!((r.naive_modulo_moved_fraction - 0.8).abs() < 1e-12);
    assert!((r.consistent_hashing_moved_fraction - 0.2).abs() < 1e-12);
    assert_eq!(r.moved_data_gb, Some(204.0));
    assert_eq!(p.data_to_copy_gb, Some(204.0));
    assert_eq!(r.naive_modulo_formula, "1 − gcd(4, 5) / max(4, 5) = 0.8");
    assert_eq!(r.moves.len(), 4);
    assert_eq!(
        (r.moves[0].from.as_str(), r.moves[0].to.as_str()),
        ("shard_1", "shard_5")
    );
}

#[test]
fn shrinking_moves_whole_shards_onto_the_survivors() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        json!({"kind": "reshard", "current_shards": 8, "target_shards": 4}),
    );
    let r = p.reshard.unwrap();
    assert_eq!(r.shard_map[0].virtual_ranges, ["0-127", "512-639"]);
    assert_eq!(r.shard_map[3].virtual_ranges, ["384-511", "896-1023"]);
    assert_eq!(r.moved_virtual_shards, 512);
    assert!((r.naive_modulo_moved_fraction - 0.5).abs() < 1e-12);
    assert!((r.consistent_hashing_moved_fraction - 0.5).abs() < 1e-12);
}

#[test]
fn uneven_splits_and_singletons() {
    let r = plan_migration::reshard(&advisor(), 16, 5, 3).unwrap();
    let ranges: Vec<Vec<&str>> = r
        .shard_map
        .iter()
        .map(|s| s.virtual_ranges.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        ranges,
        [
            vec!["0-3", "10-11"],
            vec!["4-6", "12-13"],
            vec!["7-9", "14-15"]
        ]
    );
    let r = plan_migration::reshard(&advisor(), 2, 1, 2).unwrap();
    assert_eq!(r.shard_map[0].virtual_ranges, ["0"]);
    assert_eq!(r.shard_map[1].virtual_ranges, ["1"]);
    check_reshard(&r);
    let r = plan_migration::reshard(&advisor(), 1000, 3, 7).unwrap();
    check_reshard(&r);
    let counts: Vec<u64> = r.shard_map.iter().map(|s| s.virtual_shard_count).collect();
    assert_eq!(counts, [143, 143, 143, 143, 143, 143, 142]);
}

#[test]
fn reshard_markdown_shows_the_map_and_the_comparisons() {
    let advisor = advisor();
    let out = advisor
        .call(
            "plan_migration",
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 5})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    for expected in [
        "204 virtual shards move (19.9%)",
        "would move 80%",
        "about 20%",
        "| shard_5 | 205-255, 461-511, 717-767, 973-1023 | 204 |",
        "- shard_1 → shard_5: 205-255 (51)",
    ] {
        assert!(
            out.markdown.contains(expected),
            "missing {expected:?} in\n{}",
            out.markdown
        );
    }
}

proptest! {
    #[test]
    fn every_reshard_is_even_minimal_and_complete(c in 1u64..40, t in 1u64..40, extra in 0u64..600) {
        prop_assume!(c != t);
        let v = c.max(t) + extra;
        let r = plan_migration::reshard(&ADVISOR, v, c, t).unwrap();
        check_reshard(&r);
        prop_assert_eq!(r, plan_migration::reshard(&ADVISOR, v, c, t).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[test]
fn refusals_name_the_field() {
    let advisor = advisor();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "reshuffle"}),
            "kind",
            "one of database_switch, functional_partition, shard, reshard, add_cache, add_read_replicas, multi_region",
        ),
        (json!({}), "kind", "required"),
        (
            json!({"kind": "reshard"}),
            "current_shards",
            "needs current_shards and target_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4}),
            "target_shards",
            "needs current_shards and target_shards",
        ),
        (
            json!({"kind": "reshard", "target_shards": 4}),
            "current_shards",
            "needs current_shards and target_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 4}),
            "target_shards",
            "different from current_shards (4)",
        ),
        (
            json!({"kind": "reshard", "current_shards": 0, "target_shards": 4}),
            "current_shards",
            "a whole number from 1 to 4096",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 0}),
            "target_shards",
            "a whole number from 1 to 4096",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 5, "virtual_shards": 0}),
            "virtual_shards",
            "from 1 to 65536",
        ),
        (
            json!({"kind": "reshard", "current_shards": 2.5, "target_shards": 5}),
            "current_shards",
            "a whole number",
        ),
        (
            json!({"kind": "reshard", "current_shards": -1, "target_shards": 5}),
            "current_shards",
            "a whole number",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 50, "virtual_shards": 32}),
            "virtual_shards",
            "at least target_shards (50)",
        ),
        (
            json!({"kind": "reshard", "current_shards": 40, "target_shards": 5, "virtual_shards": 32}),
            "virtual_shards",
            "at least current_shards (40)",
        ),
        (
            json!({"kind": "reshard", "current_shards": 2000, "target_shards": 5}),
            "virtual_shards",
            "1024 (the default)",
        ),
        (
            json!({"kind": "shard", "current_shards": 3}),
            "current_shards",
            "use kind reshard",
        ),
        (
            json!({"kind": "shard", "target_shards": 1}),
            "target_shards",
            "from 2 to 4096",
        ),
        (
            json!({"kind": "add_cache", "current_shards": 3}),
            "current_shards",
            "applies only to kind reshard",
        ),
        (
            json!({"kind": "multi_region", "virtual_shards": 64}),
            "virtual_shards",
            "applies only to kind reshard and shard",
        ),
        (
            json!({"kind": "database_switch", "from": "MySQL", "to": "mysql"}),
            "to",
            "two different ends",
        ),
        (
            json!({"kind": "database_switch", "from": " "}),
            "from",
            "a name",
        ),
        (
            json!({"kind": "add_cache", "data_size_gb": -5}),
            "data_size_gb",
            "from 0 to 10000000",
        ),
        (
            json!({"kind": "add_cache", "zero_downtime": "yes"}),
            "zero_downtime",
            "true or false",
        ),
        (
            json!({"kind": "shard", "target_shard": 4}),
            "target_shard",
            "Did you mean `target_shards`?",
        ),
    ];
    for (args, field, expected) in cases {
        let (refused, message) = refuse(&advisor, args.clone());
        assert_eq!(refused, field, "{args}: {message}");
        assert!(
            message.contains(expected),
            "{args}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn the_input_schema_states_defaults_and_ranges() {
    let advisor = advisor();
    let tool = advisor.tool("plan_migration").expect("registered");
    let properties = &tool.input_schema["properties"];
    assert_eq!(properties["zero_downtime"]["default"], json!(true));
    assert_eq!(properties["virtual_shards"]["default"], json!(1024));
    assert_eq!(tool.input_schema["required"], json!(["kind"]));
    let order: Vec<&str> = advisor.tools().iter().map(|t| t.name).collect();
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
    assert_eq!(at("plan_migration"), at("plan_capacity") + 1);
    assert_eq!(at("scaling_report"), at("plan_migration") + 1);
}

/// Every text of a plan: phases, risks, strategy and shard-key advice.
fn plan_texts(p: &MigrationPlan) -> Vec<String> {
    let mut texts = Vec::new();
    for phase in &p.phases {
        texts.extend(phase.steps.iter().cloned());
        texts.push(phase.exit_criteria.clone());
        texts.push(phase.rollback.clone());
    }
    for risk in &p.risks {
        texts.push(risk.risk.clone());
        texts.push(risk.mitigation.clone());
    }
    if let Some(s) = &p.shard_strategy {
        texts.push(s.how.clone());
        for a in &s.shard_key_advice {
            texts.push(a.advice.clone());
            texts.push(a.why.clone());
        }
    }
    texts
}

#[test]
fn plan_texts_use_the_virtual_shards_given() {
    let advisor = advisor();
    for (args, count) in [
        (json!({"kind": "shard", "virtual_shards": 256}), "256"),
        (
            json!({"kind": "shard", "virtual_shards": 4096, "target_shards": 8}),
            "4,096",
        ),
        (
            json!({"kind": "reshard", "virtual_shards": 512, "current_shards": 4, "target_shards": 8}),
            "512",
        ),
        (json!({"kind": "shard"}), "1,024"),
    ] {
        let p = plan(&advisor, args.clone());
        let texts = plan_texts(&p);
        let markdown = plan_migration::to_markdown(&p);
        assert!(
            texts.iter().any(|t| t.contains(&format!("modulo {count}"))
                || t.contains(&format!("{count} virtual shards"))),
            "{args}: no text names {count} virtual shards"
        );
        for t in texts.iter().chain([&markdown]) {
            assert!(
                !t.contains("{virtual_shards}"),
                "{args}: placeholder left in {t}"
            );
            if count != "1,024" {
                for default in [
                    "modulo 1024",
                    "1024 virtual",
                    "1024 by default",
                    "modulo 1,024",
                    "1,024 virtual",
                ] {
                    assert!(!t.contains(default), "{args}: the default leaks into {t}");
                }
            }
        }
    }
}

#[test]
fn functional_partition_moves_table_groups_with_exit_criteria_and_rollback() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        json!({"kind": "functional_partition", "data_size_gb": 300}),
    );
    let ids: Vec<&str> = p.phases.iter().map(|ph| ph.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "map_domains",
            "cut_links",
            "connect",
            "replicate",
            "cutover",
            "cleanup"
        ]
    );
    for phase in &p.phases {
        assert!(
            !phase.steps.is_empty()
                && !phase.exit_criteria.is_empty()
                && !phase.rollback.is_empty(),
            "{}",
            phase.id
        );
    }
    assert!(p.risks.len() >= 2);
    assert!(p.risks.iter().any(|r| r.risk.contains("spans two groups")));
    assert_eq!(p.data_to_copy_gb, Some(300.0));
    assert!(
        p.sources
            .contains(&"knowledge://migrations#functional-partition-phases".to_string())
    );
    assert!(
        p.sources
            .contains(&"knowledge://sharding#before-sharding-functional-partitioning".to_string())
    );
    // It moves no shards, so shard counts are refused.
    let refused = Advisor::embedded()
        .expect("the embedded knowledge loads")
        .call(
            "plan_migration",
            json!({"kind": "functional_partition", "target_shards": 4})
                .as_object()
                .expect("an object"),
        );
    assert!(refused.is_err());
}
