//! The scenario tables of the three decision tools: one row per case, (arguments, expected
//! fields). The in-process tests (`tools/tests/decisions.rs`) and the end-to-end tests
//! (`tests/e2e/decisions.rs`) both read these, so each argument set is written once.

#![allow(dead_code)]

use serde_json::{Value, json};

pub type Names = &'static [&'static str];

/// (arguments, store, category, questions asked, decided_by, complements' needs, traded away)
pub type StoreCase = (
    Value,
    &'static str,
    &'static str,
    usize,
    Names,
    Names,
    Names,
);

#[rustfmt::skip]
pub fn store_cases() -> Vec<StoreCase> {
    vec![
        // Every rule, alone.
        (json!({"needs_acid": true, "multi_region": true}), "CockroachDB", "distributed_sql", 1, &["needs_acid", "multi_region"], &[], &[]),
        (json!({"needs_acid": true}), "PostgreSQL", "relational", 3, &["needs_acid"], &[], &[]),
        (json!({"analytics": true}), "ClickHouse", "columnar", 4, &["analytics"], &[], &[]),
        (json!({"complex_queries": true}), "PostgreSQL", "relational", 5, &["complex_queries"], &[], &[]),
        (json!({"flexible_schema": true}), "MongoDB", "document", 6, &["flexible_schema"], &[], &[]),
        (json!({"write_heavy": true}), "Cassandra", "wide_column", 7, &["write_heavy"], &[], &[]),
        (json!({"time_series": true}), "Cassandra", "wide_column", 7, &["time_series"], &[], &[]),
        (json!({"ultra_low_latency": true}), "Redis", "in_memory", 8, &["ultra_low_latency"], &[], &[]),
        (json!({"full_text_search": true}), "Elasticsearch", "search", 9, &["full_text_search"], &[], &[]),
        (json!({}), "DynamoDB", "key_value", 10, &[], &[], &[]),
        (json!({"read_heavy": true, "serverless": true}), "DynamoDB", "key_value", 10, &[], &[], &[]),
        // Precedence between rules, and what it trades away.
        (json!({"needs_acid": true, "multi_region": true, "complex_queries": true}), "CockroachDB", "distributed_sql", 1, &["needs_acid", "multi_region"], &[], &[]),
        (json!({"multi_region": true}), "DynamoDB", "key_value", 10, &[], &[], &[]),
        (json!({"needs_acid": true, "analytics": true}), "PostgreSQL", "relational", 3, &["needs_acid"], &["analytics"], &[]),
        (json!({"analytics": true, "complex_queries": true, "time_series": true}), "ClickHouse", "columnar", 4, &["analytics"], &[], &[]),
        (json!({"complex_queries": true, "flexible_schema": true}), "PostgreSQL", "relational", 5, &["complex_queries"], &[], &["flexible_schema"]),
        (json!({"complex_queries": true, "multi_region": true, "write_heavy": true}), "PostgreSQL", "relational", 5, &["complex_queries"], &[], &["multi_region", "write_heavy"]),
        (json!({"flexible_schema": true, "write_heavy": true}), "MongoDB", "document", 6, &["flexible_schema"], &[], &["write_heavy"]),
        (json!({"write_heavy": true, "time_series": true, "ultra_low_latency": true}), "Cassandra", "wide_column", 7, &["write_heavy", "time_series"], &["ultra_low_latency"], &[]),
        (json!({"ultra_low_latency": true, "full_text_search": true}), "Redis", "in_memory", 8, &["ultra_low_latency"], &["full_text_search"], &[]),
        (json!({"full_text_search": true, "serverless": true}), "Elasticsearch", "search", 9, &["full_text_search"], &[], &["serverless"]),
        (json!({"needs_acid": true, "multi_region": true, "full_text_search": true, "ultra_low_latency": true, "analytics": true, "flexible_schema": true}),
            "CockroachDB", "distributed_sql", 1, &["needs_acid", "multi_region"], &["full_text_search", "ultra_low_latency", "analytics"], &["flexible_schema"]),
        // Each rule beats the ones after it.
        (json!({"needs_acid": true, "multi_region": true, "analytics": true, "flexible_schema": true}), "CockroachDB", "distributed_sql", 1, &["needs_acid", "multi_region"], &["analytics"], &["flexible_schema"]),
        (json!({"needs_acid": true, "analytics": true, "complex_queries": true}), "PostgreSQL", "relational", 3, &["needs_acid"], &["analytics"], &[]),
        (json!({"analytics": true, "complex_queries": true, "flexible_schema": true}), "ClickHouse", "columnar", 4, &["analytics"], &[], &["flexible_schema"]),
        (json!({"complex_queries": true, "flexible_schema": true, "write_heavy": true}), "PostgreSQL", "relational", 5, &["complex_queries"], &[], &["flexible_schema", "write_heavy"]),
        (json!({"flexible_schema": true, "time_series": true, "ultra_low_latency": true}), "MongoDB", "document", 6, &["flexible_schema"], &["ultra_low_latency"], &["time_series"]),
        (json!({"write_heavy": true, "ultra_low_latency": true, "full_text_search": true}), "Cassandra", "wide_column", 7, &["write_heavy"], &["full_text_search", "ultra_low_latency"], &[]),
        (json!({"ultra_low_latency": true, "full_text_search": true, "serverless": true}), "Redis", "in_memory", 8, &["ultra_low_latency"], &["full_text_search"], &["serverless"]),
        (json!({"full_text_search": true, "read_heavy": true}), "Elasticsearch", "search", 9, &["full_text_search"], &[], &[]),
        (json!({"multi_region": true, "serverless": true, "reads_per_sec": 5000, "writes_per_sec": 50}), "DynamoDB", "key_value", 10, &[], &[], &[]),
        // Volume past one primary (issue 28 point 2): either figure, with ACID, and not below it.
        (json!({"needs_acid": true, "writes_per_sec": 1000000, "data_size_gb": 50000}), "Citus", "distributed_sql", 2, &["needs_acid", "writes_per_sec"], &[], &[]),
        (json!({"needs_acid": true, "writes_per_sec": 70001}), "Citus", "distributed_sql", 2, &["needs_acid", "writes_per_sec"], &[], &[]),
        (json!({"needs_acid": true, "writes_per_sec": 70000}), "PostgreSQL", "relational", 3, &["needs_acid"], &[], &[]),
        (json!({"needs_acid": true, "data_size_gb": 100000}), "Citus", "distributed_sql", 2, &["needs_acid", "data_size_gb"], &[], &[]),
        (json!({"needs_acid": true, "data_size_gb": 65536, "writes_per_sec": 500}), "PostgreSQL", "relational", 3, &["needs_acid"], &[], &[]),
        (json!({"needs_acid": true, "multi_region": true, "writes_per_sec": 1000000}), "CockroachDB", "distributed_sql", 1, &["needs_acid", "multi_region"], &[], &[]),
        (json!({"writes_per_sec": 1000000, "data_size_gb": 50000}), "DynamoDB", "key_value", 10, &[], &[], &[]),
        (json!({"write_heavy": true, "writes_per_sec": 1000000}), "Cassandra", "wide_column", 7, &["write_heavy"], &[], &[]),
    ]
}

/// (arguments, broker, delivery, questions asked, decided_by, traded away)
pub type QueueCase = (Value, &'static str, &'static str, usize, Names, Names);

#[rustfmt::skip]
pub fn queue_cases() -> Vec<QueueCase> {
    vec![
        (json!({"needs_replay": true}), "Kafka", "exactly_once", 1, &["needs_replay"], &[]),
        (json!({"exactly_once": true}), "Kafka", "exactly_once", 1, &["exactly_once"], &[]),
        (json!({"complex_routing": true}), "RabbitMQ", "at_least_once", 2, &["complex_routing"], &[]),
        (json!({"fan_out": true, "cloud": "aws"}), "Amazon SNS to SQS", "at_least_once", 3, &["fan_out", "cloud"], &[]),
        (json!({"serverless": true, "cloud": "aws"}), "AWS SQS", "at_least_once", 4, &["serverless", "cloud"], &[]),
        (json!({"serverless": true, "cloud": "gcp"}), "Google Pub/Sub", "at_least_once", 5, &["serverless", "cloud"], &[]),
        (json!({"fan_out": true, "cloud": "gcp"}), "Google Pub/Sub", "at_least_once", 5, &["fan_out", "cloud"], &[]),
        (json!({"messages_per_sec": 3000000}), "Kafka", "exactly_once", 6, &["messages_per_sec"], &[]),
        (json!({"cannot_lose_messages": true}), "RabbitMQ", "at_least_once", 7, &["cannot_lose_messages"], &[]),
        (json!({}), "Redis", "at_most_once", 8, &[], &[]),
        // Precedence and the needs it trades away.
        (json!({"needs_replay": true, "complex_routing": true}), "Kafka", "exactly_once", 1, &["needs_replay"], &["complex_routing"]),
        (json!({"exactly_once": true, "fan_out": true, "cloud": "gcp"}), "Kafka", "exactly_once", 1, &["exactly_once"], &[]),
        (json!({"complex_routing": true, "serverless": true, "cloud": "aws"}), "RabbitMQ", "at_least_once", 2, &["complex_routing"], &["serverless"]),
        (json!({"serverless": true, "fan_out": true, "cloud": "aws"}), "Amazon SNS to SQS", "at_least_once", 3, &["fan_out", "cloud"], &[]),
        (json!({"serverless": true}), "Redis", "at_most_once", 8, &[], &["serverless"]),
        (json!({"serverless": true, "cloud": "azure"}), "Redis", "at_most_once", 8, &[], &["serverless"]),
        (json!({"cannot_lose_messages": true, "complex_routing": true}), "RabbitMQ", "at_least_once", 2, &["complex_routing"], &[]),
        (json!({"exactly_once": true, "complex_routing": true, "serverless": true, "cloud": "aws"}), "Kafka", "exactly_once", 1, &["exactly_once"], &["complex_routing", "serverless"]),
        (json!({"complex_routing": true, "serverless": true, "cloud": "gcp"}), "RabbitMQ", "at_least_once", 2, &["complex_routing"], &["serverless"]),
        (json!({"serverless": true, "cloud": "none", "messages_per_sec": 200}), "Redis", "at_most_once", 8, &[], &["serverless"]),
        // Hard needs decide on every cloud (issue 28 point 1), and volume past one Redis node.
        (json!({"cannot_lose_messages": true, "cloud": "aws"}), "AWS SQS", "at_least_once", 4, &["cannot_lose_messages", "cloud"], &[]),
        (json!({"cannot_lose_messages": true, "cloud": "gcp"}), "Google Pub/Sub", "at_least_once", 5, &["cannot_lose_messages", "cloud"], &[]),
        (json!({"cannot_lose_messages": true, "cloud": "azure"}), "RabbitMQ", "at_least_once", 7, &["cannot_lose_messages"], &[]),
        (json!({"cannot_lose_messages": true, "fan_out": true, "cloud": "aws"}), "Amazon SNS to SQS", "at_least_once", 3, &["fan_out", "cloud"], &[]),
        (json!({"cannot_lose_messages": true, "fan_out": true}), "RabbitMQ", "at_least_once", 7, &["cannot_lose_messages"], &[]),
        (json!({"cannot_lose_messages": true, "messages_per_sec": 3000000}), "Kafka", "exactly_once", 6, &["messages_per_sec"], &[]),
        (json!({"messages_per_sec": 100000}), "Redis", "at_most_once", 8, &[], &[]),
        (json!({"messages_per_sec": 3000000, "serverless": true, "cloud": "aws"}), "AWS SQS", "at_least_once", 4, &["serverless", "cloud"], &[]),
    ]
}

/// (arguments, model, cap, pacelc, questions asked, decided_by, traded away)
pub type ModelCase = (
    Value,
    &'static str,
    &'static str,
    &'static str,
    usize,
    Names,
    Names,
);

#[rustfmt::skip]
pub fn model_cases() -> Vec<ModelCase> {
    vec![
        (json!({"strong_consistency_required": true}), "linearizable", "CP", "PC/EC", 1, &["strong_consistency_required"], &[]),
        (json!({"needs_causal_ordering": true}), "causal", "AP", "PA/EL", 2, &["needs_causal_ordering"], &[]),
        (json!({"read_your_writes_critical": true}), "read_your_writes", "AP", "PA/EL", 3, &["read_your_writes_critical"], &[]),
        (json!({"availability_during_partition": true}), "eventual", "AP", "PA/EL", 4, &["availability_during_partition"], &[]),
        (json!({}), "eventual", "AP", "PA/EL", 5, &[], &[]),
        // Precedence.
        (json!({"strong_consistency_required": true, "needs_causal_ordering": true, "read_your_writes_critical": true}), "linearizable", "CP", "PC/EC", 1, &["strong_consistency_required"], &[]),
        (json!({"strong_consistency_required": true, "availability_during_partition": true}), "linearizable", "CP", "PC/EC", 1, &["strong_consistency_required"], &["availability_during_partition"]),
        (json!({"needs_causal_ordering": true, "read_your_writes_critical": true}), "causal", "AP", "PA/EL", 2, &["needs_causal_ordering"], &[]),
        (json!({"read_your_writes_critical": true, "availability_during_partition": true}), "read_your_writes", "AP", "PA/EL", 3, &["read_your_writes_critical"], &[]),
        (json!({"app_resolves_conflicts": true, "users_mostly_own_data": true, "tolerates_coordination_latency": true}), "eventual", "AP", "PA/EL", 5, &[], &[]),
        (json!({"strong_consistency_required": true, "needs_causal_ordering": true, "read_your_writes_critical": true, "availability_during_partition": true}), "linearizable", "CP", "PC/EC", 1, &["strong_consistency_required"], &["availability_during_partition"]),
        (json!({"needs_causal_ordering": true, "read_your_writes_critical": true, "availability_during_partition": true}), "causal", "AP", "PA/EL", 2, &["needs_causal_ordering"], &[]),
        (json!({"app_resolves_conflicts": true, "multi_region": true}), "eventual", "AP", "PA/EL", 5, &[], &[]),
    ]
}
