//! Getting the installed binary into a client: `config CLIENT` prints the registration each
//! client reads, naming this binary by its absolute path (GUI clients do not start from a
//! login shell, so a bare `scale-advisor` is often "command not found" there), and
//! `skill install` writes the agent skill where Claude Code looks for skills.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::skill::SkillFile;
use crate::sources::SourceArgs;

/// The name every registration gives the server.
const SERVER_NAME: &str = "scale-advisor";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the registration of this binary for an MCP client, by its absolute path: the
    /// `claude mcp add` line for claude-code, the JSON entry for the others (where it goes is
    /// said on stderr). A global --knowledge-dir is carried into the registration.
    Config {
        /// The client to register with.
        #[arg(value_enum)]
        client: Client,
    },
    /// The agent skill that tells an assistant when to use each tool.
    Skill {
        #[command(subcommand)]
        action: SkillAction,
    },
}

#[derive(clap::Subcommand)]
pub enum SkillAction {
    /// Write the skill to ~/.claude/skills/scale-advisor/SKILL.md (or DIR/scale-advisor/SKILL.md).
    /// A different file already there is kept unless --force is given.
    Install {
        /// The skills folder to write into, instead of ~/.claude/skills.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Overwrite a SKILL.md that differs from this version's.
        #[arg(long)]
        force: bool,
    },
}

/// The MCP clients `config` knows how to register with.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Client {
    /// Claude Code: a `claude mcp add` command line.
    ClaudeCode,
    /// Claude Desktop: an entry for claude_desktop_config.json.
    ClaudeDesktop,
    /// VS Code: an entry for .vscode/mcp.json.
    Vscode,
    /// Cursor: an entry for ~/.cursor/mcp.json.
    Cursor,
}

pub fn run(
    command: Command,
    knowledge_dir: Option<&Path>,
    sources: &SourceArgs,
) -> anyhow::Result<()> {
    match command {
        Command::Config { client } => {
            let mut registration = Registration::for_this_binary(knowledge_dir)?;
            let (env, held) = sources.registration_env();
            registration.env = env
                .into_iter()
                .map(|(var, value)| (var.to_string(), value))
                .collect();
            let (text, hint) = registration.render(client);
            println!("{text}");
            eprintln!("{hint}");
            if !held.is_empty() {
                eprintln!(
                    "Not copied from this shell: {}. Add each to the entry's env where the \
                     client keeps secrets, or name a file with the matching *_FILE option.",
                    held.join(", ")
                );
            }
            Ok(())
        }
        Command::Skill {
            action: SkillAction::Install { dir, force },
        } => {
            let skill = SkillFile::embedded().map_err(anyhow::Error::msg)?;
            let dir = match dir {
                Some(dir) => dir,
                None => home_dir()?.join(".claude").join("skills"),
            };
            let path = dir.join(skill.name()).join("SKILL.md");
            match install_skill(&path, skill.text(), force)? {
                SkillWritten::Unchanged => println!("up to date: {}", path.display()),
                SkillWritten::Created => println!("installed: {}", path.display()),
                SkillWritten::Replaced => println!("replaced: {}", path.display()),
            }
            Ok(())
        }
    }
}

/// How a client starts this server: a command and its arguments.
struct Registration {
    command: String,
    args: Vec<String>,
    /// The live sources (contract §7), in the variables the server reads.
    env: BTreeMap<String, String>,
}

/// One server entry of a client's JSON configuration, its fields in the order clients document.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    command: &'a str,
    args: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: &'a BTreeMap<String, String>,
}

impl Registration {
    fn for_this_binary(knowledge_dir: Option<&Path>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the path of this binary")?;
        let mut args = Vec::new();
        if let Some(dir) = knowledge_dir {
            // Absolute, since a client starts the server from a working directory of its own.
            let dir = std::path::absolute(dir)
                .with_context(|| format!("making {} absolute", dir.display()))?;
            args.push("--knowledge-dir".to_string());
            args.push(path_text(&dir)?);
        }
        args.push("serve".to_string());
        Ok(Self {
            command: path_text(&exe)?,
            args,
            env: BTreeMap::new(),
        })
    }

    /// The registration for `client` (stdout) and where it goes (stderr).
    fn render(&self, client: Client) -> (String, String) {
        // `{"<servers key>": {"scale-advisor": entry}}`, the shape of every client's file.
        let file = |servers_key: &str, transport: Option<&'static str>| {
            let entry = Entry {
                transport,
                command: &self.command,
                args: &self.args,
                env: &self.env,
            };
            let file = BTreeMap::from([(servers_key, BTreeMap::from([(SERVER_NAME, entry)]))]);
            // Strings and maps of strings always serialize.
            serde_json::to_string_pretty(&file).unwrap_or_default()
        };
        match client {
            Client::ClaudeCode => {
                let words: Vec<String> = std::iter::once(self.command.as_str())
                    .chain(self.args.iter().map(String::as_str))
                    .map(shell_word)
                    .collect();
                let env: String = self
                    .env
                    .iter()
                    .map(|(var, value)| format!("-e {} ", shell_word(&format!("{var}={value}"))))
                    .collect();
                (
                    format!(
                        "claude mcp add --scope user {env}{SERVER_NAME} -- {}",
                        words.join(" ")
                    ),
                    "Run that line to register scale-advisor for every project \
                     (--scope project writes .mcp.json for the team instead)."
                        .to_string(),
                )
            }
            Client::ClaudeDesktop => (
                file("mcpServers", None),
                format!(
                    "Merge that into {} (Settings > Developer > Edit Config) and restart \
                     Claude Desktop.",
                    claude_desktop_config().display()
                ),
            ),
            Client::Vscode => (
                file("servers", Some("stdio")),
                "Merge that into .vscode/mcp.json in the workspace, or into the user \
                 configuration (command palette: MCP: Open User Configuration)."
                    .to_string(),
            ),
            Client::Cursor => (
                file("mcpServers", None),
                format!(
                    "Merge that into {} for every project, or into .cursor/mcp.json in one \
                     project.",
                    home_or_tilde().join(".cursor").join("mcp.json").display()
                ),
            ),
        }
    }
}

/// A path as text for a JSON file or a command line; a path that is not Unicode cannot be
/// written into either.
fn path_text(path: &Path) -> anyhow::Result<String> {
    match path.to_str() {
        Some(text) => Ok(text.to_string()),
        None => bail!("the path {} is not valid Unicode", path.display()),
    }
}

/// One word of a shell command line, quoted when the shell would otherwise split or expand it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b"/._-+:=@%,".contains(&b) || (cfg!(windows) && b == b'\\')
        });
    if plain {
        word.to_string()
    } else if cfg!(windows) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn home_dir() -> anyhow::Result<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    match std::env::var_os(var) {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home)),
        _ => bail!("{var} is not set, so the home directory is unknown; pass --dir DIR"),
    }
}

/// The home directory for a hint, or `~` when it is unknown.
fn home_or_tilde() -> PathBuf {
    home_dir().unwrap_or_else(|_| PathBuf::from("~"))
}

/// Where Claude Desktop keeps its configuration on this operating system.
fn claude_desktop_config() -> PathBuf {
    let base = if cfg!(target_os = "macos") {
        home_or_tilde().join("Library").join("Application Support")
    } else if cfg!(windows) {
        std::env::var_os("APPDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("%APPDATA%"))
    } else {
        home_or_tilde().join(".config")
    };
    base.join("Claude").join("claude_desktop_config.json")
}

#[derive(Debug, PartialEq)]
enum SkillWritten {
    Created,
    Replaced,
    Unchanged,
}

/// Writes `text` at `path` unless a different file is there and `force` is off. The file is
/// written beside its final name and renamed, so a reader never sees half of it.
fn install_skill(path: &Path, text: &str, force: bool) -> anyhow::Result<SkillWritten> {
    let outcome = match std::fs::read(path) {
        Ok(existing) if existing == text.as_bytes() => return Ok(SkillWritten::Unchanged),
        Ok(_) if !force => bail!(
            "{} already holds a different SKILL.md (another version, or edited by hand); \
             pass --force to replace it",
            path.display()
        ),
        Ok(_) => SkillWritten::Replaced,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => SkillWritten::Created,
        Err(error) => {
            return Err(error).with_context(|| format!("reading {}", path.display()));
        }
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let partial = path.with_extension("md.partial");
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("/usr/local/bin/scale-advisor"),
            "/usr/local/bin/scale-advisor"
        );
        if cfg!(unix) {
            assert_eq!(shell_word("/Users/a b/x"), "'/Users/a b/x'");
            assert_eq!(shell_word("it's"), r"'it'\''s'");
            assert_eq!(shell_word(""), "''");
        }
    }

    #[test]
    fn the_skill_is_created_kept_refused_and_forced() {
        let dir = std::env::temp_dir().join(format!("scale-advisor-skill-{}", std::process::id()));
        let path = dir.join("scale-advisor").join("SKILL.md");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            install_skill(&path, "one", false).ok(),
            Some(SkillWritten::Created)
        );
        assert_eq!(
            install_skill(&path, "one", false).ok(),
            Some(SkillWritten::Unchanged)
        );
        let refused = install_skill(&path, "two", false).map_err(|e| e.to_string());
        assert!(refused.is_err_and(|e| e.contains("--force")));
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("one"));
        assert_eq!(
            install_skill(&path, "two", true).ok(),
            Some(SkillWritten::Replaced)
        );
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("two"));
        assert!(!path.with_extension("md.partial").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
