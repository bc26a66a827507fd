//! `eksmon export argocd|flux`: the GitOps objects, on stdout as a YAML stream or one file per
//! object.

use crate::cli::{EngineArg, ExportArgs};
use crate::context::Run;
use crate::error::{Origin, UserError};
use crate::export::{Destination, Engine, Options};
use crate::settings::{Chart, HttpsUrl, Namespace};
use anyhow::Result;

pub(super) fn run(run: &Run, args: &ExportArgs) -> Result<()> {
    let options = options(args)?;
    if let Some(path) = &args.fleet {
        return fleet(run, args, &options, path);
    }
    let (exported, bring) = exported(run, args, &options)?;
    match &args.out_dir {
        Some(dir) => {
            let named: Vec<(String, String)> = exported
                .iter()
                .map(|e| (e.file.clone(), crate::yaml::emit(&e.object)))
                .collect();
            super::write_files(&run.ui, dir, &named)?;
        }
        None => super::write_stdout(crate::export::stream(&exported).as_bytes())?,
    }
    for line in bring {
        run.ui.note(&line);
    }
    Ok(())
}

/// The objects for the profile `run` reads, and a line for each Secret the user must bring.
fn exported(
    run: &Run,
    args: &ExportArgs,
    options: &Options,
) -> Result<(Vec<crate::export::Exported>, Vec<String>)> {
    let charts: Vec<Chart> = super::selected(args.chart.map(Chart::from));
    let loaded = run.load(&args.profile, &charts)?;
    let charts = super::installed(&loaded, args.chart.map(Chart::from))?;
    let settings = &loaded.settings;
    crate::export::check_gitops_safe(settings, &charts, &loaded.provenance)?;
    // A fleet's lines say which cluster they are about.
    let about = run
        .member()
        .map(|m| format!("{}: ", m.name))
        .unwrap_or_default();
    for placeholder in crate::guard::placeholders(settings) {
        run.ui.warn(&format!("{about}{placeholder}"));
    }
    let exported = crate::export::objects(settings, &charts, options)?;
    let bring = crate::export::secrets_to_bring(settings, &charts)
        .into_iter()
        .map(|(namespace, name, keys)| format!(
            "{about}bring Secret `{name}` in namespace `{namespace}` (keys {}) with your secret tool: the objects name it and hold no password",
            keys.join(", ")
        ))
        .collect();
    Ok((exported, bring))
}

/// `--fleet`: every cluster's objects in `DIR/CLUSTER/`. Argo CD's Applications all live in the
/// one Argo CD, so each is named `CLUSTER-RELEASE` and sent to the cluster registered as
/// CLUSTER; Flux runs in each cluster and reads its own directory.
fn fleet(run: &Run, args: &ExportArgs, options: &Options, path: &std::path::Path) -> Result<()> {
    let fleet = crate::fleet::read(path)?;
    let members = fleet.pick(&args.clusters)?;
    let mut named = Vec::new();
    let mut bring = Vec::new();
    for member in members {
        let in_cluster = |err| super::fleet::in_cluster(member, err);
        if options.engine == Engine::ArgoCd
            && let Err(why) = crate::validate::dns_subdomain(&member.name)
        {
            return Err(UserError::input(format!(
                "name: `{}` cannot start an Argo CD Application's name: {why}",
                member.name
            ))
            .at(member.origin.clone())
            .into());
        }
        let member_options = Options {
            destination: Destination::Name(member.name.clone()),
            cluster: Some(member.name.clone()),
            ..options.clone()
        };
        let (objects, secrets) =
            exported(&run.for_member(member), args, &member_options).map_err(in_cluster)?;
        named.extend(objects.iter().map(|e| {
            (
                format!("{}/{}", member.name, e.file),
                crate::yaml::emit(&e.object),
            )
        }));
        bring.extend(secrets);
    }
    let dir = args.out_dir.as_deref().unwrap_or(std::path::Path::new("."));
    super::write_files(&run.ui, dir, &named)?;
    for line in bring {
        run.ui.note(&line);
    }
    Ok(())
}

/// The flags, checked: bad input stops the run before anything is read.
fn options(args: &ExportArgs) -> Result<Options, UserError> {
    let engine = match args.engine {
        EngineArg::Argocd => Engine::ArgoCd,
        EngineArg::Flux => Engine::Flux,
    };
    if engine == Engine::Flux {
        for (flag, given) in [
            ("--auto-sync", args.auto_sync),
            ("--destination-server", args.destination_server.is_some()),
            ("--destination-name", args.destination_name.is_some()),
        ] {
            if given {
                return Err(UserError::input(format!(
                    "{flag} is for Argo CD: Flux syncs on its interval, into the cluster it runs in"
                ))
                .at(Origin::Flag(flag.into())));
            }
        }
    }
    let namespace = args
        .gitops_namespace
        .as_deref()
        .unwrap_or(engine.default_namespace());
    let namespace = Namespace::try_from(namespace).map_err(|why| {
        UserError::input(format!("--gitops-namespace: {why}"))
            .at(Origin::Flag("--gitops-namespace".into()))
    })?;
    let destination = match (&args.destination_server, &args.destination_name) {
        (Some(url), _) => {
            let url = HttpsUrl::try_from(url.as_str()).map_err(|why| {
                UserError::input(format!("--destination-server: {why}"))
                    .at(Origin::Flag("--destination-server".into()))
            })?;
            Destination::Server(url.to_string())
        }
        (None, Some(name)) => {
            crate::validate::dns_subdomain(name).map_err(|why| {
                UserError::input(format!("--destination-name: `{name}`: {why}"))
                    .at(Origin::Flag("--destination-name".into()))
            })?;
            Destination::Name(name.clone())
        }
        (None, None) => Destination::Server("https://kubernetes.default.svc".into()),
    };
    Ok(Options {
        engine,
        namespace,
        destination,
        auto_sync: args.auto_sync,
        cluster: None,
    })
}
