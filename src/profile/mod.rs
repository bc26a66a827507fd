//! From profile files, `--set` and flags to one validated [`Settings`].
//!
//! Layers, lowest first: built-in defaults < `--profile`s (in order) < `./eksmon.yaml` or
//! `EKSMON_PROFILE` when no `--profile` is given < `--set`s < flags. Maps deep-merge, lists and
//! scalars replace. Each layer is checked as it is added, so an error names the layer (and line)
//! that set the offending field.

mod checks;
pub mod pin;
pub mod set;
pub mod source;

use crate::error::{Origin, UserError};
use crate::field_path::FieldPath;
use crate::settings::{Chart, Settings};
use crate::yaml::{self, FieldProblem, Value};
pub use source::Lookup;

/// What the command line asked for, before anything is read.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--profile NAME|PATH`, in order.
    pub profiles: Vec<String>,
    /// Layers with a place of their own (a fleet file's cluster: its name and `set` entries),
    /// over the profiles and under `--set`.
    pub placed: Vec<(Origin, Value)>,
    /// `--set key=value`, in order.
    pub sets: Vec<String>,
    /// Dedicated flags, already turned into a path and a value.
    pub flags: Vec<FlagValue>,
}

/// A flag such as `--exposure alb`, as a one-field layer.
#[derive(Debug, Clone)]
pub struct FlagValue {
    pub flag: &'static str,
    pub path: &'static str,
    pub value: Value,
}

/// One layer of settings and where it came from.
#[derive(Debug, Clone)]
struct Layer {
    origin: LayerOrigin,
    value: Value,
}

#[derive(Debug, Clone)]
enum LayerOrigin {
    /// A profile file; its text is kept to find lines for errors.
    File {
        display: String,
        text: String,
        path: Option<std::path::PathBuf>,
    },
    Set(String),
    Flag(&'static str),
    /// A layer that says where it came from itself.
    Placed(Origin),
}

impl Layer {
    fn origin_at(&self, path: &FieldPath) -> Origin {
        match &self.origin {
            LayerOrigin::File { display, text, .. } => Origin::File {
                name: display.clone(),
                line: yaml::locate(text, path),
            },
            LayerOrigin::Set(arg) => Origin::Set(arg.clone()),
            LayerOrigin::Flag(flag) => Origin::Flag((*flag).to_owned()),
            LayerOrigin::Placed(origin) => origin.clone(),
        }
    }
}

/// The layers behind a [`Settings`], to say where any field came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    layers: Vec<Layer>,
}

impl Provenance {
    /// The layer that last set `path` (or its deepest existing parent); defaults when none did.
    pub fn origin_of(&self, path: &FieldPath) -> Origin {
        let mut best: Option<(usize, &Layer)> = None;
        for layer in &self.layers {
            let depth = yaml::depth(&layer.value, path);
            if depth > 0 && best.is_none_or(|(d, _)| depth >= d) {
                best = Some((depth, layer));
            }
        }
        best.map_or(Origin::Defaults, |(_, layer)| layer.origin_at(path))
    }
}

/// A profile file to write a setting into, as read for this run.
#[derive(Debug, Clone)]
pub struct WritableProfile {
    pub path: std::path::PathBuf,
    pub display: String,
    pub text: String,
}

impl Provenance {
    /// The profile file where setting `field` takes effect: the file that last set it, or, when
    /// the defaults or a built-in profile did, the last profile file given after it. Bad input
    /// when `--set` or a flag sets it (a file would not win), or no file comes late enough.
    pub fn writable_file_for(&self, field: &FieldPath) -> Result<WritableProfile, UserError> {
        let setter = self
            .layers
            .iter()
            .rposition(|layer| yaml::depth(&layer.value, field) == field.segments().len());
        if let Some(layer) = setter.map(|i| &self.layers[i])
            && !matches!(layer.origin, LayerOrigin::File { .. })
        {
            return Err(UserError::input(format!(
                "{field} is set on the command line; drop that to change it in the profile file"
            ))
            .at(layer.origin_at(field)));
        }
        let writable = |layer: &Layer| match &layer.origin {
            LayerOrigin::File {
                display,
                text,
                path: Some(path),
            } => Some(WritableProfile {
                path: path.clone(),
                display: display.clone(),
                text: text.clone(),
            }),
            _ => None,
        };
        if let Some(found) = setter.and_then(|i| writable(&self.layers[i])) {
            return Ok(found);
        }
        let after = setter.map_or(0, |i| i + 1);
        self.layers[after.min(self.layers.len())..]
            .iter()
            .rev()
            .find_map(writable)
            .ok_or_else(|| {
                let origin = self.origin_of(field);
                UserError::input(format!(
                    "{field} comes from {origin}, which eksmon cannot write; name your profile file with --profile FILE (after any built-in one)"
                ))
            })
    }
}

/// Settings for one run, with where each came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub provenance: Provenance,
    /// Settings that load but are deprecated, one line each (the caller shows them).
    pub warnings: Vec<String>,
}

/// Reads, layers and validates everything `request` names, for rendering `charts`.
pub fn load(request: &Request, lookup: &Lookup, charts: &[Chart]) -> Result<Loaded, UserError> {
    let mut layers = Vec::new();
    for profile in lookup.select(&request.profiles)? {
        layers.push(file_layer(profile)?);
    }
    for (origin, value) in &request.placed {
        layers.push(Layer {
            origin: LayerOrigin::Placed(origin.clone()),
            value: value.clone(),
        });
    }
    for arg in &request.sets {
        layers.push(Layer {
            origin: LayerOrigin::Set(arg.clone()),
            value: set::parse(arg)?,
        });
    }
    for flag in &request.flags {
        let keys = flag.path.split('.').map(str::to_owned).collect();
        layers.push(Layer {
            origin: LayerOrigin::Flag(flag.flag),
            value: yaml::nest(keys, flag.value.clone()),
        });
    }
    layer_up(layers, charts)
}

/// Checks one profile's text on its own (defaults below it), as `--profile` would read it.
pub fn check_text(display: &str, text: &str, charts: &[Chart]) -> Result<Loaded, UserError> {
    let layer = file_layer(source::ProfileText {
        display: display.to_owned(),
        text: text.to_owned(),
        path: None,
    })?;
    layer_up(vec![layer], charts)
}

/// The rule of the profile checks that `path` (a dotted key, e.g. `alb.subnets`) breaks in
/// `settings`, as its message without the path: what the wizard says at that question.
pub fn rule_broken_at(settings: &Settings, path: &str) -> Option<String> {
    let err = checks::check(settings, &Chart::ALL, &Provenance::default()).err()?;
    let rest = err.message.strip_prefix(path)?;
    let rest = match rest.strip_prefix('[') {
        // `alb.subnets[1]: …`: an item of this list.
        Some(indexed) => indexed.split_once("]: ")?.1,
        None => rest.strip_prefix(": ")?,
    };
    Some(rest.to_owned())
}

/// Merges the layers in order, checking after each one so errors blame the right layer.
fn layer_up(layers: Vec<Layer>, charts: &[Chart]) -> Result<Loaded, UserError> {
    // Start from the defaults as a document, so a layer may set part of a map (say only
    // `charts.prometheus.repo`, for a mirror) and the rest comes from below.
    let mut merged = yaml::to_value(&Settings::default());
    let mut provenance = Provenance::default();
    let mut settings = Settings::default();
    for layer in layers {
        yaml::merge(&mut merged, layer.value.clone());
        provenance.layers.push(layer);
        settings = yaml::from_value(merged.clone()).map_err(|err| {
            let origin = provenance.origin_of(&err.path);
            UserError::input(describe(&err.path, &err.problem)).at(origin)
        })?;
    }
    checks::check(&settings, charts, &provenance)?;
    Ok(Loaded {
        warnings: checks::warnings(&settings, &provenance),
        settings,
        provenance,
    })
}

fn file_layer(profile: source::ProfileText) -> Result<Layer, UserError> {
    let at_line = |line| Origin::File {
        name: profile.display.clone(),
        line,
    };
    let value = yaml::parse(&profile.text).map_err(|err| {
        UserError::input(format!("invalid YAML: {}", err.message)).at(at_line(err.line))
    })?;
    match value {
        Value::Mapping(_) => Ok(Layer {
            origin: LayerOrigin::File {
                display: profile.display,
                text: profile.text,
                path: profile.path,
            },
            value,
        }),
        Value::Null => Err(UserError::input("profile is empty")
            .at(at_line(None))
            .hint("a profile is a YAML mapping such as `namespace: monitoring`; see `eksmon profiles show example`")),
        _ => Err(UserError::input("a profile must be a YAML mapping of settings")
            .at(at_line(Some(1)))
            .hint("see `eksmon profiles show example`")),
    }
}

/// One line for a field that does not fit, with a suggestion for misspelt keys and values.
pub fn describe(path: &FieldPath, problem: &FieldProblem) -> String {
    fn names(names: &[String]) -> impl Iterator<Item = &str> {
        names.iter().map(String::as_str)
    }
    let message = match problem {
        FieldProblem::UnknownKey { key, expected } => {
            let mut line = format!("unknown key `{path}`");
            // Receivers name a Secret; a URL or key written here would be a secret in the profile.
            let flat = key.to_ascii_lowercase().replace(['_', '-'], "");
            let secret_like = ["secret", "password", "token", "url", "apikey", "routingkey"]
                .iter()
                .any(|w| flat.contains(w));
            // AWS keys have no Secret to point at: the answer is a role.
            let aws_key = flat.contains("accesskey") || flat.contains("secretkey");
            let close = suggest(key, names(expected));
            if let Some(close) = close.filter(|c| secret_like && c.ends_with("Name")) {
                line += &format!(
                    ": secrets never go in a profile; keep it in a Kubernetes Secret and name that with `{close}`"
                );
            } else if let Some(close) = close {
                line += &format!(" (did you mean `{close}`?)");
            } else if aws_key {
                line += ": eksmon never takes AWS keys; give Prometheus a role with amp.auth irsa (and amp.roleArn) or podIdentity";
            } else if secret_like {
                line += ": secrets never go in a profile; keep them in a Kubernetes Secret and name it with `secretName`";
            } else if !expected.is_empty() {
                line += &format!(" (expected one of: {})", expected.join(", "));
            }
            return line;
        }
        FieldProblem::UnknownVariant { value, expected } => {
            let mut line = format!("{path}: `{value}` is not one of {}", expected.join(", "));
            if let Some(close) = suggest(value, names(expected)) {
                line += &format!(" (did you mean `{close}`?)");
            }
            return line;
        }
        FieldProblem::MissingKey { key } => format!("missing key `{key}`"),
        FieldProblem::WrongType { message } | FieldProblem::Invalid { message } => message.clone(),
    };
    if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// The closest candidate, when one is close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let fold = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let wrong = fold(wrong);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let folded = fold(candidate);
            let edits = strsim::levenshtein(&wrong, &folded);
            // `size` for `storageSize`: a key's last word is a likely shorthand.
            let shorthand = wrong.len() >= 4 && folded.ends_with(&wrong);
            let close = edits <= (wrong.len().max(folded.len()) / 3).max(1)
                || strsim::jaro_winkler(&wrong, &folded) >= 0.85
                || shorthand;
            close.then_some((edits, candidate))
        })
        .min_by_key(|(edits, _)| *edits)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Exposure;
    use std::path::Path;

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn request(profiles: &[&str], sets: &[&str]) -> Request {
        Request {
            profiles: profiles.iter().map(|s| (*s).to_owned()).collect(),
            sets: sets.iter().map(|s| (*s).to_owned()).collect(),
            flags: Vec::new(),
            ..Request::default()
        }
    }

    fn load_err(dir: &Path, req: &Request) -> String {
        load(req, &Lookup::in_dir(dir), &Chart::ALL)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn later_layers_win_and_maps_merge() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a.yaml",
            "namespace: a\nalb:\n  scheme: internal\n  tags: {team: a, env: dev}\n  subnets: [x-1, x-2, x-3]\n",
        );
        let b = write(
            dir.path(),
            "b.yaml",
            "namespace: b\nalb:\n  tags: {team: b}\n  subnets: [y-1, y-2]\n",
        );
        let mut req = request(&[&a, &b], &["namespace=c"]);
        req.flags.push(FlagValue {
            flag: "--exposure",
            path: "exposure",
            value: Value::String("nlb".into()),
        });
        let loaded = load(&req, &Lookup::in_dir(dir.path()), &Chart::ALL).unwrap();
        let s = loaded.settings;
        assert_eq!(s.namespace.as_str(), "c");
        assert_eq!(s.exposure, Exposure::Nlb);
        // Maps merge: `env` from a survives, `team` from b wins.
        let tags: Vec<String> = s.alb.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(tags, ["env=dev", "team=b"]);
        // Lists replace.
        assert_eq!(s.alb.subnets.len(), 2);
        // Untouched fields keep the defaults.
        assert_eq!(s.prometheus.storage_size.as_str(), "50Gi");
        assert_eq!(
            loaded.provenance.origin_of(&FieldPath::keys("namespace")),
            Origin::Set("namespace=c".into())
        );
        assert_eq!(
            loaded
                .provenance
                .origin_of(&FieldPath::keys("alb.tags.env"))
                .to_string(),
            format!("{a}:4")
        );
        assert_eq!(
            loaded
                .provenance
                .origin_of(&FieldPath::keys("grafana.release")),
            Origin::Defaults
        );
    }

    #[test]
    fn part_of_a_map_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(
            &[],
            &["charts.prometheus.repo=oci://mirror.example.com/charts"],
        );
        let s = load(&req, &Lookup::in_dir(dir.path()), &Chart::ALL)
            .unwrap()
            .settings;
        assert_eq!(
            s.charts.prometheus.repo.as_str(),
            "oci://mirror.example.com/charts"
        );
        assert_eq!(s.charts.prometheus.version.as_str(), "29.27.0");
    }

    #[test]
    fn errors_name_field_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "p.yaml",
            "namespace: ok\nalb:\n  subnets:\n    - subnet-0123abcd\n    - subnet-12\n",
        );
        let err = load_err(dir.path(), &request(&[&p], &[]));
        assert!(
            err.starts_with("alb.subnets[1]: `subnet-12` is not a subnet ID"),
            "{err}"
        );
        assert!(err.ends_with(&format!("({p}:5)")), "{err}");
    }

    #[test]
    fn unknown_keys_get_suggestions() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "p.yaml", "alb:\n  subnet: [a, b]\n");
        let err = load_err(dir.path(), &request(&[&p], &[]));
        assert_eq!(
            err,
            format!("unknown key `alb.subnet` (did you mean `subnets`?) ({p}:2)")
        );
        let err = load_err(dir.path(), &request(&[], &["prometheus.storage_size=10Gi"]));
        assert_eq!(
            err,
            "unknown key `prometheus.storage_size` (did you mean `storageSize`?) (--set prometheus.storage_size=10Gi)"
        );
        let err = load_err(dir.path(), &request(&[], &["exposure=elb"]));
        assert!(
            err.contains("`elb` is not one of alb, nlb, none (did you mean `alb`?)"),
            "{err}"
        );
    }

    #[test]
    fn type_errors_read_well() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_err(dir.path(), &request(&[], &["alb.subnets=subnet-0123abcd"]));
        assert!(
            err.starts_with(
                "alb.subnets: invalid type: string \"subnet-0123abcd\", expected a list"
            ),
            "{err}"
        );
        let err = load_err(dir.path(), &request(&[], &["alb=3"]));
        assert!(err.contains("expected a mapping"), "{err}");
    }

    #[test]
    fn yaml_syntax_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "tabs.yaml", "alb:\n\tscheme: internal\n");
        assert!(load_err(dir.path(), &request(&[&p], &[])).ends_with(&format!("({p}:2)")));
        let p = write(dir.path(), "empty.yaml", "# nothing\n");
        assert!(load_err(dir.path(), &request(&[&p], &[])).starts_with("profile is empty"));
        let p = write(dir.path(), "list.yaml", "- a\n");
        assert!(load_err(dir.path(), &request(&[&p], &[])).contains("YAML mapping"));
        let p = write(dir.path(), "dup.yaml", "namespace: a\nnamespace: b\n");
        assert!(load_err(dir.path(), &request(&[&p], &[])).contains("duplicate"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("subnet", ["subnets", "scheme"]), Some("subnets"));
        assert_eq!(
            suggest("storage_class", ["storageClass"]),
            Some("storageClass")
        );
        assert_eq!(suggest("zzz", ["subnets", "scheme"]), None);
    }
}
