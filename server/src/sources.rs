//! The live sources the operator points the server at (contract §7): global options and
//! environment variables, secrets from the environment or from files the operator names,
//! resolved once at start-up. A malformed URL stops start-up with a masked error; a server
//! that cannot be reached does not (each call that reads it reports its status).
//!
//! Secrets never come from a command-line value of their own (`ps` shows those): a password
//! or token sits in the URL, in an environment variable, or in a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use observe::{Limits, SourceUrl};

/// The environment variables that hold secrets directly (their files have options).
const PROMETHEUS_TOKEN_VAR: &str = "SCALE_ADVISOR_PROMETHEUS_TOKEN";
const PROMETHEUS_PASSWORD_VAR: &str = "SCALE_ADVISOR_PROMETHEUS_PASSWORD";
const POSTGRES_PASSWORD_VAR: &str = "SCALE_ADVISOR_POSTGRES_PASSWORD";
const REDIS_PASSWORD_VAR: &str = "SCALE_ADVISOR_REDIS_PASSWORD";

/// The options of the three sources and their bounds; global, so `serve`, `call` and
/// `config CLIENT` all take them.
#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = "Live sources (read-only; observe_system and `observe`)")]
pub struct SourceArgs {
    /// Prometheus (or Thanos, Mimir) to read today's figures and their history from:
    /// http(s)://host:port[/prefix]. `user:password@` in the URL is basic auth. A bearer token
    /// comes from SCALE_ADVISOR_PROMETHEUS_TOKEN or --prometheus-token-file.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SCALE_ADVISOR_PROMETHEUS_URL",
        hide_env_values = true
    )]
    pub prometheus: Option<String>,
    /// A file holding Prometheus's bearer token (a mounted Secret, for instance).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "SCALE_ADVISOR_PROMETHEUS_TOKEN_FILE"
    )]
    pub prometheus_token_file: Option<PathBuf>,
    /// Basic auth user for Prometheus; the password from SCALE_ADVISOR_PROMETHEUS_PASSWORD or
    /// --prometheus-password-file.
    #[arg(
        long,
        global = true,
        value_name = "USER",
        env = "SCALE_ADVISOR_PROMETHEUS_USER"
    )]
    pub prometheus_user: Option<String>,
    /// A file holding the basic auth password of --prometheus-user.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "SCALE_ADVISOR_PROMETHEUS_PASSWORD_FILE"
    )]
    pub prometheus_password_file: Option<PathBuf>,
    /// PostgreSQL to read the statistics views from (read-only transaction, statement
    /// timeout): postgres://user[:password]@host:5432/db. The password may come from
    /// SCALE_ADVISOR_POSTGRES_PASSWORD or --postgres-password-file instead.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SCALE_ADVISOR_POSTGRES_URL",
        hide_env_values = true
    )]
    pub postgres: Option<String>,
    /// A file holding the PostgreSQL password.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "SCALE_ADVISOR_POSTGRES_PASSWORD_FILE"
    )]
    pub postgres_password_file: Option<PathBuf>,
    /// The PostgreSQL role to log in as (one that holds `pg_monitor`), when the URL names none.
    #[arg(
        long,
        global = true,
        value_name = "USER",
        env = "SCALE_ADVISOR_POSTGRES_USER"
    )]
    pub postgres_user: Option<String>,
    /// Redis to read `INFO` from (nothing else is sent): redis://[:password@]host:6379. The
    /// password may come from SCALE_ADVISOR_REDIS_PASSWORD or --redis-password-file instead.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SCALE_ADVISOR_REDIS_URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,
    /// A file holding the Redis password.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "SCALE_ADVISOR_REDIS_PASSWORD_FILE"
    )]
    pub redis_password_file: Option<PathBuf>,
    /// The Redis ACL user to log in as (one allowed `INFO`), when the URL names none; without
    /// one, a password is the `default` user's.
    #[arg(
        long,
        global = true,
        value_name = "USER",
        env = "SCALE_ADVISOR_REDIS_USER"
    )]
    pub redis_user: Option<String>,
    /// The longest one source may take to accept a connection, in milliseconds.
    #[arg(
        long,
        global = true,
        value_name = "MS",
        env = "SCALE_ADVISOR_SOURCE_CONNECT_TIMEOUT_MS"
    )]
    pub source_connect_timeout_ms: Option<u64>,
    /// The longest reading one source may take, connection included, in milliseconds; a call
    /// that reads sources answers within it whatever the sources do. Default 5000.
    #[arg(
        long,
        global = true,
        value_name = "MS",
        env = "SCALE_ADVISOR_SOURCE_TIMEOUT_MS"
    )]
    pub source_timeout_ms: Option<u64>,
    /// The most bytes one answer of a source may hold; a larger answer is refused, not read.
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        env = "SCALE_ADVISOR_SOURCE_MAX_BYTES"
    )]
    pub source_max_bytes: Option<usize>,
}

/// How Prometheus is authenticated, its secrets resolved.
#[derive(Clone, PartialEq, Eq)]
pub enum PrometheusSecret {
    Bearer(String),
    Basic { user: String, password: String },
}

impl std::fmt::Debug for PrometheusSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrometheusSecret::Bearer(_) => f.write_str("Bearer(***)"),
            PrometheusSecret::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

/// The sources as configured, secrets resolved and URLs checked.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    pub prometheus: Option<(SourceUrl, Option<PrometheusSecret>)>,
    pub postgres: Option<SourceUrl>,
    pub redis: Option<SourceUrl>,
    pub limits: Limits,
}

impl SourceSettings {
    /// Whether any source is configured (then the tools that take `observe` are open-world).
    pub fn any(&self) -> bool {
        self.prometheus.is_some() || self.postgres.is_some() || self.redis.is_some()
    }
}

/// Reads the environment variable `var`, trimmed; unset or empty is none.
fn secret_var(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// Reads a secret file named by `option`, trimmed of the newline editors and `kubectl` add.
fn secret_file(option: &str, path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{option} {}: cannot read the file", path.display()))?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        bail!("{option} {}: the file is empty", path.display());
    }
    Ok(secret)
}

/// A secret from its file option or its variable; both set is a contradiction to refuse.
fn secret(file_option: &str, file: Option<&Path>, var: &str) -> anyhow::Result<Option<String>> {
    match (file, secret_var(var)) {
        (Some(path), Some(_)) => bail!(
            "{file_option} {} and {var} both give the secret; keep one",
            path.display()
        ),
        (Some(path), None) => Ok(Some(secret_file(file_option, path)?)),
        (None, value) => Ok(value),
    }
}

/// An option's value, or none when it is absent or empty (an unset bundle setting arrives as
/// an empty environment variable).
fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Parses `text` for `option` and puts the `user` and `password` that came from outside into
/// it (the readers log in with what the URL holds); a user or password both in the URL and
/// outside is refused, since one of them would be silently lost.
fn url_with_credentials(
    option: &'static str,
    text: &str,
    user: Option<&str>,
    password: Option<String>,
    schemes: &'static [&'static str],
    example: &'static str,
) -> anyhow::Result<SourceUrl> {
    let parsed = SourceUrl::parse(option, text, schemes, example)?;
    parsed
        .with_credentials(user, password.as_deref())
        .map_err(|e| anyhow::anyhow!("{option} {e}"))
}

impl SourceArgs {
    /// Resolves the options, variables and files into settings; a malformed URL, an
    /// unreadable secret file or two secrets for one source stop start-up.
    pub fn settings(&self) -> anyhow::Result<SourceSettings> {
        let defaults = Limits::default();
        let total_timeout = self.source_timeout_ms.map_or(defaults.total_timeout, |ms| {
            Duration::from_millis(ms.max(1))
        });
        let limits = Limits {
            connect_timeout: self
                .source_connect_timeout_ms
                .map_or(defaults.connect_timeout, |ms| {
                    Duration::from_millis(ms.max(1))
                })
                .min(total_timeout),
            total_timeout,
            max_bytes: self
                .source_max_bytes
                .map_or(defaults.max_bytes, |b| b.max(1)),
        };
        let prometheus = match given(self.prometheus.as_ref()) {
            None => None,
            Some(text) => {
                let url = SourceUrl::parse(
                    "--prometheus",
                    text,
                    &["http", "https"],
                    "http://prometheus:9090",
                )?;
                let token = secret(
                    "--prometheus-token-file",
                    self.prometheus_token_file.as_deref(),
                    PROMETHEUS_TOKEN_VAR,
                )?;
                let password = secret(
                    "--prometheus-password-file",
                    self.prometheus_password_file.as_deref(),
                    PROMETHEUS_PASSWORD_VAR,
                )?;
                let user = given(self.prometheus_user.as_ref()).map(str::to_string);
                let in_url = url.expose().password().is_some();
                let auth = match (token, user, password) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => bail!(
                        "--prometheus: both a bearer token and basic auth are given; keep one"
                    ),
                    (Some(_), None, None) if in_url => bail!(
                        "--prometheus {}: the URL holds basic auth and a bearer token is \
                         given too; keep one",
                        url.masked()
                    ),
                    (Some(token), None, None) => Some(PrometheusSecret::Bearer(token)),
                    (None, Some(user), Some(password)) => {
                        if in_url {
                            bail!(
                                "--prometheus {}: the URL holds basic auth and \
                                 --prometheus-user gives another; keep one",
                                url.masked()
                            );
                        }
                        Some(PrometheusSecret::Basic { user, password })
                    }
                    (None, Some(user), None) => bail!(
                        "--prometheus-user {user}: no password; set {PROMETHEUS_PASSWORD_VAR} \
                         or --prometheus-password-file"
                    ),
                    (None, None, Some(_)) => {
                        bail!("a Prometheus password is given without --prometheus-user")
                    }
                    (None, None, None) => None,
                };
                Some((url, auth))
            }
        };
        let postgres = match given(self.postgres.as_ref()) {
            None => None,
            Some(text) => Some(url_with_credentials(
                "--postgres",
                text,
                given(self.postgres_user.as_ref()),
                secret(
                    "--postgres-password-file",
                    self.postgres_password_file.as_deref(),
                    POSTGRES_PASSWORD_VAR,
                )?,
                &["postgres", "postgresql"],
                "postgres://user:password@host:5432/db",
            )?),
        };
        let redis = match given(self.redis.as_ref()) {
            None => None,
            Some(text) => Some(url_with_credentials(
                "--redis",
                text,
                given(self.redis_user.as_ref()),
                secret(
                    "--redis-password-file",
                    self.redis_password_file.as_deref(),
                    REDIS_PASSWORD_VAR,
                )?,
                &["redis", "rediss"],
                "redis://:password@host:6379",
            )?),
        };
        Ok(SourceSettings {
            prometheus,
            postgres,
            redis,
            limits,
        })
    }

    /// The environment a client registration carries (`config CLIENT`), in the variables the
    /// server reads: the URLs as given (a password in one is the operator's own, written into
    /// the operator's own client file), the paths of secret files made absolute, the user and
    /// the bounds. Secrets held in variables of their own are not copied out of this shell:
    /// the second list names them, for the operator to add where the client keeps secrets.
    pub fn registration_env(&self) -> (Vec<(&'static str, String)>, Vec<&'static str>) {
        let mut env = Vec::new();
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .map(|p| p.display().to_string())
        };
        let text = |v: &Option<String>| given(v.as_ref()).map(str::to_string);
        let number = |v: Option<u64>| v.map(|v| v.to_string());
        let entries = [
            ("SCALE_ADVISOR_PROMETHEUS_URL", text(&self.prometheus)),
            (
                "SCALE_ADVISOR_PROMETHEUS_TOKEN_FILE",
                path(&self.prometheus_token_file),
            ),
            ("SCALE_ADVISOR_PROMETHEUS_USER", text(&self.prometheus_user)),
            (
                "SCALE_ADVISOR_PROMETHEUS_PASSWORD_FILE",
                path(&self.prometheus_password_file),
            ),
            ("SCALE_ADVISOR_POSTGRES_URL", text(&self.postgres)),
            (
                "SCALE_ADVISOR_POSTGRES_PASSWORD_FILE",
                path(&self.postgres_password_file),
            ),
            ("SCALE_ADVISOR_POSTGRES_USER", text(&self.postgres_user)),
            ("SCALE_ADVISOR_REDIS_URL", text(&self.redis)),
            (
                "SCALE_ADVISOR_REDIS_PASSWORD_FILE",
                path(&self.redis_password_file),
            ),
            ("SCALE_ADVISOR_REDIS_USER", text(&self.redis_user)),
            (
                "SCALE_ADVISOR_SOURCE_CONNECT_TIMEOUT_MS",
                number(self.source_connect_timeout_ms),
            ),
            (
                "SCALE_ADVISOR_SOURCE_TIMEOUT_MS",
                number(self.source_timeout_ms),
            ),
            (
                "SCALE_ADVISOR_SOURCE_MAX_BYTES",
                number(self.source_max_bytes.map(|b| b as u64)),
            ),
        ];
        for (var, value) in entries {
            if let Some(value) = value {
                env.push((var, value));
            }
        }
        let held = [
            PROMETHEUS_TOKEN_VAR,
            PROMETHEUS_PASSWORD_VAR,
            POSTGRES_PASSWORD_VAR,
            REDIS_PASSWORD_VAR,
        ]
        .into_iter()
        .filter(|var| secret_var(var).is_some())
        .collect();
        (env, held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(prometheus: &str) -> SourceArgs {
        SourceArgs {
            prometheus: Some(prometheus.to_string()),
            ..SourceArgs::default()
        }
    }

    #[test]
    fn a_malformed_url_stops_start_up_with_its_secret_masked() {
        let error = args("http://user:hunter2@")
            .settings()
            .unwrap_err()
            .to_string();
        assert!(error.contains("--prometheus"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        let error = args("prometheus:9090").settings().unwrap_err().to_string();
        assert!(error.contains("--prometheus"), "{error}");
    }

    #[test]
    fn an_empty_value_is_no_source_and_an_unreachable_one_is_accepted() {
        let none = args("  ").settings().unwrap();
        assert!(!none.any());
        let unreachable = args("http://127.0.0.1:1").settings().unwrap();
        assert!(unreachable.any());
    }

    #[test]
    fn basic_auth_in_the_url_is_kept_and_never_shown() {
        let settings = args("https://advisor:s3cret@prom:9090").settings().unwrap();
        let (url, auth) = settings.prometheus.unwrap();
        assert_eq!(url.masked(), "https://advisor:***@prom:9090/");
        assert_eq!(auth, None);
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn a_password_file_goes_into_the_url_and_a_second_password_is_refused() {
        let dir = std::env::temp_dir().join(format!("sa-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "fr0m-file\n").unwrap();
        let settings = SourceArgs {
            postgres: Some("postgres://advisor@db:5432/app".into()),
            postgres_password_file: Some(file.clone()),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap();
        let url = settings.postgres.unwrap();
        assert_eq!(url.expose().password(), Some("fr0m-file"));
        assert_eq!(url.masked(), "postgres://advisor:***@db:5432/app");
        let error = SourceArgs {
            postgres: Some("postgres://advisor:inurl@db:5432/app".into()),
            postgres_password_file: Some(file),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("keep one") && !error.contains("inurl"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_user_and_password_from_outside_the_url_reach_the_readers() {
        let dir = std::env::temp_dir().join(format!("sa-acl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "acl-s3cret\n").unwrap();
        let settings = SourceArgs {
            redis: Some("redis://127.0.0.1:6379".into()),
            redis_user: Some("advisor".into()),
            redis_password_file: Some(file.clone()),
            postgres: Some("postgres://db:5432/app".into()),
            postgres_user: Some("monitor".into()),
            postgres_password_file: Some(file.clone()),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap();
        let redis = settings.redis.clone().unwrap();
        assert_eq!(redis.expose().username(), "advisor");
        assert_eq!(redis.expose().password(), Some("acl-s3cret"));
        assert_eq!(redis.masked(), "redis://advisor:***@127.0.0.1:6379");
        let postgres = settings.postgres.clone().unwrap();
        assert_eq!(postgres.expose().username(), "monitor");
        assert_eq!(postgres.expose().password(), Some("acl-s3cret"));
        assert!(!format!("{settings:?}").contains("acl-s3cret"));
        // A user in the URL and another outside it: refused, naming the part.
        let error = SourceArgs {
            redis: Some("redis://someone@127.0.0.1:6379".into()),
            redis_user: Some("advisor".into()),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap_err();
        let error = format!("{error:#}");
        assert!(
            error.contains("--redis") && error.contains("user"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_file_is_a_bearer_token_and_its_debug_is_masked() {
        let dir = std::env::temp_dir().join(format!("sa-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "t0ken\n").unwrap();
        let settings = SourceArgs {
            prometheus: Some("http://prom:9090".into()),
            prometheus_token_file: Some(file),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap();
        let (_, auth) = settings.prometheus.clone().unwrap();
        assert_eq!(auth, Some(PrometheusSecret::Bearer("t0ken".into())));
        assert!(!format!("{settings:?}").contains("t0ken"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_limits_follow_the_options() {
        let settings = SourceArgs {
            source_timeout_ms: Some(800),
            source_connect_timeout_ms: Some(5000),
            source_max_bytes: Some(1024),
            ..SourceArgs::default()
        }
        .settings()
        .unwrap();
        assert_eq!(settings.limits.total_timeout, Duration::from_millis(800));
        // The connection cannot take longer than the whole reading.
        assert_eq!(settings.limits.connect_timeout, Duration::from_millis(800));
        assert_eq!(settings.limits.max_bytes, 1024);
    }
}
