//! `plan_migration` sized by its data and its pair (issue 28, point 6): the copy phase and a
//! maintenance window follow the data to copy and a copy rate, for every kind that copies; a
//! database switch names what its (from, to) pair needs, and an unknown pair says the plan is
//! generic; absurd inputs are refused naming the field, the value and the range.

use serde_json::{Value, json};
use tools::plan_migration::{MigrationPlan, Phase};
use tools::{Advisor, CallError};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn plan(advisor: &Advisor, args: &Value) -> MigrationPlan {
    let mut map = args.as_object().expect("an object").clone();
    map.entry("detail").or_insert_with(|| Value::from("full"));
    let out = advisor
        .call("plan_migration", &map)
        .unwrap_or_else(|e| panic!("refused {args}: {e}"));
    serde_json::from_value(out.structured).expect("the result reads back")
}

fn phase<'a>(p: &'a MigrationPlan, id: &str) -> &'a Phase {
    p.phases
        .iter()
        .find(|ph| ph.id == id)
        .unwrap_or_else(|| panic!("no phase {id}"))
}

/// The rate of `migrations#copy-rates` marked default (AWS DMS: about 1 TB in 13 hours).
const DEFAULT_RATE: f64 = 78.0;
const HOURS_PER_WEEK: f64 = 168.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Weeks of a phase copying `hours` around the clock, never under the table's `floor`.
fn weeks_for(hours: f64, floor: u64) -> u64 {
    floor.max((hours / HOURS_PER_WEEK).ceil() as u64)
}

struct Case {
    args: Value,
    /// GB the plan copies: the database, or the moved share.
    copied_gb: f64,
    /// The phase that copies and its weeks in the document (the floor).
    copy_phase: &'static str,
    floor: u64,
    /// Phases that run inside the window (0 weeks) with a maintenance window.
    inside_window: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for size in [1.0, 800.0, 500_000.0] {
        for zero_downtime in [true, false] {
            let window = !zero_downtime;
            cases.push(Case {
                args: json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL",
                    "data_size_gb": size, "zero_downtime": zero_downtime}),
                copied_gb: size,
                copy_phase: "backfill",
                floor: if window { 1 } else { 2 },
                inside_window: if window {
                    &["verify_reads", "cutover"]
                } else {
                    &[]
                },
            });
            // The database becomes shard_1 of 4 and keeps a quarter; three quarters move.
            cases.push(Case {
                args: json!({"kind": "shard", "target_shards": 4, "data_size_gb": size,
                    "zero_downtime": zero_downtime}),
                copied_gb: size * 0.75,
                copy_phase: "copy",
                floor: if window { 1 } else { 2 },
                inside_window: if window { &["cutover"] } else { &[] },
            });
            // 4 → 5 shards over 1024 virtual shards moves 204 of them.
            cases.push(Case {
                args: json!({"kind": "reshard", "current_shards": 4, "target_shards": 5,
                    "data_size_gb": size, "zero_downtime": zero_downtime}),
                copied_gb: size * 204.0 / 1024.0,
                copy_phase: "copy",
                floor: if window { 1 } else { 2 },
                inside_window: if window { &["switch"] } else { &[] },
            });
            // No maintenance-window variant: the table has no downtime columns.
            cases.push(Case {
                args: json!({"kind": "functional_partition", "data_size_gb": size,
                    "zero_downtime": zero_downtime}),
                copied_gb: size,
                copy_phase: "replicate",
                floor: 1,
                inside_window: &[],
            });
        }
    }
    cases
}

#[test]
fn the_copy_phase_and_the_window_follow_the_data_and_the_rate() {
    let advisor = advisor();
    for case in cases() {
        let args = &case.args;
        let p = plan(&advisor, args);
        let copy = p
            .copy_time
            .as_ref()
            .unwrap_or_else(|| panic!("{args}: no copy_time"));
        assert!(close(copy.data_to_copy_gb, case.copied_gb), "{args}");
        assert_eq!(p.data_to_copy_gb, Some(copy.data_to_copy_gb), "{args}");
        assert_eq!(copy.copy_rate_gb_per_hour, DEFAULT_RATE, "{args}");
        assert!(copy.rate_basis.contains("AWS DMS"), "{args}");
        let hours = case.copied_gb / DEFAULT_RATE;
        assert!(close(copy.copy_hours, hours), "{args}: {}", copy.copy_hours);

        // A window exists where the copy phase has a maintenance-window variant.
        let window = args["zero_downtime"] == false && case.copy_phase != "replicate";
        let (expected_weeks, pause) = match window {
            // The copy, then its check at the copy's own pace.
            true => (weeks_for(2.0 * hours, case.floor), Some(2.0 * hours)),
            false => (weeks_for(hours, case.floor), None),
        };
        assert_eq!(copy.phase, case.copy_phase, "{args}");
        assert_eq!(copy.phase_weeks, expected_weeks, "{args}");
        assert_eq!(phase(&p, case.copy_phase).weeks, expected_weeks, "{args}");
        match (copy.write_pause_hours, pause) {
            (Some(got), Some(want)) => assert!(close(got, want), "{args}: {got}"),
            (None, None) => {}
            (got, want) => panic!("{args}: write pause {got:?}, expected {want:?}"),
        }
        assert_eq!(copy.verify_hours.is_some(), window, "{args}");

        // Every figure shows its formula with the numbers substituted.
        let quantities: Vec<&str> = copy.workings.iter().map(|w| w.quantity.as_str()).collect();
        let expected: &[&str] = match window {
            true => &["copy_hours", "verify_hours", "window_hours", "window_weeks"],
            false => &["copy_hours", "copy_weeks"],
        };
        assert_eq!(quantities, expected, "{args}");
        assert!(copy.workings[0].substituted.contains(" / 78"), "{args}");
        assert!(
            p.sources
                .contains(&"knowledge://migrations#copy-formulas".to_string())
                && p.sources
                    .contains(&"knowledge://migrations#copy-rates".to_string()),
            "{args}: {:?}",
            p.sources
        );

        // Phases in order: a 0-week phase shares the last week of the window before it.
        let mut week = 1;
        for ph in &p.phases {
            if case.inside_window.contains(&ph.id.as_str()) {
                assert_eq!(ph.weeks, 0, "{args} {}", ph.id);
                assert_eq!((ph.start_week, ph.end_week), (week - 1, week - 1), "{args}");
            } else {
                assert!(ph.weeks >= 1, "{args} {}", ph.id);
                assert_eq!(ph.start_week, week, "{args} {}", ph.id);
                assert_eq!(ph.end_week, week + ph.weeks - 1);
            }
            week += ph.weeks;
        }
        assert_eq!(p.total_weeks, week - 1, "{args}");
        assert!(p.summary.contains("GB/h"), "{args}: {}", p.summary);
    }
}

#[test]
fn an_offline_switch_pauses_writes_for_hours_not_weeks() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        &json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL",
            "data_size_gb": 800, "zero_downtime": false}),
    );
    let copy = p.copy_time.as_ref().expect("copy_time");
    // 800 GB at 78 GB/h: 10.3 hours of copy, 20.5 with its check; one week of calendar.
    let pause = copy.write_pause_hours.expect("a window");
    assert!((20.0..21.0).contains(&pause), "{pause}");
    assert_eq!(p.total_weeks, 3);
    let markdown = tools::plan_migration::to_markdown(&p);
    assert!(
        markdown.contains("Writes pause for 20.5 hours"),
        "{markdown}"
    );
    // Same window, not three more weeks of read-only.
    assert!(
        markdown.contains("inside the same window, week 2"),
        "{markdown}"
    );
    assert!(p.notes.iter().all(|n| !n.contains("few services")));

    // At 500 TB the window would last months: the plan says so and points at zero downtime.
    let huge = plan(
        &advisor,
        &json!({"kind": "database_switch", "data_size_gb": 500000, "zero_downtime": false}),
    );
    assert!(
        huge.notes
            .iter()
            .any(|n| n.contains("days") && n.contains("zero_downtime: true")),
        "{:?}",
        huge.notes
    );
    let online = plan(
        &advisor,
        &json!({"kind": "database_switch", "data_size_gb": 500000}),
    );
    assert!(online.total_weeks > 8, "{}", online.total_weeks);
    assert_eq!(online.copy_time.unwrap().write_pause_hours, None);
}

#[test]
fn the_weeks_never_shrink_as_the_data_grows() {
    let advisor = advisor();
    for kind in [
        json!({"kind": "database_switch"}),
        json!({"kind": "reshard", "current_shards": 8, "target_shards": 12}),
    ] {
        for zero_downtime in [true, false] {
            let mut previous = 0;
            for size in [
                0.0,
                1.0,
                100.0,
                10_000.0,
                100_000.0,
                1_000_000.0,
                10_000_000.0,
            ] {
                let mut args = kind.clone();
                args["data_size_gb"] = json!(size);
                args["zero_downtime"] = json!(zero_downtime);
                let weeks = plan(&advisor, &args).total_weeks;
                assert!(weeks >= previous, "{args}: {weeks} < {previous}");
                previous = weeks;
            }
        }
    }
}

#[test]
fn a_measured_rate_replaces_the_default() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        &json!({"kind": "database_switch", "data_size_gb": 800, "copy_rate_gb_per_hour": 400,
            "zero_downtime": false}),
    );
    let copy = p.copy_time.expect("copy_time");
    assert_eq!(copy.rate_basis, "given");
    assert!(close(copy.copy_hours, 2.0));
    assert!(close(copy.write_pause_hours.unwrap(), 4.0));
    assert!(
        !p.sources
            .contains(&"knowledge://migrations#copy-rates".to_string()),
        "the default's row is not cited when the caller's rate is used"
    );
    // A slow link makes the online backfill longer than its floor.
    let slow = plan(
        &advisor,
        &json!({"kind": "database_switch", "data_size_gb": 800, "copy_rate_gb_per_hour": 1}),
    );
    assert_eq!(phase(&slow, "backfill").weeks, 5); // 800 h = 4.8 weeks
}

#[test]
fn kinds_that_copy_nothing_in_bulk_have_no_copy_time() {
    let advisor = advisor();
    for kind in ["add_cache", "add_read_replicas", "multi_region"] {
        let p = plan(&advisor, &json!({"kind": kind, "data_size_gb": 800}));
        assert!(p.copy_time.is_none(), "{kind}");
    }
    // Without the size, the plan asks for it.
    let p = plan(&advisor, &json!({"kind": "database_switch"}));
    assert!(p.copy_time.is_none());
    assert!(
        p.missing_inputs
            .iter()
            .any(|m| m.field == "data_size_gb" && m.enables.contains("copy_time"))
    );
    // A first sharding without target_shards does not know what moves.
    let p = plan(&advisor, &json!({"kind": "shard", "data_size_gb": 800}));
    assert!(p.copy_time.is_none());
}

// ---------------------------------------------------------------------------------------------
// The pair.

const MYSQL_TO_POSTGRES: [(&str, &str, &str); 9] = [
    // (topic, phase, a word its action must hold)
    ("booleans", "dual_write", "TINYINT(1)"),
    ("enums", "dual_write", "ENUM"),
    ("unsigned integers", "dual_write", "UNSIGNED"),
    (
        "identity columns",
        "dual_write",
        "GENERATED BY DEFAULT AS IDENTITY",
    ),
    ("collation and case", "dual_write", "citext"),
    ("upserts", "dual_write", "ON CONFLICT"),
    ("zero dates", "backfill", "0000-00-00"),
    ("copy tools", "backfill", "Debezium"),
    ("sequences", "cutover", "setval"),
];

#[test]
fn mysql_to_postgres_names_what_the_pair_needs_in_its_phases() {
    let advisor = advisor();
    for (from, to) in [
        ("MySQL", "PostgreSQL"),
        ("mysql", "postgres"),
        (" MariaDB ", "Postgres"),
    ] {
        for zero_downtime in [true, false] {
            let args = json!({"kind": "database_switch", "from": from, "to": to,
                "zero_downtime": zero_downtime});
            let p = plan(&advisor, &args);
            let topics: Vec<&str> = p.pair_notes.iter().map(|n| n.topic.as_str()).collect();
            assert_eq!(topics, MYSQL_TO_POSTGRES.map(|(t, _, _)| t), "{args}");
            for (topic, phase_id, word) in MYSQL_TO_POSTGRES {
                let note = p.pair_notes.iter().find(|n| n.topic == topic).unwrap();
                assert_eq!(note.phase, phase_id, "{args} {topic}");
                assert!(
                    note.action.contains(word),
                    "{args} {topic}: {}",
                    note.action
                );
                assert!(note.source.contains("https://"), "{args} {topic}");
                // Folded into its phase, first, as a step.
                let steps = &phase(&p, phase_id).steps;
                assert!(
                    steps.iter().any(|s| s.contains(&note.action)
                        && s.starts_with(&format!("{} → {}", from.trim(), to.trim()))),
                    "{args} {topic}: {steps:?}"
                );
            }
            assert!(
                p.sources
                    .contains(&"knowledge://migrations#pair-notes".to_string())
            );
            assert!(
                !p.missing_inputs.iter().any(|m| m.enables == "pair_notes"),
                "{args}"
            );
            if !zero_downtime {
                for ph in &p.phases {
                    for step in &ph.steps {
                        assert!(!step.contains("dual"), "{args}: {step}");
                    }
                }
            }
        }
    }
    let markdown = tools::plan_migration::to_markdown(&plan(
        &advisor,
        &json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL"}),
    ));
    assert!(
        markdown.contains("### What MySQL → PostgreSQL needs"),
        "{markdown}"
    );
}

#[test]
fn postgres_to_mysql_names_the_reverse_differences() {
    let advisor = advisor();
    let p = plan(
        &advisor,
        &json!({"kind": "database_switch", "from": "Postgres", "to": "mysql"}),
    );
    let note = |topic: &str| {
        p.pair_notes
            .iter()
            .find(|n| n.topic == topic)
            .unwrap_or_else(|| panic!("no note on {topic}: {:?}", p.pair_notes))
    };
    assert!(note("upserts").action.contains("ON DUPLICATE KEY UPDATE"));
    assert!(note("collation and case").action.contains("utf8mb4_bin"));
    assert!(note("booleans").action.contains("TINYINT(1)"));
    assert!(note("copy tools").action.contains("Debezium"));
    assert!(p.pair_notes.iter().all(|n| n.source.contains("https://")));
    // MySQL moves its counter past the ids copied in: no sequence reset at cutover.
    assert!(
        !phase(&p, "cutover")
            .steps
            .iter()
            .any(|s| s.contains("setval")),
        "{:?}",
        phase(&p, "cutover").steps
    );
    // Not the notes of the other direction.
    assert!(p.pair_notes.iter().all(|n| n.topic != "zero dates"));
}

#[test]
fn an_unknown_pair_gets_the_generic_plan_and_says_so() {
    let advisor = advisor();
    let mysql = plan(
        &advisor,
        &json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL"}),
    );
    for (from, to) in [
        ("PostgreSQL", "Oracle"),
        ("Oracle", "PostgreSQL"),
        ("MySQL", "CockroachDB"),
    ] {
        let args = json!({"kind": "database_switch", "from": from, "to": to});
        let p = plan(&advisor, &args);
        assert!(p.pair_notes.is_empty(), "{args}");
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains(&format!("{from} → {to}")) && n.contains("generic")),
            "{args}: {:?}",
            p.notes
        );
        assert!(
            !p.sources
                .contains(&"knowledge://migrations#pair-notes".to_string())
        );
        // The generic steps are those of the known pair without its own.
        let generic: usize = p.phases.iter().map(|ph| ph.steps.len()).sum();
        let with_pair: usize = mysql.phases.iter().map(|ph| ph.steps.len()).sum();
        assert_eq!(generic + mysql.pair_notes.len(), with_pair, "{args}");
    }
    // Without both ends the plan says which argument would give the notes.
    let p = plan(
        &advisor,
        &json!({"kind": "database_switch", "from": "MySQL"}),
    );
    assert!(p.pair_notes.is_empty());
    assert!(
        p.missing_inputs
            .iter()
            .any(|m| m.field == "to" && m.enables == "pair_notes")
    );
    // Other kinds have no pair notes even with both ends named.
    let p = plan(
        &advisor,
        &json!({"kind": "functional_partition", "from": "MySQL", "to": "PostgreSQL"}),
    );
    assert!(p.pair_notes.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[test]
fn absurd_sizes_and_rates_are_refused_naming_the_range() {
    let advisor = advisor();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "database_switch", "data_size_gb": 1e8}),
            "data_size_gb",
            "from 0 to 10000000",
        ),
        (
            json!({"kind": "database_switch", "data_size_gb": -1}),
            "data_size_gb",
            "from 0 to 10000000",
        ),
        (
            json!({"kind": "database_switch", "data_size_gb": 800, "copy_rate_gb_per_hour": 0}),
            "copy_rate_gb_per_hour",
            "from 0.01 to 100000",
        ),
        (
            json!({"kind": "reshard", "current_shards": 2, "target_shards": 3, "copy_rate_gb_per_hour": 1e6}),
            "copy_rate_gb_per_hour",
            "from 0.01 to 100000",
        ),
        (
            json!({"kind": "shard", "copy_rate_gb_per_hour": -5}),
            "copy_rate_gb_per_hour",
            "from 0.01 to 100000",
        ),
        (
            json!({"kind": "database_switch", "copy_rate_gb_per_hour": "fast"}),
            "copy_rate_gb_per_hour",
            "number",
        ),
        (
            json!({"kind": "add_cache", "copy_rate_gb_per_hour": 50}),
            "copy_rate_gb_per_hour",
            "database_switch, functional_partition, shard, reshard",
        ),
        (
            json!({"kind": "multi_region", "copy_rate_gb_per_hour": 50}),
            "copy_rate_gb_per_hour",
            "no value for kind multi_region",
        ),
        (
            json!({"kind": "database_switch", "copy_rate": 50}),
            "copy_rate",
            "copy_rate_gb_per_hour",
        ),
    ];
    for (args, field, expected) in cases {
        match advisor.call("plan_migration", args.as_object().unwrap()) {
            Ok(out) => panic!("accepted {args}: {}", out.markdown),
            Err(CallError::Arguments(e)) => {
                let message = e.to_string();
                assert_eq!(e.field, field, "{args}: {message}");
                assert!(
                    message.contains(expected),
                    "{args}: {message:?} lacks {expected:?}"
                );
            }
            Err(e) => panic!("not an argument error for {args}: {e}"),
        }
    }
}

#[test]
fn the_report_plans_its_migrations_for_the_data_size_it_is_given() {
    let advisor = advisor();
    let report = |requirements: Value| {
        let args = json!({
            "system": {"db_write_load_pct": 80, "independent_table_groups": true,
                "has_cache": true, "has_read_replicas": true},
            "requirements": requirements,
            "detail": "full",
        });
        advisor
            .call("scaling_report", args.as_object().unwrap())
            .unwrap_or_else(|e| panic!("refused {args}: {e}"))
    };
    let small = report(json!({"needs_acid": true, "data_size_gb": 10}));
    let large = report(json!({"needs_acid": true, "data_size_gb": 500000}));
    let weeks = |out: &tools::ToolOutput| -> u64 {
        out.structured["migrations"][0]["total_weeks"]
            .as_u64()
            .expect("a migration with its weeks")
    };
    assert_eq!(
        small.structured["migrations"][0]["kind"],
        "functional_partition"
    );
    // 500 TB at 78 GB/h: 6,410 hours, 39 weeks of replication instead of one.
    assert_eq!(weeks(&large), weeks(&small) + 38);
    assert!(
        large
            .markdown
            .contains("at most 500,000 GB to copy (the data size of `requirements`) at 78 GB/h"),
        "{}",
        large.markdown
    );
    let unsized_report = report(json!({"needs_acid": true}));
    assert_eq!(weeks(&unsized_report), weeks(&small));
    assert!(!unsized_report.markdown.contains("GB to copy"));
}

// ---------------------------------------------------------------------------------------------
// The tables are data: a team's own copy of `migrations.md` changes the plan, and a malformed
// row stops start-up naming it.

fn with_migrations(name: &str, edit: impl Fn(&str) -> String) -> Result<Advisor, String> {
    let dir = std::env::temp_dir().join(format!(
        "scale-advisor-migration-sizing-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let embedded = knowledge::Knowledge::embedded()
        .unwrap()
        .document("migrations")
        .unwrap()
        .text()
        .to_string();
    std::fs::write(dir.join("migrations.md"), edit(&embedded)).unwrap();
    let loaded = knowledge::Knowledge::with_dir(&dir)
        .and_then(Advisor::new)
        .map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

#[test]
fn a_teams_own_rate_and_pairs_are_rows_and_bad_rows_are_refused() {
    let default_row = "| AWS DMS full load, one task | 78 | yes |";
    // A team that measured 200 GB/h replaces the row, and every plan follows it.
    let measured = with_migrations("rate", |text| {
        text.replace(default_row, "| our rehearsal | 200 | yes |")
    })
    .expect("the edited document loads");
    let p = plan(
        &measured,
        &json!({"kind": "database_switch", "data_size_gb": 800}),
    );
    let copy = p.copy_time.expect("copy_time");
    assert_eq!(copy.copy_rate_gb_per_hour, 200.0);
    assert!(copy.rate_basis.contains("our rehearsal"));
    assert!(close(copy.copy_hours, 4.0));

    for (name, from, to, expected) in [
        (
            "no-default",
            default_row,
            "| AWS DMS full load, one task | 78 |  |",
            "marked `default`",
        ),
        (
            "zero-rate",
            default_row,
            "| AWS DMS full load, one task | 0 | yes |",
            "above 0",
        ),
        (
            "bad-sizing",
            "dual writes already created; record progress and rerun failed batches | every table holds the same number of records in both stores | empty the new store and start the backfill again, the old store is unaffected | 2 | copy every record from the old store to the new one while writes are paused, in batches; rerun failed batches | 1 |  |  |  | copy |",
            "dual writes already created; record progress and rerun failed batches | every table holds the same number of records in both stores | empty the new store and start the backfill again, the old store is unaffected | 2 | copy every record from the old store to the new one while writes are paused, in batches; rerun failed batches | 1 |  |  |  | bytes |",
            "`sized_by` is `copy` or empty",
        ),
        (
            "bad-phase",
            "| MySQL; MariaDB | PostgreSQL; Postgres | cutover | sequences |",
            "| MySQL; MariaDB | PostgreSQL; Postgres | go_live | sequences |",
            "unknown phase `go_live`",
        ),
    ] {
        let refused = with_migrations(name, |text| {
            assert!(
                text.contains(from),
                "{name}: the document no longer holds {from:?}"
            );
            text.replace(from, to)
        });
        match refused {
            Ok(_) => panic!("{name}: the malformed document loaded"),
            Err(message) => assert!(
                message.contains(expected) && message.contains("migrations.md"),
                "{name}: {message}"
            ),
        }
    }
}
