//! A fleet file: the clusters one command runs against, each with its kubeconfig context, its
//! profile layers and its `set` overrides. Read and checked here (every key, name and context
//! with its line), before anything runs; running them is the fleet command's job.

use crate::error::{Origin, UserError};
use crate::field_path::{FieldPath, Segment};
use crate::yaml::{self, Mapping, Value};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Clusters run at once unless the file says otherwise: all of them, up to this many.
pub(crate) const MAX_DEFAULT_PARALLEL: usize = 8;

/// A fleet file, read and checked.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    /// The file as the person named it, for messages.
    pub display: String,
    /// How many clusters run at once.
    pub parallel: usize,
    pub clusters: Vec<Member>,
}

/// One cluster of a fleet.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The name in every report, and the cluster label (`cluster.name`).
    pub name: String,
    /// The kubeconfig context; `None`: the kubeconfig's current one.
    pub context: Option<String>,
    /// The kubeconfig file, relative paths taken from the fleet file's directory.
    pub kubeconfig: Option<PathBuf>,
    /// Profile layers, as `--profile` takes them; paths relative to the fleet file.
    pub profiles: Vec<String>,
    /// Settings layered over the profiles (the name as `cluster.name`, then each `set` entry),
    /// each with its line in the fleet file.
    pub layers: Vec<(Origin, Value)>,
    /// Where the cluster's entry is (its `name:` line), for messages about it.
    pub origin: Origin,
    /// Where its context is named (for a context the kubeconfig lacks).
    pub context_origin: Origin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    parallel: Option<usize>,
    clusters: Vec<ClusterEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterEntry {
    name: String,
    context: Option<String>,
    kubeconfig: Option<PathBuf>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    set: Mapping,
}

/// Reads and checks the fleet file at `path`.
pub(crate) fn read(path: &Path) -> Result<Fleet, UserError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| {
        UserError::input(format!("cannot read fleet file `{display}`: {err}"))
            .at(Origin::Flag("--fleet".into()))
    })?;
    parse(&display, path.parent().unwrap_or(Path::new("")), &text)
}

/// Parses a fleet file's text; `dir` is where its relative paths start.
fn parse(display: &str, dir: &Path, text: &str) -> Result<Fleet, UserError> {
    let at = |path: &FieldPath| Origin::File {
        name: display.to_owned(),
        line: yaml::locate(text, path),
    };
    let value = yaml::parse(text).map_err(|err| {
        UserError::input(format!("invalid YAML: {}", err.message)).at(Origin::File {
            name: display.to_owned(),
            line: err.line,
        })
    })?;
    let file: FleetFile = yaml::from_value(value).map_err(|err| {
        UserError::input(crate::profile::describe(&err.path, &err.problem))
            .at(at(&err.path))
            .hint("a fleet file has `parallel` and `clusters: [{name, context, kubeconfig, profiles, set}]`")
    })?;
    if file.clusters.is_empty() {
        return Err(UserError::input("clusters: the fleet has no cluster")
            .at(at(&FieldPath::keys("clusters"))));
    }
    let parallel = match file.parallel {
        Some(0) => {
            return Err(UserError::input("parallel: must be at least 1")
                .at(at(&FieldPath::keys("parallel"))));
        }
        Some(n) => n,
        None => file.clusters.len().min(MAX_DEFAULT_PARALLEL),
    };
    let mut clusters: Vec<Member> = Vec::new();
    for (index, entry) in file.clusters.into_iter().enumerate() {
        let field = |key: &str| {
            FieldPath(vec![
                Segment::Key("clusters".into()),
                Segment::Index(index),
                Segment::Key(key.into()),
            ])
        };
        let member = member(entry, dir, &|key| at(&field(key)), &|key, set_key| {
            let mut path = field(key);
            path.0.push(Segment::Key(set_key.into()));
            at(&path)
        })?;
        if let Some(first) = clusters.iter().find(|c| c.name == member.name) {
            return Err(UserError::input(format!(
                "clusters[{index}].name: `{}` is already the name of another cluster (at {})",
                member.name, first.origin
            ))
            .at(member.origin)
            .hint("each cluster needs its own name: it is its `cluster` label and its name in reports"));
        }
        clusters.push(member);
    }
    Ok(Fleet {
        display: display.to_owned(),
        parallel,
        clusters,
    })
}

/// One cluster entry, checked; `at(key)` is where its key is, `at_set(key, set_key)` where one
/// of its `set` entries is.
fn member(
    entry: ClusterEntry,
    dir: &Path,
    at: &dyn Fn(&str) -> Origin,
    at_set: &dyn Fn(&str, &str) -> Origin,
) -> Result<Member, UserError> {
    let name = entry.name;
    crate::validate::cluster_name(&name)
        .map_err(|why| UserError::input(format!("name: {why}")).at(at("name")))?;
    if entry.context.is_none() && entry.kubeconfig.is_none() {
        return Err(UserError::input(format!(
            "cluster `{name}`: neither `context` nor `kubeconfig` says how to reach it"
        ))
        .at(at("name"))
        .hint("give its kubeconfig context (`kubectl config get-contexts` lists them), or `kubeconfig: PATH`, or both"));
    }
    if let Some(context) = &entry.context
        && context.trim().is_empty()
    {
        return Err(
            UserError::input(format!("cluster `{name}`: context: empty")).at(at("context")),
        );
    }
    let mut layers = vec![(
        at("name"),
        yaml::nest(
            vec!["cluster".into(), "name".into()],
            Value::String(name.clone()),
        ),
    )];
    for (key, value) in entry.set {
        let origin_key = key.as_str().unwrap_or_default().to_owned();
        let keys = crate::profile::set::split_key(&origin_key).map_err(|why| {
            UserError::input(format!("cluster `{name}`: set: {why}")).at(at_set("set", &origin_key))
        })?;
        if keys == ["cluster", "name"] {
            return Err(UserError::input(format!(
                "cluster `{name}`: set: cluster.name is the cluster's `name`"
            ))
            .at(at_set("set", &origin_key)));
        }
        layers.push((at_set("set", &origin_key), yaml::nest(keys, value)));
    }
    Ok(Member {
        origin: at("name"),
        context_origin: if entry.context.is_some() {
            at("context")
        } else {
            at("kubeconfig")
        },
        name,
        context: entry.context,
        kubeconfig: entry.kubeconfig.map(|path| dir.join(path)),
        profiles: entry
            .profiles
            .into_iter()
            .map(|spec| relative_to(dir, spec))
            .collect(),
        layers,
    })
}

/// A profile named by path is read from beside the fleet file; a name is looked up as
/// `--profile` looks it up.
fn relative_to(dir: &Path, spec: String) -> String {
    let is_name = spec
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if is_name || Path::new(&spec).is_absolute() || dir.as_os_str().is_empty() {
        spec
    } else {
        dir.join(spec).display().to_string()
    }
}

impl Fleet {
    /// The clusters `names` picks (every one when empty), in the file's order. A name the fleet
    /// does not have is bad input.
    pub(crate) fn pick(&self, names: &[String]) -> Result<Vec<&Member>, UserError> {
        if let Some(unknown) = names
            .iter()
            .find(|name| !self.clusters.iter().any(|c| &c.name == *name))
        {
            let known: Vec<&str> = self.clusters.iter().map(|c| c.name.as_str()).collect();
            let mut err = UserError::input(format!(
                "no cluster `{unknown}` in {} (it has {})",
                self.display,
                known.join(", ")
            ))
            .at(Origin::Flag("--cluster".into()));
            if let Some(close) = crate::profile::suggest(unknown, known.iter().copied()) {
                err = err.hint(format!("did you mean `{close}`?"));
            }
            return Err(err);
        }
        Ok(self
            .clusters
            .iter()
            .filter(|c| names.is_empty() || names.contains(&c.name))
            .collect())
    }

    /// The cluster named `name` (a member run's own).
    pub(crate) fn member(&self, name: &str) -> Result<&Member, UserError> {
        Ok(self.pick(&[name.to_owned()])?[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(text: &str) -> Result<Fleet, UserError> {
        parse("fleet.yaml", Path::new("ops"), text)
    }

    fn error(text: &str) -> String {
        fleet(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_clusters_with_their_layers_and_lines() {
        let fleet = fleet(
            "clusters:\n  - name: prod-eu\n    context: eu\n    profiles: [base, prod.yaml]\n    set:\n      prometheus.retention: 30d\n  - name: prod-us\n    kubeconfig: us.kubeconfig\n",
        )
        .unwrap();
        assert_eq!(fleet.parallel, 2);
        let eu = &fleet.clusters[0];
        assert_eq!(eu.profiles, ["base", "ops/prod.yaml"]);
        assert_eq!(eu.layers.len(), 2);
        assert_eq!(eu.layers[1].0.to_string(), "fleet.yaml:6");
        assert_eq!(
            yaml::emit(&eu.layers[1].1).trim(),
            "prometheus:\n  retention: \"30d\""
        );
        assert_eq!(eu.origin.to_string(), "fleet.yaml:2");
        let us = &fleet.clusters[1];
        assert_eq!(
            us.kubeconfig.as_deref(),
            Some(Path::new("ops/us.kubeconfig"))
        );
        assert_eq!(us.context, None);
        assert_eq!(us.context_origin.to_string(), "fleet.yaml:8");
    }

    #[test]
    fn bad_fleets_are_named_with_their_line() {
        assert_eq!(
            error("clusters:\n  - name: a\n    contxt: eu\n"),
            "unknown key `clusters[0].contxt` (did you mean `context`?) (fleet.yaml:3)"
        );
        assert_eq!(
            error("clusters:\n  - name: a\n    context: x\n  - name: a\n    context: y\n"),
            "clusters[1].name: `a` is already the name of another cluster (at fleet.yaml:2) (fleet.yaml:4)"
        );
        assert_eq!(
            error("clusters:\n  - name: a\n    profiles: [base]\n"),
            "cluster `a`: neither `context` nor `kubeconfig` says how to reach it (fleet.yaml:2)"
        );
        assert_eq!(
            error("parallel: 0\nclusters:\n  - name: a\n    context: x\n"),
            "parallel: must be at least 1 (fleet.yaml:1)"
        );
        assert_eq!(
            error("clusters:\n  - name: a\n    context: x\n    set: {cluster.name: b}\n"),
            "cluster `a`: set: cluster.name is the cluster's `name` (fleet.yaml:4)"
        );
        assert!(error("clusters: []\n").starts_with("clusters: the fleet has no cluster"));
    }

    #[test]
    fn picks_clusters_by_name() {
        let fleet =
            fleet("parallel: 1\nclusters:\n  - {name: a, context: x}\n  - {name: b, context: y}\n")
                .unwrap();
        assert_eq!(fleet.parallel, 1);
        assert_eq!(fleet.pick(&[]).unwrap().len(), 2);
        assert_eq!(fleet.pick(&["b".into()]).unwrap()[0].name, "b");
        let err = fleet.pick(&["c".into()]).unwrap_err().to_string();
        assert_eq!(
            err,
            "no cluster `c` in fleet.yaml (it has a, b) (--cluster)"
        );
    }
}
