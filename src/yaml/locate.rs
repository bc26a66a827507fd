//! Finding the line of a field in a document, for error messages.

use crate::field_path::{FieldPath, Segment};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

const MARKER: &str = "eksmon-locate-marker";

/// The 1-based line of the field at `path` in `text` (or of its nearest existing parent).
///
/// serde_yaml keeps positions to itself, so this walks the document with a seed that fails on
/// purpose at the target node: the error it returns carries that node's position. Only error paths
/// call this.
pub fn locate(text: &str, path: &FieldPath) -> Option<usize> {
    let mut path = path.clone();
    loop {
        let seed = Locate {
            path: path.segments(),
            at_value: false,
        };
        if let Err(err) = seed.deserialize(serde_yaml::Deserializer::from_str(text))
            && err.to_string().contains(MARKER)
        {
            return err.location().map(|l| l.line());
        }
        path = path.parent()?;
        if path.is_empty() {
            return None;
        }
    }
}

/// The 1-based line and column where the value at `path` starts, when the field exists (to edit
/// a file in place).
pub fn locate_value(text: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let seed = Locate {
        path: path.segments(),
        at_value: true,
    };
    match seed.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Err(err) if err.to_string().contains(MARKER) => {
            err.location().map(|l| (l.line(), l.column()))
        }
        _ => None,
    }
}

struct Locate<'p> {
    path: &'p [Segment],
    /// Fail at the value rather than at its key.
    at_value: bool,
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            deserializer.deserialize_any(Here)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or sequence")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Segment::Key(want), rest)) = self.path.split_first() else {
            return Ok(());
        };
        while let Some(found) = map.next_key_seed(KeyIs {
            want,
            fail_on_match: rest.is_empty() && !self.at_value,
        })? {
            if found {
                return map.next_value_seed(Locate {
                    path: rest,
                    at_value: self.at_value,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Segment::Index(want), rest)) = self.path.split_first() else {
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate {
            path: rest,
            at_value: self.at_value,
        })
        .map(|_| ())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads a mapping key; with `fail_on_match`, fails at the key itself so the error has its line.
struct KeyIs<'a> {
    want: &'a str,
    fail_on_match: bool,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        if key == self.want && self.fail_on_match {
            return Err(E::custom(MARKER));
        }
        Ok(key == self.want)
    }
    fn visit_bool<E: de::Error>(self, key: bool) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_i64<E: de::Error>(self, key: i64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_u64<E: de::Error>(self, key: u64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_f64<E: de::Error>(self, key: f64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.visit_str("null")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// Fails at whatever node it is handed, so the error carries that node's position.
struct Here;

impl<'de> Visitor<'de> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_items_and_parents() {
        let text = "namespace: x\nalb:\n  scheme: internal\n  subnets:\n    - a\n    - b\n";
        let at = |p: &str| locate(text, &FieldPath::keys(p));
        assert_eq!(at("namespace"), Some(1));
        assert_eq!(at("alb.scheme"), Some(3));
        assert_eq!(at("alb.subnets"), Some(4));
        let item = FieldPath(vec![
            Segment::Key("alb".into()),
            Segment::Key("subnets".into()),
            Segment::Index(1),
        ]);
        assert_eq!(locate(text, &item), Some(6));
        // A missing key falls back to its parent.
        assert_eq!(at("alb.nope"), Some(2));
    }

    #[test]
    fn locates_values_in_block_and_flow_style() {
        let text = "charts:\n  grafana: {name: grafana, version: '12.11.1'}\n  prometheus:\n    version:   29.27.0 # pinned\n";
        let at = |p: &str| locate_value(text, &FieldPath::keys(p));
        assert_eq!(at("charts.prometheus.version"), Some((4, 16)));
        assert_eq!(at("charts.grafana.version"), Some((2, 37)));
        assert_eq!(at("charts.grafana.repo"), None);
    }
}
