//! Reads Redis's `INFO` into the advisor's vocabulary (contract §7–§8): the keyspace hit rate,
//! memory against `maxmemory`, evictions, clients against `maxclients`, the replicas' offsets
//! and the server's own CPU.
//!
//! The client is the few lines of RESP2 this needs, not a general Redis library: the only
//! commands it can send are `AUTH` (when the URL carries credentials) and `INFO`, so no tool
//! argument can ever become a Redis command, and it reads a bulk reply's announced length
//! before its body, so an answer past [`Limits::max_bytes`] is refused without being read.
//! `INFO` is sent twice, a third of the total timeout (at most two seconds) apart: counters
//! are rates between the two samples (the mapping, with the documentation each row relies on,
//! is the table `knowledge://observation#redis-info`).
//!
//! What `INFO` cannot give (so `observe_system` lists it in `missing_inputs` rather than
//! estimate it; [`cannot_give`] reads it from
//! `knowledge://observation#what-redis-cannot-give`): the request latency seen by clients
//! (`p95_latency_ms`: the application's request histogram), and `cache_memory_pct` when no
//! `maxmemory` is set (the node's memory, from node_exporter). A `rediss://` URL is read over
//! TLS (rustls), its certificate checked against the public roots and the host's name, or only
//! encrypted when the URL ends in `#insecure`, as the redis crate reads that URL.

use std::collections::BTreeMap;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub use crate::sampling::Unobservable;
use crate::sampling::{self, Fault, increase, reading, seconds};
use crate::{Limits, Reading, SourceKind, SourceReport, SourceUrl};

const SOURCE: SourceKind = SourceKind::Redis;

/// The port Redis listens on when the URL names none.
const DEFAULT_PORT: u16 = 6379;

/// The longest line a RESP header (`+OK`, `-ERR …`, `$4922`) may take before the answer is
/// taken for garbage: an error message is a sentence, not a page.
const MAX_HEADER_BYTES: u64 = 4096;

/// What Redis cannot give, and where to get it: the table
/// `knowledge://observation#what-redis-cannot-give`, for `observe_system`'s `missing_inputs`.
pub fn cannot_give(
    knowledge: &knowledge::Knowledge,
) -> Result<Vec<Unobservable>, knowledge::KnowledgeError> {
    sampling::unobservable(knowledge, "what-redis-cannot-give")
}

/// Reads the source at `url` within `limits`; a failure is a connection status, never a panic.
pub async fn read(url: &SourceUrl, limits: Limits) -> SourceReport {
    let deadline = tokio::time::Instant::now() + limits.total_timeout;
    let reading = read_info(url, limits);
    sampling::report_by(
        SOURCE,
        url,
        deadline,
        limits,
        "no complete answer to INFO",
        reading,
    )
    .await
}

/// Connects, authenticates when the URL says how, and reads `INFO` twice.
async fn read_info(url: &SourceUrl, limits: Limits) -> Result<(String, Vec<Reading>), Fault> {
    let address = url.expose();
    let host = address.host_str().unwrap_or_default().to_string();
    // `[::1]` is how a URL writes an IPv6 host; a socket address wants it bare.
    let bare_host = host.trim_matches(['[', ']']).to_string();
    let port = address.port().unwrap_or(DEFAULT_PORT);
    let tcp = match tokio::time::timeout(
        limits.connect_timeout,
        TcpStream::connect((bare_host.as_str(), port)),
    )
    .await
    {
        Err(_) => {
            return Err(Fault::TimedOut(format!(
                "no connection to {host}:{port} within the connect timeout of {} ms",
                limits.connect_timeout.as_millis()
            )));
        }
        Ok(Err(e)) => return Err(Fault::Unreachable(format!("{host}:{port}: {e}"))),
        Ok(Ok(stream)) => stream,
    };
    let stream: Box<dyn Stream> = if address.scheme() == "rediss" {
        // The certificate is checked against the public roots and the host's name, unless the
        // URL ends in `#insecure` (the redis crate's convention): then encrypted only.
        let insecure = address.fragment() == Some("insecure");
        let config = if insecure {
            crate::tls::encrypt_only()
        } else {
            crate::tls::verified()
        }
        .map_err(|e| Fault::Error(format!("TLS could not be set up: {e}")))?;
        let name = rustls::pki_types::ServerName::try_from(bare_host.clone()).map_err(|_| {
            Fault::Error(format!("{host} is not a name a TLS certificate can hold"))
        })?;
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        match tokio::time::timeout(limits.connect_timeout, connector.connect(name, tcp)).await {
            Err(_) => {
                return Err(Fault::TimedOut(format!(
                    "no TLS handshake with {host}:{port} within the connect timeout of {} ms",
                    limits.connect_timeout.as_millis()
                )));
            }
            Ok(Err(e)) => {
                return Err(Fault::Error(format!(
                    "the TLS handshake with {host}:{port} failed: {e}{}",
                    if insecure {
                        ""
                    } else {
                        " (a private or self-signed certificate needs #insecure at the end of \
                         the URL)"
                    }
                )));
            }
            Ok(Ok(stream)) => Box::new(stream),
        }
    } else {
        Box::new(tcp)
    };
    let mut wire = Wire {
        stream: BufReader::new(stream),
        max_bytes: limits.max_bytes,
    };

    // A user named without a password still logs in as that user (an ACL user may be
    // `nopass`), so that it is never silently the `default` user that reads.
    let user = decoded(address.username());
    let password = address.password().map(decoded);
    if password.is_some() || !user.is_empty() {
        let password = password.unwrap_or_default();
        let answer = if user.is_empty() {
            wire.command(&["AUTH", &password]).await?
        } else {
            wire.command(&["AUTH", &user, &password]).await?
        };
        if let Reply::Error(message) = answer {
            return Err(answered_with("AUTH", message, true));
        }
    }

    let first = wire.info().await?;
    let started = Instant::now();
    tokio::time::sleep(sampling::sample_interval(limits)).await;
    let second = wire.info().await?;
    let elapsed = started.elapsed().as_secs_f64();

    let window = Window::between(&first, &second, elapsed);
    let readings = readings(&first, &second, &window);
    let version = second.text("redis_version").unwrap_or("unknown");
    let role = second.text("role").unwrap_or("unknown");
    let mut detail = format!(
        "read INFO twice, {} apart (Redis {version}, {role}); counters are rates between the \
         two samples",
        seconds(window.seconds)
    );
    if second.number("maxmemory").is_none_or(|m| m <= 0.0) {
        detail.push_str(
            "; no maxmemory is set, so memory has no limit to be measured against \
             (cache_memory_pct is not read)",
        );
    }
    Ok((detail, readings))
}

/// The time between two samples, by the server's clock when it gives one.
struct Window {
    seconds: f64,
    at: String,
}

impl Window {
    fn between(first: &Info, second: &Info, local_elapsed: f64) -> Window {
        let server = |info: &Info| info.number("server_time_usec").map(|us| us / 1e6);
        let (seconds, at_epoch) = match (server(first), server(second)) {
            (Some(a), Some(b)) if b > a => (b - a, b),
            _ => (local_elapsed, sampling::local_epoch_seconds()),
        };
        Window {
            seconds,
            at: sampling::rfc3339_utc(at_epoch),
        }
    }
}

/// The figures of two `INFO` samples, each with the field it came from and how.
fn readings(first: &Info, second: &Info, window: &Window) -> Vec<Reading> {
    let at = window.at.as_str();
    let span = seconds(window.seconds);
    let mut out = Vec::new();

    // Keyspace hit rate: a ratio, so its since-reset value is still meaningful when no key
    // was looked up between the samples.
    if let (Some(hits), Some(misses)) = (
        second.number("keyspace_hits"),
        second.number("keyspace_misses"),
    ) {
        let between = first
            .number("keyspace_hits")
            .zip(first.number("keyspace_misses"))
            .and_then(|(h0, m0)| Some((increase(h0, hits)?, increase(m0, misses)?)));
        match between {
            Some((h, m)) if h + m > 0.0 => out.push(reading(
                SOURCE,
                "cache_hit_rate_pct",
                100.0 * h / (h + m),
                "pct",
                format!(
                    "INFO stats: keyspace_hits / (keyspace_hits + keyspace_misses), rate \
                     between two samples {span} apart ({h} hits, {m} misses)"
                ),
                at,
            )),
            _ if hits + misses > 0.0 => out.push(reading(
                SOURCE,
                "cache_hit_rate_pct",
                100.0 * hits / (hits + misses),
                "pct",
                format!(
                    "INFO stats: keyspace_hits / (keyspace_hits + keyspace_misses) since the \
                     last restart or CONFIG RESETSTAT (uptime {} s): no key was looked up \
                     between two samples {span} apart",
                    second.number("uptime_in_seconds").unwrap_or(0.0)
                ),
                at,
            )),
            _ => {}
        }
    }

    if let (Some(used), Some(max)) = (second.number("used_memory"), second.number("maxmemory")) {
        if max > 0.0 {
            out.push(reading(
                SOURCE,
                "cache_memory_pct",
                100.0 * used / max,
                "pct",
                "INFO memory: used_memory / maxmemory, at the second sample".to_string(),
                at,
            ));
        }
        out.push(reading(
            SOURCE,
            "cache_memory_gb",
            used / GIB,
            "gb",
            "INFO memory: used_memory (2^30 bytes to the GB), at the second sample".to_string(),
            at,
        ));
    }

    if let Some(evicted) = rate(first, second, "evicted_keys", window.seconds) {
        out.push(reading(
            SOURCE,
            "cache_evictions_per_sec",
            evicted,
            "per_sec",
            format!("INFO stats: evicted_keys, rate between two samples {span} apart"),
            at,
        ));
    }

    // The second INFO counts the first (a command is counted once it has run), so one
    // command of the window is the reader's own.
    if let (Some(c0), Some(c1)) = (
        first.number("total_commands_processed"),
        second.number("total_commands_processed"),
    ) && let Some(commands) = increase(c0, c1)
        && window.seconds > 0.0
    {
        out.push(reading(
            SOURCE,
            "cache_ops_per_sec",
            (commands - 1.0).max(0.0) / window.seconds,
            "per_sec",
            format!(
                "INFO stats: total_commands_processed, rate between two samples {span} apart, \
                 less the reader's own INFO"
            ),
            at,
        ));
    }

    // The CPU Redis's main process used, in percent of one core: the event loop runs commands
    // on one thread, so 100 is its ceiling whatever the machine.
    let cpu = |info: &Info| Some(info.number("used_cpu_sys")? + info.number("used_cpu_user")?);
    if let (Some(c0), Some(c1)) = (cpu(first), cpu(second))
        && let Some(busy) = increase(c0, c1)
        && window.seconds > 0.0
    {
        out.push(reading(
            SOURCE,
            "cache_cpu_pct",
            100.0 * busy / window.seconds,
            "pct",
            format!(
                "INFO cpu: used_cpu_sys + used_cpu_user, seconds of CPU per second between two \
                 samples {span} apart, in percent of one core"
            ),
            at,
        ));
    }

    // The reader's own connection is one of connected_clients.
    if let (Some(clients), Some(max)) = (
        second.number("connected_clients"),
        second.number("maxclients"),
    ) && max > 0.0
    {
        out.push(reading(
            SOURCE,
            "cache_connections_pct",
            100.0 * (clients - 1.0).max(0.0) / max,
            "pct",
            "INFO clients: (connected_clients − the reader's own) / maxclients, at the second \
             sample"
                .to_string(),
            at,
        ));
    }

    // Replication: how far the furthest replica is behind the primary, in bytes of the
    // replication stream (the `lag` field of a replica line is seconds since its last
    // acknowledgement, not a delay, so it is not used).
    if let Some(primary_offset) = second.number("master_repl_offset") {
        let behind = second
            .replicas()
            .filter_map(|offset| (primary_offset - offset).max(0.0).into())
            .fold(None, |worst: Option<f64>, b| {
                Some(worst.map_or(b, |w| w.max(b)))
            });
        if let Some(bytes) = behind {
            out.push(reading(
                SOURCE,
                "cache_replication_lag_bytes",
                bytes,
                "bytes",
                "INFO replication: master_repl_offset − the lowest offset of a slaveN line, at \
                 the second sample"
                    .to_string(),
                at,
            ));
        }
    }
    out
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A counter's rate between two samples, `None` when it is absent or went down.
fn rate(first: &Info, second: &Info, field: &str, seconds: f64) -> Option<f64> {
    let grew = increase(first.number(field)?, second.number(field)?)?;
    (seconds > 0.0).then(|| grew / seconds)
}

/// One `INFO` answer: its `field:value` lines.
struct Info {
    fields: BTreeMap<String, String>,
}

impl Info {
    fn parse(text: &str) -> Info {
        let fields = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Info { fields }
    }

    fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    fn number(&self, field: &str) -> Option<f64> {
        self.text(field)?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }

    /// The offsets of the replicas a primary lists (`slave0:ip=…,port=…,state=online,offset=…`).
    fn replicas(&self) -> impl Iterator<Item = f64> + '_ {
        self.fields
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix("slave")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .filter_map(|(_, v)| {
                v.split(',')
                    .find_map(|pair| pair.strip_prefix("offset="))
                    .and_then(|o| o.parse::<f64>().ok())
            })
    }
}

/// A RESP2 reply, as far as `AUTH` and `INFO` can answer.
enum Reply {
    Status,
    Error(String),
    Bulk(Vec<u8>),
}

/// A connection in clear or in TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The connection: a buffered stream and the most bytes one answer may take.
struct Wire {
    stream: BufReader<Box<dyn Stream>>,
    max_bytes: usize,
}

impl Wire {
    /// `INFO`, parsed; a refusal (`NOAUTH`, `NOPERM`) is the source refusing.
    async fn info(&mut self) -> Result<Info, Fault> {
        match self.command(&["INFO"]).await? {
            Reply::Bulk(body) => Ok(Info::parse(&String::from_utf8_lossy(&body))),
            Reply::Error(message) => Err(answered_with("INFO", message, false)),
            Reply::Status => Err(Fault::Error(
                "INFO answered with a status line, not the text of its sections".to_string(),
            )),
        }
    }

    /// Sends one command as a RESP array of bulk strings and reads one reply.
    async fn command(&mut self, words: &[&str]) -> Result<Reply, Fault> {
        let mut request = format!("*{}\r\n", words.len()).into_bytes();
        for word in words {
            request.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
            request.extend_from_slice(word.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        self.stream
            .get_mut()
            .write_all(&request)
            .await
            .map_err(|e| lost(words[0], &e))?;
        self.reply(words[0]).await
    }

    async fn reply(&mut self, command: &str) -> Result<Reply, Fault> {
        let mut header = Vec::new();
        let read = (&mut self.stream)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut header)
            .await
            .map_err(|e| lost(command, &e))?;
        if read == 0 {
            return Err(Fault::Error(format!(
                "the server closed the connection before answering {command}"
            )));
        }
        if !header.ends_with(b"\r\n") {
            return Err(Fault::Error(format!(
                "the answer to {command} is not RESP (no line end within {MAX_HEADER_BYTES} bytes)"
            )));
        }
        let line = String::from_utf8_lossy(&header[1..header.len() - 2]).into_owned();
        match header[0] {
            b'+' => Ok(Reply::Status),
            b'-' => Ok(Reply::Error(line)),
            b'$' => {
                let length: i64 = line.parse().map_err(|_| {
                    Fault::Error(format!(
                        "the answer to {command} announced a length of `{line}`"
                    ))
                })?;
                let length = usize::try_from(length).map_err(|_| {
                    Fault::Error(format!(
                        "{command} answered with no value (a null bulk reply)"
                    ))
                })?;
                if length > self.max_bytes {
                    return Err(Fault::Error(format!(
                        "the answer to {command} announced {length} bytes, more than the cap of \
                         {} bytes; it was refused unread",
                        self.max_bytes
                    )));
                }
                let mut body = vec![0; length + 2];
                self.stream
                    .read_exact(&mut body)
                    .await
                    .map_err(|e| lost(command, &e))?;
                body.truncate(length);
                Ok(Reply::Bulk(body))
            }
            other => Err(Fault::Error(format!(
                "the answer to {command} is not RESP2 (it starts with byte {other:#04x})"
            ))),
        }
    }
}

/// An error reply: a refusal (`refused`) when it is about who is asking (a wrong password, an
/// ACL that denies the command, authentication required; any error to `AUTH` but a busy
/// server's), else the server's trouble (`error`: still loading its data, busy with a script).
fn answered_with(command: &str, message: String, authenticating: bool) -> Fault {
    let code = message.split_whitespace().next().unwrap_or_default();
    let busy = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"].contains(&code);
    let refusal = ["NOAUTH", "WRONGPASS", "NOPERM"].contains(&code);
    if refusal || (authenticating && !busy) {
        Fault::Refused(format!("{command} was refused: {message}"))
    } else {
        Fault::Error(format!("{command} failed: {message}"))
    }
}

/// The connection failed after it was made: the server went away mid-read.
fn lost(command: &str, error: &std::io::Error) -> Fault {
    Fault::Error(format!(
        "the connection was lost while reading the answer to {command}: {error}"
    ))
}

/// A URL's user or password, percent-decoded as the URL carries it.
fn decoded(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(text: &str) -> Info {
        Info::parse(text)
    }

    #[test]
    fn counters_are_rates_between_the_samples() {
        let first = info(
            "# Stats\r\nkeyspace_hits:100\r\nkeyspace_misses:100\r\nevicted_keys:10\r\n\
             total_commands_processed:1000\r\nused_cpu_sys:1.0\r\nused_cpu_user:1.0\r\n",
        );
        let second = info(
            "keyspace_hits:130\r\nkeyspace_misses:110\r\nevicted_keys:30\r\n\
             total_commands_processed:1041\r\nused_cpu_sys:1.2\r\nused_cpu_user:1.3\r\n\
             used_memory:536870912\r\nmaxmemory:1073741824\r\nconnected_clients:11\r\n\
             maxclients:100\r\nmaster_repl_offset:5000\r\n\
             slave0:ip=127.0.0.1,port=7001,state=online,offset=4990,lag=0\r\n\
             slave1:ip=127.0.0.1,port=7002,state=online,offset=4000,lag=1\r\n",
        );
        let window = Window {
            seconds: 2.0,
            at: "2026-12-07T14:00:00Z".into(),
        };
        let got: BTreeMap<String, f64> = readings(&first, &second, &window)
            .into_iter()
            .map(|r| (r.name, r.value))
            .collect();
        assert_eq!(got["cache_hit_rate_pct"], 75.0);
        assert_eq!(got["cache_evictions_per_sec"], 10.0);
        assert_eq!(got["cache_ops_per_sec"], 20.0);
        assert_eq!(got["cache_cpu_pct"], 25.0);
        assert_eq!(got["cache_memory_pct"], 50.0);
        assert_eq!(got["cache_memory_gb"], 0.5);
        assert_eq!(got["cache_connections_pct"], 10.0);
        assert_eq!(got["cache_replication_lag_bytes"], 1000.0);
    }

    #[test]
    fn a_refusal_is_told_from_a_server_in_trouble() {
        let status =
            |command, message: &str, auth| match answered_with(command, message.into(), auth) {
                Fault::Refused(_) => "refused",
                Fault::Error(_) => "error",
                _ => "other",
            };
        assert_eq!(
            status("INFO", "NOPERM this user has no permissions", false),
            "refused"
        );
        assert_eq!(
            status("INFO", "NOAUTH Authentication required.", false),
            "refused"
        );
        assert_eq!(
            status("INFO", "LOADING Redis is loading the dataset", false),
            "error"
        );
        assert_eq!(
            status("AUTH", "WRONGPASS invalid username-password pair", true),
            "refused"
        );
        assert_eq!(
            status(
                "AUTH",
                "ERR AUTH <password> called without any password",
                true
            ),
            "refused"
        );
        assert_eq!(
            status("AUTH", "LOADING Redis is loading the dataset", true),
            "error"
        );
    }

    #[test]
    fn a_hit_rate_with_no_lookups_between_samples_is_since_the_reset_and_says_so() {
        let same = "keyspace_hits:300\r\nkeyspace_misses:100\r\nuptime_in_seconds:60\r\n";
        let window = Window {
            seconds: 1.0,
            at: "2026-12-07T14:00:00Z".into(),
        };
        let got = readings(&info(same), &info(same), &window);
        let hit = got.iter().find(|r| r.name == "cache_hit_rate_pct").unwrap();
        assert_eq!(hit.value, 75.0);
        assert!(
            hit.query.contains("since the last restart"),
            "{}",
            hit.query
        );
        // No memory limit: no percentage of it.
        assert!(!got.iter().any(|r| r.name == "cache_memory_pct"));
    }
}
