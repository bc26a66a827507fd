//! Every call into the YAML crate lives here: parsing with line numbers, typed conversion with
//! field paths (and serde's error messages classified into [`FieldProblem`], so no other module
//! reads error text), finding the line of a field, and a small emitter whose output YAML 1.1
//! (Helm) and YAML 1.2 readers agree on.
//!
//! The document types, [`Value`] and [`Mapping`], are `serde_yaml`'s, re-exported from here and
//! used across the crate (settings hold raw chart values as them). Moving off `serde_yaml`
//! (deprecated upstream) to a fork with the same `Value` API (such as `serde_norway`) changes this
//! file and that one re-export; a crate with another document type would change every user.

mod emit;
mod locate;
mod parse;
mod tree;

pub use emit::emit;
pub use tree::{depth, get, get_path, merge, nest, set};
pub use locate::{locate, locate_value};
pub use parse::{
    FieldError, FieldProblem, SyntaxError, from_str, from_value, parse, parse_all, parse_flow,
    parse_trusted, to_value,
};
pub use serde_yaml::{Mapping, Value};
