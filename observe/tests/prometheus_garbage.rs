//! The Prometheus reader against 200 MB of garbage: refused within the deadline, and the peak
//! memory of this process (alone in its test binary, so that nothing else moves it) stays
//! bounded whatever the source sends.

mod support;

use std::time::Instant;

use observe::Status;
use support::fake::fake;
use support::now_aligned;
use support::reads::{assert_connection, fault_limits, read};
use tokio::io::AsyncWriteExt;

fn peak_memory_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_garbage_answer_is_refused_without_being_read() {
    const GARBAGE: usize = 200 * 1024 * 1024;
    // Announced: refused on its Content-Length, before a byte of the body is read.
    let (announced, _) = fake(|mut stream, _| async move {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {GARBAGE}\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..GARBAGE / chunk.len() {
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    // Unannounced (chunked): read until the byte budget of the source is spent, then dropped.
    let (streamed, _) = fake(|mut stream, _| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        let chunk = vec![b'{'; 64 * 1024];
        let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
        for _ in 0..GARBAGE / (64 * 1024) {
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
    })
    .await;
    let before = peak_memory_kb();
    for (port, expected) in [
        (announced, "of 209715200 bytes"),
        (streamed, "refused an answer"),
    ] {
        let started = Instant::now();
        let report = read(
            &format!("http://127.0.0.1:{port}"),
            None,
            &[],
            now_aligned(300.0),
        )
        .await;
        assert!(
            started.elapsed() < fault_limits().total_timeout,
            "{:?}",
            started.elapsed()
        );
        assert_connection(&report.connection, Status::Error, expected);
        assert!(report.connection.detail.contains("cap of 1048576 bytes"));
    }
    let grown_mb = (peak_memory_kb().saturating_sub(before)) / 1024;
    eprintln!("peak memory grew by {grown_mb} MB reading 2 × 200 MB answers");
    assert!(grown_mb < 32, "peak memory grew by {grown_mb} MB");
}
