//! `scaling_report` with `growth` (contract §10): the roadmap of three systems checked by hand
//! from the forecast's formulas, and its invariants over generated systems and growth rates.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tools::Advisor;
use tools::scaling_report::Report;

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

/// The report in `detail: full`, which reads back into its type (concise cites the nested
/// results' sources by position and leaves out what the sections state).
fn report(args: Value) -> Report {
    let mut args = args.as_object().cloned().unwrap_or_default();
    args.entry("detail").or_insert(Value::from("full"));
    let out = ADVISOR
        .call("scaling_report", &args)
        .unwrap_or_else(|e| panic!("refused {args:?}: {e}"));
    serde_json::from_value(out.structured).expect("the report reads back")
}

fn section<'a>(r: &'a Report, title: &str) -> &'a str {
    r.sections
        .iter()
        .find(|s| s.title == title)
        .map(|s| s.markdown.as_str())
        .unwrap_or_else(|| panic!("no section {title}"))
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-3,
        "{actual} is not {expected}"
    );
}

/// Months of the add_cache and add_read_replicas playbooks (5 weeks each, `migrations`) and of
/// the shard playbook (9 weeks), at 30.4375 days a month (`capacity-planning#roadmap-timing`).
const FIVE_WEEKS: f64 = 5.0 * 7.0 / 30.4375; // 1.149897
const NINE_WEEKS: f64 = 9.0 * 7.0 / 30.4375; // 2.069815

#[test]
fn a_small_system_growing_tenfold_a_year_gets_a_cache_now_and_replicas_in_month_12() {
    let r = report(json!({
        "system": {"users": 8000, "db_cpu_pct": 45},
        "growth": {"growth_multiple": 10, "over_months": 12},
        "current_monthly_cost_usd": 400
    }));
    // 10× in 12 months: ln(1 + g) = ln 10 / 12 = 0.191882 (g = 21.15% a month).
    let rate = 10f64.ln() / 12.0;
    // Stage 2 at 10,000 users: ln(10000 / 8000) / 0.191882 = 0.223144 / 0.191882 = 1.162920.
    let stage2 = (10000f64 / 8000.0).ln() / rate;
    // db CPU critical at 85%: ln(85 / 45) / 0.191882 = 0.635989 / 0.191882 = 3.314477.
    let cpu = (85f64 / 45.0).ln() / rate;
    // Stage 3 at 100,000 users: ln(12.5) / 0.191882 = 2.525729 / 0.191882 = 13.162920.
    let stage3 = (100000f64 / 8000.0).ln() / rate;
    // Stage 4 at 1,000,000: ln(125) / 0.191882 = 25.16 months, past the 24-month horizon.
    let steps = r.roadmap.as_ref().expect("a roadmap with growth");
    assert_eq!(steps.len(), 2, "{steps:?}");

    // Step 1: the cache, 5 weeks, done when stage 2 begins: start 1.162920 − 1.149897 = 0.013.
    let cache = &steps[0];
    assert_eq!(cache.adds, ["cache"]);
    assert_eq!(cache.migration.map(|k| k.id()), Some("add_cache"));
    close(cache.done_by_month, stage2);
    close(cache.start_month, stage2 - FIVE_WEEKS);
    assert!(!cache.late);
    // It also pre-empts the CPU's critical line (the cache takes repeated reads off it).
    let months: Vec<f64> = cache.pre_empts.iter().map(|c| c.month).collect();
    assert_eq!(months.len(), 2, "{:?}", cache.pre_empts);
    close(months[1], cpu);
    assert!(
        cache
            .because
            .contains("`db_cpu_pct` reaches its critical line (85) in month 3.3")
    );

    // Step 2: read replicas, 5 weeks before month 13.16: start 13.162920 − 1.149897 = 12.013.
    let replicas = &steps[1];
    assert_eq!(replicas.adds, ["read_replicas"]);
    close(replicas.done_by_month, stage3);
    close(replicas.start_month, stage3 - FIVE_WEEKS);

    // The sections follow the roadmap.
    assert_eq!(r.target_stage.number, 3);
    let added: Vec<&str> = r
        .components_to_add
        .iter()
        .filter(|c| c.role == tools::scaling_report::Role::Add)
        .map(|c| c.component.as_str())
        .collect();
    assert_eq!(added, ["cache", "read_replicas"]);
    assert_eq!(r.migrations[0].kind.id(), "add_cache");
    assert!(
        r.summary
            .starts_with("Start now: add cache (add_cache), done by month 1.2"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("21.2% a month"), "{}", r.summary);
    // Today's $400 scaled by load: ×10² over 24 months = $40,000.
    close(r.cost.at_horizon_usd.expect("a current cost"), 40000.0);
    let cost = section(&r, "Cost Impact");
    assert!(
        cost.contains("$40,000 per month by month 24 (load ×100)"),
        "{cost}"
    );
    // 8,000 × 100 = 800,000 users at the horizon: the band up to 1M.
    assert!(cost.contains("for 800,000 users at month 24"), "{cost}");
    let risks = section(&r, "Risk Mitigation");
    assert!(
        risks.contains("**`db_cpu_pct` reaches its critical line (85) in month 3.3**: step 1, cache (add_cache), is done by month 1.2, start now"),
        "{risks}"
    );
    assert!(
        section(&r, "Recommended Architecture")
            .contains("| 1 | now | month 1.2 | cache (add_cache) |")
    );
}

#[test]
fn a_large_system_at_seventy_percent_cpu_shards_before_it_turns_critical() {
    let r = report(json!({
        "system": {"users": 400000, "has_cache": true, "has_read_replicas": true, "db_cpu_pct": 70},
        "growth": {"monthly_growth_pct": 8}
    }));
    // ln 1.08 = 0.076961. db CPU critical: ln(85 / 70) / 0.076961 = 0.194156 / 0.076961 =
    // 2.522784; 1,000,000 users (stage 4): ln 2.5 / 0.076961 = 11.906.
    let rate = 1.08f64.ln();
    let cpu = (85f64 / 70.0).ln() / rate;
    let stage4 = 2.5f64.ln() / rate;
    let steps = r.roadmap.as_ref().expect("a roadmap");
    assert_eq!(steps.len(), 1, "{steps:?}");
    let shard = &steps[0];
    // Cache and replicas are in place: the CPU's row is sharding (9 weeks): start 2.522784 −
    // 2.069815 = 0.452969.
    assert_eq!(shard.adds, ["sharding"]);
    assert_eq!(shard.migration.map(|k| k.id()), Some("shard"));
    close(shard.done_by_month, cpu);
    close(shard.start_month, cpu - NINE_WEEKS);
    assert!(!shard.late);
    close(shard.pre_empts[1].month, stage4);
    // The warning that fires today brings its immediate fix into the step.
    assert!(
        shard.action.contains("meanwhile (db_cpu_saturation)"),
        "{}",
        shard.action
    );
    assert_eq!(r.target_stage.number, 4);
    assert!(
        r.summary
            .starts_with("Start by month 0.5: add sharding (shard), done by month 2.5"),
        "{}",
        r.summary
    );
    for title in ["Components to Add", "Migration Plan", "Risk Mitigation"] {
        let text = section(&r, title).to_lowercase();
        for snapshot in [
            "nothing to add",
            "no migration",
            "nothing to mitigate",
            "stay at stage",
        ] {
            assert!(!text.contains(snapshot), "{title}: {text}");
        }
    }
}

#[test]
fn a_step_that_cannot_finish_in_time_is_late() {
    let r = report(json!({
        "system": {"users": 400000, "has_cache": true, "has_read_replicas": true, "db_cpu_pct": 84},
        "growth": {"monthly_growth_pct": 8}
    }));
    // ln(85 / 84) / ln 1.08 = 0.011834 / 0.076961 = 0.153770 months, less than the shard
    // migration's 2.069815: start now, done by 2.07, late.
    let steps = r.roadmap.as_ref().expect("a roadmap");
    let shard = &steps[0];
    assert!(shard.late);
    assert_eq!(shard.start_month, 0.0);
    close(shard.done_by_month, NINE_WEEKS);
    close(shard.pre_empts[0].month, (85f64 / 84.0).ln() / 1.08f64.ln());
    assert!(
        shard
            .because
            .starts_with("late: `db_cpu_pct` reaches its critical line (85) in month 0.2"),
        "{}",
        shard.because
    );
    assert!(r.summary.contains("late: `db_cpu_pct`"), "{}", r.summary);
}

#[test]
fn without_a_crossing_there_is_no_step_and_the_report_says_why() {
    let r = report(json!({
        "system": {"users": 3000, "db_cpu_pct": 20},
        "growth": {"monthly_growth_pct": 1, "horizon_months": 12}
    }));
    // 10,000 users: ln(10000 / 3000) / ln 1.01 = 1.203973 / 0.00995033 = 121.0 months; db CPU
    // critical: ln(85 / 20) / 0.00995033 = 145.4 months: both past the 12-month horizon.
    assert_eq!(r.roadmap.as_deref(), Some(&[][..]));
    assert!(
        r.summary
            .starts_with("No step needed within 12 months at 1% a month"),
        "{}",
        r.summary
    );
    let why = "nothing crosses a line within 12 months at 1% a month";
    for title in [
        "Recommended Architecture",
        "Components to Add",
        "Migration Plan",
    ] {
        assert!(
            section(&r, title).contains(why),
            "{title}: {}",
            section(&r, title)
        );
    }
    assert_eq!(r.target_stage.number, 1);
}

#[test]
fn without_growth_there_is_no_roadmap() {
    let r = report(json!({"system": {"users": 8000, "db_cpu_pct": 45}}));
    assert!(r.roadmap.is_none());
}

/// The crossings a forecast reports within its horizon, independently of the roadmap: every
/// stage boundary and every resource's critical line (its warning line when it has none).
fn forecast_crossings(r: &Report) -> Vec<(String, f64)> {
    let f = r.forecast.as_ref().expect("a forecast");
    let horizon = f64::from(f.horizon_months);
    let mut out: Vec<(String, f64)> = f
        .stages
        .iter()
        .filter(|s| s.month <= horizon)
        .map(|s| ("users".to_string(), s.month))
        .collect();
    for resource in &f.resources {
        let month = if resource.critical.is_some() {
            resource.months_to_critical
        } else {
            resource.months_to_warning
        };
        if let Some(m) = month.filter(|m| *m <= horizon) {
            out.push((resource.name.clone(), m));
        }
    }
    out
}

fn system() -> impl Strategy<Value = Value> {
    (
        100u64..5_000_000,
        1.0..99.0f64,
        proptest::option::of(1.0..99.0f64),
        any::<(bool, bool, bool)>(),
        proptest::option::of(10.0..100_000.0f64),
        proptest::option::of((1.0..99.0f64, 1.0..99.0f64, 1.0..99.0f64)),
    )
        .prop_map(
            |(users, cpu, writes, (cache, replicas, sharded), cost, others)| {
                let mut system = json!({
                    "users": users, "db_cpu_pct": cpu,
                    "has_cache": cache, "has_read_replicas": replicas, "sharded": sharded
                });
                if let Some(w) = writes {
                    system["db_write_load_pct"] = json!(w);
                }
                // Steps in place: more replicas, more servers, a pooler.
                if let Some((reads, app, pool)) = others {
                    system["db_read_load_pct"] = json!(reads);
                    system["app_cpu_pct"] = json!(app);
                    system["pool_utilization_pct"] = json!(pool);
                }
                let mut args = json!({"system": system});
                if let Some(c) = cost {
                    args["current_monthly_cost_usd"] = json!(c);
                }
                args
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_crossing_has_a_step_in_time_and_no_section_contradicts_it(
        mut args in system(),
        growth in 0.5..40.0f64,
        horizon in 6u32..60,
    ) {
        args["growth"] = json!({"monthly_growth_pct": growth, "horizon_months": horizon});
        let r = report(args.clone());
        let steps = r.roadmap.clone().expect("a roadmap");
        let stated = |flag: &str| args["system"][flag].as_bool().unwrap_or(false);

        // Every crossing within the horizon has a step done before it, or a late one; a stage
        // boundary may instead need only components the caller has.
        for (subject, month) in forecast_crossings(&r) {
            let step = steps.iter().find(|s| {
                s.pre_empts.iter().any(|c| c.subject == subject && (c.month - month).abs() < 1e-9)
            });
            match step {
                Some(s) => prop_assert!(s.late || s.done_by_month <= month + 1e-9, "{s:?} after {month}"),
                None => {
                    prop_assert_eq!(&subject, "users", "{} at {} has no step: {:?}", subject, month, steps);
                    let stage = r.forecast.as_ref().unwrap().stages.iter().find(|s| (s.month - month).abs() < 1e-9).unwrap();
                    for c in &stage.add {
                        let flag = match c.as_str() {
                            "cache" => "has_cache",
                            "read_replicas" => "has_read_replicas",
                            "sharding" => "sharded",
                            other => other,
                        };
                        prop_assert!(stated(flag), "{} needs {} for {:?}", subject, c, stage);
                    }
                }
            }
        }

        // Steps are ordered and timed: done = start + duration, or, late, start now.
        for pair in steps.windows(2) {
            prop_assert!(pair[0].start_month <= pair[1].start_month, "{steps:?}");
        }
        for s in &steps {
            prop_assert!(s.start_month >= 0.0 && s.done_by_month >= s.start_month);
            if s.late {
                prop_assert_eq!(s.start_month, 0.0);
            } else {
                prop_assert!((s.done_by_month - s.start_month - s.duration_months).abs() < 1e-9);
            }
        }

        // No section states the snapshot while the roadmap has a step.
        if !steps.is_empty() {
            let texts = r.sections.iter().map(|s| s.markdown.to_lowercase()).chain([r.summary.to_lowercase()]);
            for text in texts {
                for snapshot in ["nothing to add", "no migration", "nothing to mitigate"] {
                    prop_assert!(!text.contains(snapshot), "{snapshot} in {text}");
                }
            }
            prop_assert!(r.summary.starts_with("Start"), "{}", r.summary);
        }

        // The projected cost never falls while load grows.
        let mut after = r.cost.after_steps.clone();
        after.sort_by(|a, b| a.month.total_cmp(&b.month));
        for pair in after.windows(2) {
            prop_assert!(pair[0].load_multiple <= pair[1].load_multiple);
            if let (Some(a), Some(b)) = (&pair[0].band, &pair[1].band) {
                prop_assert!(a.low <= b.low, "{after:?}");
            }
            if let (Some(a), Some(b)) = (pair[0].scaled_usd, pair[1].scaled_usd) {
                prop_assert!(a <= b);
            }
        }
        if let (Some(now), Some(then)) = (r.cost.current_monthly_usd, r.cost.at_horizon_usd) {
            prop_assert!(then >= now);
        }
        if let Some(today) = &r.cost.current_band {
            prop_assert!(r.cost.projected.low >= today.low, "{:?} below {:?}", r.cost.projected, today);
        }
    }
}

#[test]
fn an_empty_system_is_refused_with_growth_too() {
    // Growth does not stand in for a system: nothing to diagnose is still refused.
    let args: Map<String, Value> = json!({"system": {}, "growth": {"monthly_growth_pct": 5}})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(ADVISOR.call("scaling_report", &args).is_err());
}
