//! Every call into the YAML crate lives here: parsing with line numbers, typed conversion with
//! field paths (and serde's error messages classified into [`FieldProblem`], so no other module
//! reads error text), finding the line of a field, walking a tree ([`tree`]), and a small emitter
//! whose output YAML 1.1 (Helm) and YAML 1.2 readers agree on.
//!
//! The document types, [`Value`] and [`Mapping`], are `serde_yaml`'s, re-exported from here; no
//! other module names the crate. `serde_yaml` is deprecated upstream. The fork to move to is
//! `serde_norway` (0.9.42 when tried): the same `Value` API and error texts, so the move is one
//! line in `Cargo.toml` (`serde_yaml = { package = "serde_norway", version = "0.9" }`) and
//! nothing in `src/`. Tried that way, every unit test and CLI test (error snapshots and the
//! bad-input corpus included) passed unchanged.

mod emit;
mod locate;
mod parse;
mod tree;

pub use emit::emit;
pub use locate::{locate, locate_value};
pub use parse::{
    FieldError, FieldProblem, SyntaxError, from_str, from_value, parse, parse_all, parse_flow,
    parse_trusted, to_value,
};
pub use serde_yaml::{Mapping, Value};
pub use tree::{depth, get, get_path, merge, nest, set};
