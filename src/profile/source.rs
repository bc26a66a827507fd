//! Finding profiles: built-in ones (embedded), the user's config dir, or a path.

use crate::error::{Origin, UserError};
use std::path::{Path, PathBuf};

/// Profiles shipped in the binary, from `profiles/`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("example", include_str!("../../profiles/example.yaml")),
    ("internal", include_str!("../../profiles/internal.yaml")),
    ("small", include_str!("../../profiles/small.yaml")),
];

/// Profiles are small; anything bigger is a mistake (or an attack), refused before parsing.
const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// The text of one profile and how errors should name it.
#[derive(Debug, Clone)]
pub struct ProfileText {
    pub display: String,
    pub text: String,
    /// The file it was read from; `None` for a built-in profile.
    pub path: Option<PathBuf>,
}

/// The first `# ` comment line of a profile, as `profiles list` shows it.
pub fn description(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .find_map(|l| l.strip_prefix('#').map(str::trim).filter(|d| !d.is_empty()))
        .unwrap_or("")
        .to_owned()
}

/// Where profiles are looked up; built from the environment, or by hand in tests.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `<config dir>/profiles`, e.g. `~/.config/eksmon/profiles`.
    pub user_dir: Option<PathBuf>,
    /// `EKSMON_PROFILE`, used when no `--profile` is given.
    pub env_profile: Option<String>,
    /// `./eksmon.yaml`, used when no `--profile` and no `EKSMON_PROFILE` is given.
    pub local_file: PathBuf,
}

impl Lookup {
    pub fn from_env() -> Self {
        let user_dir = directories::ProjectDirs::from("", "", "eksmon")
            .map(|dirs| dirs.config_dir().join("profiles"));
        let env_profile = std::env::var("EKSMON_PROFILE")
            .ok()
            .filter(|p| !p.trim().is_empty());
        Self {
            user_dir,
            env_profile,
            local_file: PathBuf::from("eksmon.yaml"),
        }
    }

    /// Lookups confined to `dir` (its `profiles/` and `eksmon.yaml`), for tests.
    #[cfg(test)]
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            user_dir: Some(dir.join("profiles")),
            env_profile: None,
            local_file: dir.join("eksmon.yaml"),
        }
    }

    /// The profile taken when no `--profile` is given (`EKSMON_PROFILE`, else `./eksmon.yaml`),
    /// as it is told to the person; `None` when profiles are named or none is found.
    pub fn picked_up(&self, named: &[String]) -> Option<String> {
        if !named.is_empty() {
            return None;
        }
        if let Some(spec) = &self.env_profile {
            return Some(format!("profile `{spec}` (from EKSMON_PROFILE)"));
        }
        self.local_file
            .is_file()
            .then(|| format!("profile {}", self.local_file.display()))
    }

    /// The profiles to layer: the `--profile` ones, else `EKSMON_PROFILE`, else `./eksmon.yaml`.
    pub fn select(&self, named: &[String]) -> Result<Vec<ProfileText>, UserError> {
        if !named.is_empty() {
            return named.iter().map(|spec| self.resolve(spec)).collect();
        }
        if let Some(spec) = &self.env_profile {
            return self
                .resolve(spec)
                .map(|p| vec![p])
                .map_err(|e| e.hint("the profile was named by EKSMON_PROFILE"));
        }
        if self.local_file.is_file() {
            return read_file(&self.local_file, self.local_file.display().to_string())
                .map(|p| vec![p]);
        }
        Ok(Vec::new())
    }

    /// `NAME.yaml` in the user's profile dir, else a built-in name, else a path. The user's file
    /// wins over a built-in of the same name: it is the one they wrote (`profiles list` says so).
    pub fn resolve(&self, spec: &str) -> Result<ProfileText, UserError> {
        let looks_like_name = !spec.is_empty()
            && spec
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if looks_like_name && let Some(path) = self.user_profile(spec) {
            return read_file(&path, path.display().to_string());
        }
        if let Some((name, text)) = BUILTIN.iter().find(|(name, _)| *name == spec) {
            return Ok(ProfileText {
                display: format!("built-in {name}.yaml"),
                text: (*text).to_owned(),
                path: None,
            });
        }
        let path = Path::new(spec);
        if path.is_file() {
            return read_file(path, spec.to_owned());
        }
        Err(self.not_found(spec, looks_like_name))
    }

    fn not_found(&self, spec: &str, looks_like_name: bool) -> UserError {
        let mut names = self.names();
        names.sort();
        let mut err = UserError::input(format!("profile `{spec}` not found"));
        if let Some(close) = crate::profile::suggest(spec, names.iter().map(String::as_str)) {
            err = err.hint(format!("did you mean `{close}`?"));
        }
        let mut looked = Vec::new();
        if looks_like_name && let Some(dir) = &self.user_dir {
            looked.push(format!("{}", dir.join(format!("{spec}.yaml")).display()));
        }
        // A path as given: `./x` and `/x` need no `./` in front.
        if spec.starts_with('/') || spec.starts_with("./") || spec.starts_with("../") {
            looked.push(spec.to_owned());
        } else {
            looked.push(format!("./{spec}"));
        }
        err.hint(format!(
            "profiles: {} (built-in and user); also looked for {}",
            names.join(", "),
            looked.join(" and ")
        ))
        .hint("`eksmon profiles list` shows them")
    }

    /// Every profile name: built-in ones first, then the user's (each name once).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect();
        for (name, _) in self.user_profiles() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The user's `NAME.yaml`, when there is one.
    pub fn user_profile(&self, name: &str) -> Option<PathBuf> {
        let path = self.user_dir.as_ref()?.join(format!("{name}.yaml"));
        path.is_file().then_some(path)
    }

    /// `NAME.yaml` files in the user's profile dir, sorted by name.
    pub fn user_profiles(&self) -> Vec<(String, PathBuf)> {
        let Some(dir) = &self.user_dir else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut found: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "yaml") && p.is_file())
            .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
            .collect();
        found.sort();
        found
    }
}

/// Reads a profile file: at most 1 MiB of UTF-8 text.
pub fn read_file(path: &Path, display: String) -> Result<ProfileText, UserError> {
    let origin = || Origin::File {
        name: display.clone(),
        line: None,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| UserError::input(format!("cannot read profile: {e}")).at(origin()))?
        .len();
    if size > MAX_PROFILE_BYTES {
        return Err(UserError::input(format!(
            "profile is {size} bytes; profiles are YAML settings of at most 1 MiB"
        ))
        .at(origin()));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| UserError::input(format!("cannot read profile: {e}")).at(origin()))?;
    let text = String::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'))
        .ok_or_else(|| UserError::input("profile is not UTF-8 text").at(origin()))?;
    Ok(ProfileText {
        display,
        text,
        path: Some(path.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_descriptions() {
        for (name, text) in BUILTIN {
            assert!(
                !description(text).is_empty(),
                "{name} needs a `# ` description line"
            );
        }
    }

    #[test]
    fn resolves_user_then_builtin_then_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
        std::fs::write(
            dir.path().join("profiles/team.yaml"),
            "# team\nnamespace: team\n",
        )
        .unwrap();
        let file = dir.path().join("other.yaml");
        std::fs::write(&file, "namespace: other\n").unwrap();
        let lookup = Lookup::in_dir(dir.path());
        assert_eq!(
            lookup.resolve("example").unwrap().display,
            "built-in example.yaml"
        );
        assert!(lookup.resolve("team").unwrap().text.contains("team"));
        assert!(
            lookup
                .resolve(file.to_str().unwrap())
                .unwrap()
                .text
                .contains("other")
        );
        // A user profile named like a built-in one wins.
        std::fs::write(dir.path().join("profiles/small.yaml"), "namespace: mine\n").unwrap();
        assert!(lookup.resolve("small").unwrap().text.contains("mine"));
        let err = lookup.resolve("exampel").unwrap_err();
        assert!(err.hints.iter().any(|h| h.contains("`example`")), "{err:?}");
        assert_eq!(lookup.names(), ["example", "internal", "small", "team"]);
    }

    #[test]
    fn local_file_only_without_named_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let lookup = Lookup::in_dir(dir.path());
        assert!(lookup.select(&[]).unwrap().is_empty());
        std::fs::write(&lookup.local_file, "namespace: local\n").unwrap();
        assert_eq!(lookup.select(&[]).unwrap().len(), 1);
        assert_eq!(
            lookup.select(&["small".into()]).unwrap()[0].display,
            "built-in small.yaml"
        );
    }

    #[test]
    fn refuses_binary_and_huge_files() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin.yaml");
        std::fs::write(&bin, [0u8, 159, 146, 150]).unwrap();
        assert!(
            read_file(&bin, "bin.yaml".into())
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        let huge = dir.path().join("huge.yaml");
        std::fs::write(&huge, vec![b'#'; 2 * 1024 * 1024]).unwrap();
        assert!(
            read_file(&huge, "huge.yaml".into())
                .unwrap_err()
                .message
                .contains("1 MiB")
        );
    }
}
