//! The agent skill `scale-advisor`, compiled in and served through the skills extension:
//! `skills/list`, `skills/get`, and its file through `resources/read`; `skill install` writes it.
//!
//! The one file is `skill.md` at the top of the repository, where people and skill installers
//! look for it. `server/skill.md` is a symlink to it: a crate package holds only files inside
//! the crate's folder, and `cargo package` stores a symlinked file's contents, so the published
//! crate carries the same text the binary embeds (`tests/packaging/run.sh` checks both).

use rmcp::model::{Skill, SkillFrontmatter, SkillResource, SkillResources};

const SKILL_MD: &str = include_str!("../skill.md");

// A checkout without symlinks (git on Windows without `core.symlinks`) leaves `server/skill.md`
// as a one-line file naming its target; the build stops there rather than embed that line.
const _: () = assert!(
    opens_with_frontmatter(SKILL_MD.as_bytes()),
    "server/skill.md is not the skill: it must be a symlink to ../skill.md (git config core.symlinks true, then check it out again)"
);

const fn opens_with_frontmatter(text: &[u8]) -> bool {
    text.len() >= 3 && text[0] == b'-' && text[1] == b'-' && text[2] == b'-'
}

/// The skill file with its parsed frontmatter.
pub struct SkillFile {
    name: String,
    description: String,
    uri: String,
}

impl SkillFile {
    /// Reads the embedded `skill.md`; an invalid frontmatter is a build mistake, reported at
    /// start-up rather than served.
    pub fn embedded() -> Result<Self, String> {
        let (name, description) = frontmatter(SKILL_MD)?;
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(format!(
                "skill.md: `name` must be 1-64 lower-case letters, digits and hyphens, found `{name}`"
            ));
        }
        if description.is_empty() || description.chars().count() > 1024 {
            return Err("skill.md: `description` must be 1-1024 characters".into());
        }
        Ok(Self {
            uri: format!("skill://{name}/SKILL.md"),
            name,
            description,
        })
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    pub fn text(&self) -> &'static str {
        SKILL_MD
    }

    pub fn skill(&self) -> Skill {
        Skill::new(
            self.uri.clone(),
            SkillFrontmatter::new(self.name.clone(), self.description.clone()),
            SkillResources::Files(vec![SkillResource::from_bytes(
                self.uri.clone(),
                SKILL_MD.as_bytes(),
            )]),
        )
    }
}

/// `name` and `description` from a `---`-fenced frontmatter of `key: value` lines.
fn frontmatter(text: &str) -> Result<(String, String), String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("---") {
        return Err("skill.md must start with a `---` frontmatter".into());
    }
    let (mut name, mut description) = (None, None);
    for line in lines.by_ref() {
        if line.trim() == "---" {
            return match (name, description) {
                (Some(n), Some(d)) => Ok((n, d)),
                _ => Err("skill.md frontmatter needs `name` and `description`".into()),
            };
        }
        if let Some((key, value)) = line.split_once(':') {
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "name" => name = Some(value),
                "description" => description = Some(value),
                _ => {}
            }
        }
    }
    Err("skill.md frontmatter is not closed by `---`".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_skill_is_valid() {
        let skill = SkillFile::embedded().unwrap();
        assert_eq!(skill.name(), "scale-advisor");
        assert_eq!(skill.uri(), "skill://scale-advisor/SKILL.md");
        assert!(skill.skill().validate().is_ok());
    }

    #[test]
    fn frontmatter_errors_are_clear() {
        assert!(
            frontmatter("# no frontmatter")
                .unwrap_err()
                .contains("must start")
        );
        assert!(
            frontmatter("---\nname: x\n---\n")
                .unwrap_err()
                .contains("description")
        );
        assert_eq!(
            frontmatter("---\nname: a\ndescription: \"b c\"\n---\n").unwrap(),
            ("a".into(), "b c".into())
        );
    }
}
