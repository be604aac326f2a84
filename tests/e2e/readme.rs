//! The README's commands, run: every `scale-advisor …` line of a `sh` block runs against the
//! built binary (in a scratch HOME and working directory) and must succeed, and where the README
//! shows its output (the block right after a one-command block) the output must be that, byte
//! for byte. Every other command (the installs) must be listed as `# README: <command>` in
//! `tests/packaging/run.sh`, which runs it, and every such entry must still be in the README.
//!
//! `UPDATE_README=1 cargo test -p scale-advisor --test e2e readme` rewrites the shown outputs
//! from the binary instead (review the diff).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::BINARY;

/// The binary and home directory the README shows, in place of this run's.
const SHOWN_BINARY: &str = "/home/you/.local/bin/scale-advisor";
const SHOWN_HOME: &str = "/home/you";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fenced block: its info string, its lines, and the index of its first content line.
struct Block {
    lang: String,
    lines: Vec<String>,
    first_line: usize,
    /// Whether only blank lines separate it from the block before.
    follows_block: bool,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut since_last_block = 0usize;
    for (index, line) in text.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => {
                current = Some(Block {
                    lang: lang.trim().to_string(),
                    lines: Vec::new(),
                    first_line: index + 1,
                    follows_block: !blocks.is_empty() && since_last_block == 0,
                });
            }
            (Some(_), Some(_)) => {
                blocks.extend(current.take());
                since_last_block = 0;
            }
            (Some(block), None) => block.lines.push(line.to_string()),
            (None, None) => {
                if !line.trim().is_empty() {
                    since_last_block += 1;
                }
            }
        }
    }
    blocks
}

/// The commands of a `sh` block: a line continues while a single quote is open or it ends in `\`.
fn commands(block: &Block) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in &block.lines {
        if pending.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        let open_quote = pending.matches('\'').count() % 2 == 1;
        if !open_quote && !line.ends_with('\\') {
            commands.push(std::mem::take(&mut pending).trim().to_string());
        }
    }
    assert!(
        pending.is_empty(),
        "an unterminated command in the README: {pending}"
    );
    commands
}

/// Runs one README command with the built binary first on PATH; returns its stdout, shown as
/// the README shows it.
fn run_shown(command: &str, scratch: &Path) -> String {
    let home = scratch.join("home");
    let work = scratch.join("work");
    std::fs::create_dir_all(&home).expect("scratch home");
    // The knowledge section's example folder, holding a copy of a built-in document.
    std::fs::create_dir_all(work.join("our-knowledge")).expect("scratch knowledge folder");
    std::fs::copy(
        root().join("knowledge/docs/monitoring.md"),
        work.join("our-knowledge/monitoring.md"),
    )
    .expect("a knowledge document");
    // Commands that read the repository's example files (`@tests/pages/...`) find them.
    let tests_link = work.join("tests");
    if !tests_link.exists() {
        std::os::unix::fs::symlink(root().join("tests"), &tests_link).expect("a link to tests/");
    }
    let binary = Path::new(BINARY).canonicalize().expect("the binary exists");
    let bin_dir = binary.parent().expect("the binary has a folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("a PATH");
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&work)
        .env("PATH", path)
        .env("HOME", &home)
        .env_remove("SCALE_ADVISOR_KNOWLEDGE_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "README command failed ({}): {command}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let home = home.to_string_lossy().into_owned();
    stdout
        .replace(binary.to_string_lossy().as_ref(), SHOWN_BINARY)
        .replace(&home, SHOWN_HOME)
}

#[test]
fn readme_commands_run_and_print_what_the_readme_shows() {
    let readme_path = root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let blocks = blocks(&readme);
    let scratch = std::env::temp_dir().join(format!("scale-advisor-readme-{}", std::process::id()));
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut ran = 0;
    let mut compared = 0;
    let mut others = BTreeSet::new();
    let mut mismatches = Vec::new();
    // (first line, line count, new lines) of each shown output to rewrite.
    let mut rewrites: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        if block.lang != "sh" {
            continue;
        }
        let commands = commands(block);
        let shown = blocks
            .get(index + 1)
            .filter(|next| next.follows_block && next.lang != "sh" && commands.len() == 1);
        for command in &commands {
            if !command.starts_with("scale-advisor ") {
                others.insert(command.clone());
                continue;
            }
            let stdout = run_shown(command, &scratch);
            ran += 1;
            if let Some(shown) = shown {
                compared += 1;
                let expected = shown.lines.join("\n");
                if stdout.trim_end() != expected.trim_end() {
                    mismatches.push(format!(
                        "README.md:{}: `{command}` printed\n{stdout}\ninstead of\n{expected}\n",
                        shown.first_line
                    ));
                    let new = stdout.trim_end().lines().map(str::to_string).collect();
                    rewrites.push((shown.first_line, shown.lines.len(), new));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        ran >= 5,
        "only {ran} scale-advisor commands found in the README"
    );
    assert!(
        compared >= 4,
        "only {compared} shown outputs found in the README"
    );

    if update && !rewrites.is_empty() {
        let mut lines: Vec<String> = readme.lines().map(str::to_string).collect();
        for (first, count, new) in rewrites.into_iter().rev() {
            lines.splice(first..first + count, new);
        }
        std::fs::write(&readme_path, lines.join("\n") + "\n").expect("README.md written");
    } else {
        assert!(
            mismatches.is_empty(),
            "{}\n(UPDATE_README=1 rewrites them)",
            mismatches.join("\n")
        );
    }

    let script = std::fs::read_to_string(root().join("tests/packaging/run.sh"))
        .expect("tests/packaging/run.sh");
    let listed: BTreeSet<String> = script
        .lines()
        .filter_map(|line| line.trim().strip_prefix("# README: "))
        .map(|command| command.trim().to_string())
        .collect();
    assert!(
        !others.is_empty(),
        "no install commands found in the README"
    );
    let unchecked: Vec<_> = others.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&others).collect();
    assert!(
        unchecked.is_empty() && stale.is_empty(),
        "README commands that tests/packaging/run.sh does not run: {unchecked:?}; \
         run.sh entries no longer in the README: {stale:?}"
    );
}
