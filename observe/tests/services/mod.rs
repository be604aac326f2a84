//! Real servers for the readers' tests: PostgreSQL 15 and Redis 7 (Debian's `postgresql` and
//! `redis-server`), each started on a free loopback port in a folder of its own, and stopped by
//! its pid when its guard drops, on failure too. Also the two listeners a fault test needs: one
//! that accepts and never answers, and a port nothing listens on.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use observe::{Limits, Reading, SourceReport, SourceUrl};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A folder of this test's own under the temporary directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "scale-advisor-{name}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A report's readings by their name, for the checks of one figure at a time.
pub fn by_name(report: &SourceReport) -> BTreeMap<String, Reading> {
    report
        .readings
        .iter()
        .map(|r| (r.name.clone(), r.clone()))
        .collect()
}

pub fn limits(total_ms: u64) -> Limits {
    Limits {
        connect_timeout: Duration::from_millis(total_ms),
        total_timeout: Duration::from_millis(total_ms),
        ..Limits::default()
    }
}

pub fn postgres_url(text: &str) -> SourceUrl {
    SourceUrl::parse(
        "--postgres",
        text,
        &["postgres", "postgresql"],
        "postgres://user:password@host:5432/db",
    )
    .expect("a PostgreSQL URL")
}

pub fn redis_url(text: &str) -> SourceUrl {
    SourceUrl::parse(
        "--redis",
        text,
        &["redis", "rediss"],
        "redis://user:password@host:6379",
    )
    .expect("a Redis URL")
}

fn am_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Where `initdb`, `pg_ctl` and `pgbench` are: `pg_config --bindir`.
fn bindir() -> PathBuf {
    Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/lib/postgresql/15/bin".to_string())
        .into()
}

/// `initdb` refuses to run as root: as root, PostgreSQL's programs run as the `postgres` user.
fn postgres_command(program: &str) -> Command {
    let path = bindir().join(program);
    if am_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

fn run(mut command: Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A self-signed certificate for `localhost` and its key (`openssl`, which Debian's
/// `postgresql-common` brings through `ssl-cert`).
pub fn self_signed(certificate: &std::path::Path, key: &std::path::Path) {
    let mut openssl = Command::new("openssl");
    openssl
        .args([
            "req",
            "-new",
            "-x509",
            "-days",
            "1",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
        ])
        .arg(key)
        .arg("-out")
        .arg(certificate);
    run(openssl, "openssl req (a self-signed certificate)");
}

/// A PostgreSQL 15 cluster with `pg_stat_statements` loaded, listening on 127.0.0.1 only, whose
/// superuser `postgres` has the password [`Postgres::SUPERUSER_PASSWORD`] over TCP.
pub struct Postgres {
    pub port: u16,
    pub started_in: Duration,
    data: PathBuf,
    pid: Option<u32>,
    // Last: the folder goes after the server has stopped.
    scratch: Scratch,
}

impl Postgres {
    pub const SUPERUSER_PASSWORD: &'static str = "superuser-secret-4d1";

    pub fn start() -> Postgres {
        let scratch = Scratch::new("pg");
        let data = scratch.0.join("data");
        let pwfile = scratch.0.join("pwfile");
        std::fs::write(&pwfile, Self::SUPERUSER_PASSWORD).expect("the password file");
        if am_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&scratch.0);
                    c
                },
                "chown",
            );
        }
        let mut initdb = postgres_command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-N", "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(initdb, "initdb");

        // A self-signed certificate, so that a client can ask for TLS (`sslmode=require`).
        self_signed(&data.join("server.crt"), &data.join("server.key"));
        if am_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"])
                        .arg(data.join("server.key"))
                        .arg(data.join("server.crt"));
                    c
                },
                "chown",
            );
        }
        let port = free_port();
        let settings = format!(
            "\nssl = on\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n\
             fsync = off\nmax_connections = 20\n",
            scratch.0.display()
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&settings);
        std::fs::write(&conf, text).expect("postgresql.conf");
        Postgres::launch(scratch, data, port)
    }

    /// Starts the cluster in `data` on `port` with `pg_ctl -w`, which returns once it accepts
    /// connections.
    fn launch(scratch: Scratch, data: PathBuf, port: u16) -> Postgres {
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&format!("\nport = {port}\n"));
        std::fs::write(&conf, text).expect("postgresql.conf");
        let started = Instant::now();
        let mut pg_ctl = postgres_command("pg_ctl");
        pg_ctl
            .args(["-w", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(scratch.0.join("log"))
            .arg("start");
        let mut server = Postgres {
            port,
            started_in: Duration::ZERO,
            data: data.clone(),
            pid: None,
            scratch,
        };
        run(pg_ctl, "pg_ctl start");
        server.started_in = started.elapsed();
        server.pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
        assert!(server.pid.is_some(), "postmaster.pid names the server");
        server
    }

    /// A streaming standby of this server (`pg_basebackup -R`), on a port of its own.
    pub fn start_standby(&self) -> Postgres {
        let scratch = Scratch::new("pg-standby");
        if am_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&scratch.0);
                    c
                },
                "chown",
            );
        }
        let data = scratch.0.join("data");
        let mut backup = postgres_command("pg_basebackup");
        backup
            .args(["-h", "127.0.0.1", "-U", "postgres", "-R", "-X", "stream"])
            .args(["--checkpoint=fast", "-p"])
            .arg(self.port.to_string())
            .arg("-D")
            .arg(&data)
            .env("PGPASSWORD", Self::SUPERUSER_PASSWORD);
        run(backup, "pg_basebackup");
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&format!(
            "\nunix_socket_directories = '{}'\n",
            scratch.0.display()
        ));
        std::fs::write(&conf, text).expect("postgresql.conf");
        Postgres::launch(scratch, data, free_port())
    }

    pub fn superuser_url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            Self::SUPERUSER_PASSWORD,
            self.port
        )
    }

    /// `pgbench` against the server, as the superuser, with `args`.
    pub fn pgbench(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bindir().join("pgbench"));
        command
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .args(args)
            .arg("postgres")
            .env("PGPASSWORD", Self::SUPERUSER_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Stops the server at once (SIGQUIT to the postmaster: immediate shutdown), as a server
    /// that goes away would.
    pub fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
            // The postmaster waits for its children; a standby's may take seconds. Past one
            // second it is killed outright, and its children exit when they see it gone.
            let until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < until && alive(pid) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
        let _ = &self.data;
    }
}

/// The `metric` column of a table of `knowledge://observation`: the names a reader documents.
pub fn documented(anchor: &str) -> std::collections::BTreeSet<String> {
    let knowledge = knowledge::Knowledge::embedded().expect("the embedded knowledge base");
    let table = knowledge
        .table("observation", anchor)
        .expect("the observation table");
    let names: std::collections::BTreeSet<String> = table
        .rows()
        .map(|row| row.text("metric").expect("a metric cell").to_string())
        .collect();
    assert!(
        names.len() >= 5,
        "observation#{anchor} has {} rows",
        names.len()
    );
    names
}

/// Whether a process is still running: a zombie (state `Z`, left for a parent that may never
/// reap it, as the postmaster `pg_ctl` detached is) has stopped.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// A child process killed by its pid when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Redis 7 server with no persistence, on a free loopback port.
pub struct Redis {
    pub port: u16,
    process: Option<Process>,
    scratch: Scratch,
    certificates: Option<Scratch>,
}

impl Redis {
    /// `extra` are more `redis-server` options (`--maxmemory 64mb`, `--replicaof …`).
    pub fn start(extra: &[&str]) -> Redis {
        let scratch = Scratch::new("redis");
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&scratch.0)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian package redis-server)");
        let server = Redis {
            port,
            process: Some(Process(child)),
            scratch,
            certificates: None,
        };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut admin) = server.admin()
                && admin.call(&["PING"]).starts_with("+PONG")
            {
                break;
            }
            assert!(Instant::now() < until, "redis-server did not answer PING");
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A Redis that also listens for TLS, with a self-signed certificate, on the port it
    /// returns (the plain port stays open for the test's own commands).
    pub fn start_tls() -> (Redis, u16) {
        let certificates = Scratch::new("redis-tls");
        let (certificate, key) = (
            certificates.0.join("cert.pem"),
            certificates.0.join("key.pem"),
        );
        self_signed(&certificate, &key);
        let tls_port = free_port();
        let mut server = Redis::start(&[
            "--tls-port",
            &tls_port.to_string(),
            "--tls-cert-file",
            &certificate.display().to_string(),
            "--tls-key-file",
            &key.display().to_string(),
            "--tls-auth-clients",
            "no",
        ]);
        server.certificates = Some(certificates);
        (server, tls_port)
    }

    /// A plain connection for the test's own commands (load, ACLs, what the server reports).
    pub fn admin(&self) -> std::io::Result<RespConnection> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(RespConnection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Stops the server at once, as a server that goes away would.
    pub fn kill(&mut self) {
        self.process.take();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = (&self.scratch, &self.certificates);
    }
}

/// The test's side of Redis: commands as RESP arrays, replies as their raw text.
pub struct RespConnection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RespConnection {
    pub fn send(&mut self, words: &[&str]) {
        let mut request = format!("*{}\r\n", words.len());
        for word in words {
            request.push_str(&format!("${}\r\n{word}\r\n", word.len()));
        }
        self.writer.write_all(request.as_bytes()).expect("send");
    }

    /// Reads one reply: a status or error line, an integer, or a bulk string's body.
    pub fn reply(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a reply");
        if let Some(length) = line.strip_prefix('$') {
            let length: i64 = length.trim().parse().expect("a bulk length");
            if length < 0 {
                return String::new();
            }
            let mut body = vec![0; length as usize + 2];
            self.reader.read_exact(&mut body).expect("a bulk body");
            body.truncate(length as usize);
            return String::from_utf8_lossy(&body).into_owned();
        }
        line
    }

    pub fn call(&mut self, words: &[&str]) -> String {
        self.send(words);
        self.reply()
    }

    /// Creates (or resets) the ACL user `name` with `password` and the command `rules`
    /// (`["-@all", "+info"]`: the role an operator gives the advisor).
    pub fn set_user(&mut self, name: &str, password: &str, rules: &[&str]) {
        let password = format!(">{password}");
        let mut words = vec!["ACL", "SETUSER", name, "on", &password];
        words.extend_from_slice(rules);
        let reply = self.call(&words);
        assert!(reply.starts_with("+OK"), "ACL SETUSER {name}: {reply}");
    }

    /// One field of `INFO`, as the server reports it.
    pub fn info_field(&mut self, field: &str) -> f64 {
        let info = self.call(&["INFO"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("INFO has no number {field}"))
    }
}

/// A listener that accepts connections (the kernel does) and never says a word.
pub struct SilentListener {
    pub port: u16,
    _listener: TcpListener,
}

impl SilentListener {
    pub fn new() -> SilentListener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
        SilentListener {
            port: listener.local_addr().expect("its address").port(),
            _listener: listener,
        }
    }
}
