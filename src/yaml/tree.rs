//! Walking a YAML tree: reading and writing at a path, merging one tree over another, and
//! nesting a value under keys. One home, so that profiles, `--set`, the wizard, naming, the
//! manifest diff and chart versions walk trees the same way.

use super::{Mapping, Value};
use crate::field_path::{FieldPath, Segment};

/// `over` merged into `base`: maps merge key by key, anything else is replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

/// `[a, b]` and `v` → `{a: {b: v}}`.
pub fn nest(keys: Vec<String>, value: Value) -> Value {
    keys.into_iter().rev().fold(value, |inner, key| {
        let mut map = Mapping::new();
        map.insert(Value::String(key), inner);
        Value::Mapping(map)
    })
}

/// The value at `keys`, a path of map keys.
pub fn get<'v>(value: &'v Value, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().try_fold(value, |node, key| node.get(*key))
}

/// The value at `path`, through maps and lists.
pub fn get_path<'v>(value: &'v Value, path: &FieldPath) -> Option<&'v Value> {
    path.segments()
        .iter()
        .try_fold(value, |node, segment| match (segment, node) {
            (Segment::Key(key), Value::Mapping(map)) => map.get(key.as_str()),
            (Segment::Index(i), Value::Sequence(items)) => items.get(*i),
            _ => None,
        })
}

/// How many leading steps of `path` exist in `value`.
pub fn depth(value: &Value, path: &FieldPath) -> usize {
    (0..=path.segments().len())
        .rev()
        .find(|&n| get_path(value, &FieldPath(path.segments()[..n].to_vec())).is_some())
        .unwrap_or(0)
}

/// Puts `value` at `keys` in `root`, making maps on the way (and replacing what is not a map);
/// `None` removes the last key.
pub fn set(root: &mut Mapping, keys: &[&str], value: Option<Value>) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut map = root;
    for key in parents {
        let entry = map
            .entry(Value::String((*key).to_owned()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Value::Mapping(Mapping::new());
        }
        let Some(inner) = entry.as_mapping_mut() else {
            return;
        };
        map = inner;
    }
    match value {
        Some(value) => {
            map.insert(Value::String((*last).to_owned()), value);
        }
        None => {
            map.remove(*last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Value {
        crate::yaml::parse(text).unwrap()
    }

    #[test]
    fn maps_merge_and_the_rest_is_replaced() {
        let mut base = tree("a: {b: 1, c: [1, 2]}\nd: x\n");
        merge(&mut base, tree("a: {c: [3], e: 4}\nd: {f: 5}\n"));
        assert_eq!(base, tree("a: {b: 1, c: [3], e: 4}\nd: {f: 5}\n"));
    }

    #[test]
    fn paths_are_read_through_maps_and_lists() {
        let doc = tree("alb: {subnets: [a, b]}\n");
        let path = FieldPath(vec![
            Segment::Key("alb".into()),
            Segment::Key("subnets".into()),
            Segment::Index(1),
        ]);
        assert_eq!(get_path(&doc, &path).and_then(Value::as_str), Some("b"));
        assert_eq!(
            get(&doc, &["alb", "subnets"]).map(Value::is_sequence),
            Some(true)
        );
        assert_eq!(depth(&doc, &path), 3);
        assert_eq!(depth(&doc, &FieldPath::keys("alb.tags.team")), 1);
        assert_eq!(depth(&doc, &FieldPath::keys("nlb")), 0);
    }

    #[test]
    fn set_makes_maps_and_none_removes() {
        let mut root = Mapping::new();
        set(&mut root, &["a", "b"], Some(Value::from(1)));
        set(&mut root, &["a", "c"], Some(Value::from(2)));
        set(&mut root, &["a", "b"], None);
        assert_eq!(Value::Mapping(root.clone()), tree("a: {c: 2}\n"));
        set(&mut root, &["a", "c", "d"], Some(Value::from(3)));
        assert_eq!(Value::Mapping(root), tree("a: {c: {d: 3}}\n"));
        assert_eq!(
            nest(vec!["x".into(), "y".into()], Value::from(true)),
            tree("x: {y: true}\n")
        );
    }
}
