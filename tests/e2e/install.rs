//! Installing: `config CLIENT` and `skill install` in a scratch HOME, and the packaging files
//! (`packaging/mcpb/manifest.json`, `server.json`, `pyproject.toml`) against the binary and the
//! crate, so that names, versions and the list of tools are never retyped out of step.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rmcp::model::SkillResource;
use serde_json::{Value, json};

use crate::harness::{BINARY, Server};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

fn binary() -> String {
    Path::new(BINARY)
        .canonicalize()
        .expect("the binary exists")
        .to_string_lossy()
        .into_owned()
}

/// A HOME of its own for one test, removed when dropped.
struct ScratchHome(PathBuf);

impl ScratchHome {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("scale-advisor-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch home");
        Self(dir)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BINARY)
            .args(args)
            .current_dir(&self.0)
            .env("HOME", &self.0)
            .env_remove("SCALE_ADVISOR_KNOWLEDGE_DIR")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    }

    fn skill_path(&self) -> PathBuf {
        self.0.join(".claude/skills/scale-advisor/SKILL.md")
    }
}

impl Drop for ScratchHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(root().join(relative)).expect(relative);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn config_prints_each_clients_entry_with_the_absolute_binary() {
    let home = ScratchHome::new("config");
    let binary = binary();
    // (client, key of the servers object, transport type the entry must carry)
    let cases = [
        ("claude-desktop", "mcpServers", None),
        ("cursor", "mcpServers", None),
        ("vscode", "servers", Some("stdio")),
    ];
    for (client, key, transport) in cases {
        let output = home.run(&["config", client]);
        let file: Value = serde_json::from_str(&stdout(&output)).expect("the entry is JSON");
        let entry = &file[key]["scale-advisor"];
        assert_eq!(entry["command"], binary.as_str(), "{client}: {file}");
        assert_eq!(entry["args"], serde_json::json!(["serve"]), "{client}");
        assert_eq!(entry["type"].as_str(), transport, "{client}");
        assert_eq!(
            file.as_object().map(|o| o.len()),
            Some(1),
            "{client}: {file}"
        );
    }
    let home_text = home.0.to_string_lossy().into_owned();
    let desktop_hint = stderr(&home.run(&["config", "claude-desktop"]));
    if cfg!(target_os = "linux") {
        assert!(
            desktop_hint.contains(&format!(
                "{home_text}/.config/Claude/claude_desktop_config.json"
            )),
            "{desktop_hint}"
        );
    }
    let cursor_hint = stderr(&home.run(&["config", "cursor"]));
    assert!(
        cursor_hint.contains(&format!("{home_text}/.cursor/mcp.json")),
        "{cursor_hint}"
    );

    let line = stdout(&home.run(&["config", "claude-code"]));
    assert_eq!(
        line.trim_end(),
        format!("claude mcp add --scope user scale-advisor -- {binary} serve")
    );
}

#[test]
fn config_carries_the_knowledge_dir_as_an_absolute_path() {
    let home = ScratchHome::new("config-knowledge");
    std::fs::create_dir_all(home.0.join("ours")).expect("knowledge folder");
    std::fs::copy(
        root().join("knowledge/docs/monitoring.md"),
        home.0.join("ours/monitoring.md"),
    )
    .expect("a knowledge document");
    let output = home.run(&["--knowledge-dir", "ours", "config", "claude-desktop"]);
    let file: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let args = &file["mcpServers"]["scale-advisor"]["args"];
    let dir = home.0.join("ours").to_string_lossy().into_owned();
    assert_eq!(args, &serde_json::json!(["--knowledge-dir", dir, "serve"]));
    // A folder that cannot be read is refused before anything is printed.
    let output = home.run(&["--knowledge-dir", "missing", "config", "cursor"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("missing"), "{}", stderr(&output));
}

#[test]
fn config_refuses_an_unknown_client_and_names_the_known_ones() {
    let home = ScratchHome::new("config-unknown");
    let output = home.run(&["config", "emacs"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    for client in ["claude-code", "claude-desktop", "vscode", "cursor"] {
        assert!(message.contains(client), "{message}");
    }
}

#[test]
fn skill_install_writes_keeps_refuses_and_forces() {
    let home = ScratchHome::new("skill");
    let skill = std::fs::read_to_string(root().join("skill.md")).expect("skill.md");
    let path = home.skill_path();

    let first = stdout(&home.run(&["skill", "install"]));
    assert_eq!(first.trim_end(), format!("installed: {}", path.display()));
    assert_eq!(std::fs::read_to_string(&path).expect("written"), skill);

    let again = stdout(&home.run(&["skill", "install"]));
    assert_eq!(again.trim_end(), format!("up to date: {}", path.display()));

    std::fs::write(&path, "my own notes\n").expect("edit");
    let refused = home.run(&["skill", "install"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "my own notes\n"
    );

    let forced = stdout(&home.run(&["skill", "install", "--force"]));
    assert_eq!(forced.trim_end(), format!("replaced: {}", path.display()));
    assert_eq!(std::fs::read_to_string(&path).expect("replaced"), skill);

    let other = home.0.join("agent-skills");
    stdout(&home.run(&["skill", "install", "--dir", &other.to_string_lossy()]));
    let elsewhere = other.join("scale-advisor/SKILL.md");
    assert_eq!(std::fs::read_to_string(elsewhere).expect("--dir"), skill);
}

/// The skill is one file, `skill.md` at the top of the repository: the server crate's
/// `server/skill.md` is a symlink to it (a copy could drift), the binary serves it (`skills/get`
/// describes it by size and digest, `resources/read` returns it), `skill install` writes it
/// (above), and the crate's package lists it (`tests/packaging/run.sh` compares the packed text).
#[test]
fn the_top_level_skill_is_served_and_packed() {
    let top = root().join("skill.md");
    let text = std::fs::read_to_string(&top).expect("skill.md at the top of the repository");
    let linked = root().join("server/skill.md");
    assert!(
        std::fs::symlink_metadata(&linked).is_ok_and(|m| m.file_type().is_symlink()),
        "server/skill.md must be a symlink to ../skill.md"
    );
    assert_eq!(
        linked.canonicalize().expect("server/skill.md resolves"),
        top.canonicalize().expect("skill.md"),
        "server/skill.md must point at the top-level skill.md"
    );

    let mut server = Server::start();
    let uri = "skill://scale-advisor/SKILL.md";
    let got = server.request("skills/get", json!({"uri": uri}));
    let file: SkillResource =
        serde_json::from_value(got["result"]["skill"]["resources"][0].clone())
            .unwrap_or_else(|e| panic!("skills/get lists the skill's file ({e}): {got}"));
    assert_eq!(file.uri, uri);
    if let Err(error) = file.verify(text.as_bytes()) {
        panic!("skills/get describes another file than skill.md: {error}");
    }
    let read = server.read_resource(uri);
    assert_eq!(
        read["result"]["contents"][0]["text"].as_str(),
        Some(text.as_str()),
        "resources/read {uri} serves skill.md"
    );

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let listed = Command::new(cargo)
        .args([
            "package",
            "--list",
            // What is listed is the packing, not whether a developer has committed yet.
            "--allow-dirty",
            "--locked",
            "--offline",
            "-p",
            "scale-advisor",
        ])
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    assert!(
        listed.status.success(),
        "cargo package --list: {}",
        stderr(&listed)
    );
    assert!(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|line| line == "skill.md"),
        "the server crate's package lacks skill.md"
    );
}

#[test]
fn skill_install_without_a_home_asks_for_dir() {
    let output = Command::new(BINARY)
        .args(["skill", "install"])
        .env_remove("HOME")
        .env_remove("USERPROFILE")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--dir"), "{}", stderr(&output));
}

#[test]
fn the_knowledge_dir_variable_is_read_and_an_empty_one_ignored() {
    let run = |value: &str| {
        Command::new(BINARY)
            .args(["tools"])
            .env("SCALE_ADVISOR_KNOWLEDGE_DIR", value)
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    // The bundle passes an unset option as an empty value.
    assert!(run("").status.success());
    let missing = run("/nonexistent/scale-advisor-knowledge");
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("/nonexistent/scale-advisor-knowledge"));
}

/// name and description of each tool, as the binary lists them.
fn binary_tools() -> Vec<(String, String)> {
    let output = Command::new(BINARY)
        .args(["tools", "--json"])
        .output()
        .expect("runs");
    let tools: Value = serde_json::from_str(&stdout(&output)).expect("tools --json");
    let tools = tools.as_array().expect("an array").clone();
    assert!(tools.len() >= 8, "{} tools", tools.len());
    tools
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The tool tables a person or a model reads first name every tool the binary lists: a new
/// tool fails here until the README and the skill say when to use it.
#[test]
fn the_readme_and_the_skill_name_every_tool() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let skill = std::fs::read_to_string(root().join("skill.md")).expect("skill.md");
    for (name, _) in binary_tools() {
        let row = format!("| `{name}` |");
        assert!(
            readme.lines().any(|line| line.starts_with(&row)),
            "README.md has no row `{row}` in its tool table"
        );
        assert!(
            skill.contains(&format!("| `{name}` |")),
            "skill.md does not say when to call `{name}`"
        );
    }
}

#[test]
fn the_bundle_manifest_lists_the_binarys_tools_and_version() {
    let manifest = read_json("packaging/mcpb/manifest.json");
    let listed: Vec<(String, String)> = manifest["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        listed == binary_tools(),
        "packaging/mcpb/manifest.json lists other tools than `scale-advisor tools --json`; \
         run `packaging/mcpb/build.sh --sync`"
    );
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["name"], "scale-advisor");
    assert_eq!(manifest["description"], env!("CARGO_PKG_DESCRIPTION"));
    assert_eq!(manifest["license"], env!("CARGO_PKG_LICENSE"));
    assert_eq!(manifest["repository"]["url"], env!("CARGO_PKG_REPOSITORY"));
    let server = &manifest["server"];
    assert_eq!(server["type"], "binary");
    let entry = server["entry_point"].as_str().expect("entry_point");
    assert_eq!(
        server["mcp_config"]["command"],
        format!("${{__dirname}}/{entry}")
    );
    assert_eq!(server["mcp_config"]["args"], serde_json::json!(["serve"]));
    // The option reaches the binary through the variable it reads, and an unset option is
    // substituted (a default), never passed on as the literal placeholder.
    assert_eq!(
        server["mcp_config"]["env"]["SCALE_ADVISOR_KNOWLEDGE_DIR"],
        "${user_config.knowledge_dir}"
    );
    let option = &manifest["user_config"]["knowledge_dir"];
    assert_eq!(option["type"], "directory");
    assert_eq!(option["required"], false);
    assert_eq!(option["default"], "");
}

/// `key = "value"` at the top of a TOML table, for the few keys of our own pyproject.toml.
fn toml_value<'a>(text: &'a str, table: &str, key: &str) -> Option<&'a str> {
    let mut in_table = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == format!("[{table}]");
        } else if in_table
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().trim_matches('"'));
        }
    }
    None
}

#[test]
fn the_python_package_is_the_binary_with_the_crates_metadata() {
    let text = std::fs::read_to_string(root().join("pyproject.toml")).expect("pyproject.toml");
    let value =
        |table, key| toml_value(&text, table, key).unwrap_or_else(|| panic!("{table}.{key}"));
    assert_eq!(value("build-system", "build-backend"), "maturin");
    assert_eq!(value("tool.maturin", "bindings"), "bin");
    assert_eq!(value("tool.maturin", "manifest-path"), "server/Cargo.toml");
    assert_eq!(value("project", "name"), "scale-advisor");
    assert_eq!(
        value("project", "description"),
        env!("CARGO_PKG_DESCRIPTION")
    );
    assert_eq!(value("project", "license"), env!("CARGO_PKG_LICENSE"));
    assert_eq!(value("project", "dynamic"), "[\"version\"]");
    for key in ["Homepage", "Repository"] {
        assert_eq!(
            value("project.urls", key),
            env!("CARGO_PKG_REPOSITORY"),
            "{key}"
        );
    }
}

#[test]
fn server_json_has_the_fields_the_registry_schema_names() {
    let server = read_json("server.json");
    let object = server.as_object().expect("an object");
    // The properties of ServerDetail in the registry's server.schema.json (2025-12-11).
    let known = [
        "$schema",
        "name",
        "title",
        "description",
        "version",
        "repository",
        "websiteUrl",
        "icons",
        "packages",
        "remotes",
        "_meta",
    ];
    for key in object.keys() {
        assert!(
            known.contains(&key.as_str()),
            "server.json: unknown field {key}"
        );
    }
    let schema = server["$schema"].as_str().expect("$schema");
    assert!(schema.starts_with("https://static.modelcontextprotocol.io/schemas/"));
    let name = server["name"].as_str().expect("name");
    let (namespace, server_name) = name.split_once('/').expect("one slash");
    let namespace_ok = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let name_ok = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    assert!(
        !namespace.is_empty() && namespace.chars().all(namespace_ok),
        "{name}"
    );
    assert!(
        !server_name.is_empty() && server_name.chars().all(name_ok),
        "{name}"
    );
    assert!((3..=200).contains(&name.len()));
    let description = server["description"].as_str().expect("description");
    assert!(
        (1..=100).contains(&description.chars().count()),
        "{description}"
    );
    assert_eq!(server["version"], env!("CARGO_PKG_VERSION"));
    let repository = &server["repository"];
    assert_eq!(repository["url"], env!("CARGO_PKG_REPOSITORY"));
    assert!(repository["source"].is_string());

    let packages = server["packages"].as_array().expect("packages");
    assert_eq!(packages.len(), 1);
    let package = packages[0].as_object().expect("a package");
    // Package has additionalProperties: false in the schema.
    let package_fields = [
        "registryType",
        "registryBaseUrl",
        "identifier",
        "version",
        "fileSha256",
        "runtimeHint",
        "transport",
        "runtimeArguments",
        "packageArguments",
        "environmentVariables",
    ];
    for key in package.keys() {
        assert!(
            package_fields.contains(&key.as_str()),
            "server.json package: unknown field {key}"
        );
    }
    assert_eq!(package["registryType"], "pypi");
    assert_eq!(package["identifier"], "scale-advisor");
    assert_eq!(package["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(package["runtimeHint"], "uvx");
    assert_eq!(package["transport"]["type"], "stdio");
    let arguments: Vec<&str> = package["packageArguments"]
        .as_array()
        .expect("packageArguments")
        .iter()
        .map(|a| {
            assert_eq!(a["type"], "positional");
            a["value"].as_str().expect("a fixed value")
        })
        .collect();
    assert_eq!(arguments, ["serve"]);
    // PyPI ownership: the package description (the README) names the server.
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("mcp-name: {name}")),
        "README.md lacks `mcp-name: {name}`"
    );
}
