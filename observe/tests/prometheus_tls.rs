//! The Prometheus reader over HTTPS against a real Prometheus serving TLS with a certificate of
//! a test CA: refused while the CA is unknown, read once the operator's `SSL_CERT_FILE` names
//! it. Alone in its binary, since it sets an environment variable.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use observe::prometheus::read_at;
use observe::{Limits, ObserveRequest, Status};
use support::reads::{assert_connection, config, queries};
use support::{Prometheus, Scratch, now_aligned};

fn openssl(scratch: &Scratch, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(&scratch.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (Debian's openssl package) is needed to make the test certificates");
    assert!(status.success(), "openssl {args:?}");
}

/// `openssl req` with a new P-256 key: a self-signed certificate (`x509`, the CA) or a signing
/// request, written to the `(key, out)` files, with the `rest` of the arguments.
fn openssl_new_key(scratch: &Scratch, x509: bool, (key, out): (&str, &str), rest: &[&str]) {
    let mut args = vec!["req"];
    if x509 {
        args.push("-x509");
    }
    args.extend_from_slice(&[
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        out,
    ]);
    args.extend_from_slice(rest);
    openssl(scratch, &args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_read_once_its_ca_is_trusted() {
    let scratch = Scratch::new("tls");
    // A test CA and a server certificate for 127.0.0.1 signed by it.
    openssl_new_key(
        &scratch,
        true,
        ("ca.key", "ca.pem"),
        &["-days", "2", "-subj", "/CN=scale-advisor test CA"],
    );
    openssl_new_key(
        &scratch,
        false,
        ("server.key", "server.csr"),
        &["-subj", "/CN=localhost"],
    );
    std::fs::write(
        scratch.path("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &scratch,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    let prometheus =
        Prometheus::start_tls(&scratch.path("server.pem"), &scratch.path("server.key"));

    let queries = queries();
    let config = config(&format!("https://127.0.0.1:{}", prometheus.port), None);
    let request = ObserveRequest {
        selector: Default::default(),
        window_days: 7,
    };
    let limits = Limits {
        total_timeout: Duration::from_secs(3),
        ..Limits::default()
    };

    // An unknown CA: the handshake is refused, and said so.
    let report = read_at(&config, &queries, &request, limits, now_aligned(1.0)).await;
    assert_connection(&report.connection, Status::Error, "TLS handshake failed");

    // The operator's CA, as OpenSSL-based tools take it: every query answered (no data here).
    // SAFETY: this test is alone in its binary; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("SSL_CERT_FILE", scratch.path("ca.pem")) };
    let report = read_at(&config, &queries, &request, limits, now_aligned(1.0)).await;
    assert_connection(&report.connection, Status::Ok, "no data for");
}
