//! One function per subcommand, and the one place that dispatches to them.

mod profiles;
mod render;

use crate::cli::{Command, ProfileArgs};
use crate::profile::{FlagValue, Request};
use crate::yaml::Value;
use anyhow::Result;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Render(args) => render::run(&args),
        Command::Profiles(command) => profiles::run(&command),
    }
}

/// What the profile options ask for, with dedicated flags turned into one-field layers.
fn request(args: &ProfileArgs) -> Request {
    let mut flags = Vec::new();
    if let Some(namespace) = &args.namespace {
        flags.push(FlagValue {
            flag: "--namespace",
            path: "namespace",
            value: Value::String(namespace.clone()),
        });
    }
    if let Some(exposure) = args.exposure {
        flags.push(FlagValue {
            flag: "--exposure",
            path: "exposure",
            value: crate::yaml::to_value(&exposure),
        });
    }
    Request {
        profiles: args.profiles.clone(),
        sets: args.sets.clone(),
        flags,
    }
}
