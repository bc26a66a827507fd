//! `eksmon install`: both releases with `helm upgrade --install`, in parallel, from cached charts.

use super::joined;
use crate::charts::{ChartCache, Fetched};
use crate::cli::{InstallArgs, ProfileArgs};
use crate::context::{Run, Target};
use crate::error::{Origin, ReleaseFailure, ReleaseFailures, UserError};
use crate::helm::{DryRun, Helm, ListedRelease, ReleaseOutcome, Upgrade};
use crate::kube::{self, ApiFailure};
use crate::naming::{grafana_fullname, prometheus_server_fullname};
use crate::scratch::ScratchFile;
use crate::settings::{Chart, Exposure, Settings};
use crate::tool::{Invocation, Tool};
use crate::ui::{Task, Ui};
use crate::validate;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// helm's own `--timeout` default.
const HELM_DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// eksmon's backstop for one helm upgrade, never shorter than what helm may rightly take:
/// helm's `--timeout` bounds each wait, and with `--wait` a failed upgrade is rolled back with a
/// wait as long again (also after an interrupt). Stopping helm inside that rollback would leave
/// the release `pending-rollback`, so: one timeout per wait, plus one more (10 s to 60 s) for
/// hooks and API calls.
fn deadline(timeout: Option<Duration>, wait: bool) -> Duration {
    let timeout = timeout.unwrap_or(HELM_DEFAULT_TIMEOUT);
    let waits = if wait { 2 } else { 1 };
    timeout * waits + timeout.clamp(Duration::from_secs(10), Duration::from_secs(60))
}

/// What the command line asks for, parsed and checked once.
struct Plan<'a> {
    charts: Vec<Chart>,
    timeout: Option<Duration>,
    wait: bool,
    force: bool,
    dry_run: bool,
    diff: bool,
    /// Upgrade releases whose chart and values are as deployed, too.
    reconcile: bool,
    allow_public: bool,
    /// Label the namespaces for Pod Security (not `--no-pod-security`).
    pod_security: bool,
    /// The profile options as given, for the commands printed afterwards.
    profile: &'a ProfileArgs,
}

impl<'a> Plan<'a> {
    fn new(args: &'a InstallArgs) -> Result<Self> {
        let timeout = args
            .timeout
            .as_deref()
            .map(validate::go_duration)
            .transpose()
            .map_err(|why| UserError::input(why).at(Origin::Flag("--timeout".into())))?;
        Ok(Self {
            charts: super::selected(args.only.map(Chart::from)),
            timeout,
            wait: args.wait,
            force: args.force,
            dry_run: args.dry_run,
            reconcile: args.reconcile,
            diff: args.diff,
            allow_public: args.allow_public,
            pod_security: !args.no_pod_security,
            profile: &args.profile,
        })
    }
}

pub(super) fn run(run: &Run, args: &InstallArgs) -> Result<()> {
    let result = install(run, args);
    match result {
        Err(err) if args.dry_run && unreachable(&err) => Err(dry_run_needs_a_cluster(err)),
        other => other,
    }
}

/// True when helm or kubectl (for any release) got no answer from the cluster.
fn unreachable(err: &anyhow::Error) -> bool {
    let no_answer = |err: &anyhow::Error| ApiFailure::of(err) == Some(ApiFailure::Unreachable);
    match err.downcast_ref::<ReleaseFailures>() {
        Some(ReleaseFailures(failures)) => failures.iter().any(|f| no_answer(&f.error)),
        None => no_answer(err),
    }
}

const DRY_RUN_HINT: &str = "install --dry-run is helm's dry run against the cluster (it checks the objects with the API server); without a cluster, `eksmon render` prints the values and `helm template` renders them";

/// An unreachable cluster on a dry run: the way to render without one.
fn dry_run_needs_a_cluster(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<ReleaseFailures>() {
        Ok(ReleaseFailures(mut failures)) => {
            for failure in &mut failures {
                failure.hint(DRY_RUN_HINT);
            }
            ReleaseFailures(failures).into()
        }
        Err(err) => crate::error::with_hint(err, DRY_RUN_HINT),
    }
}

fn install(run: &Run, args: &InstallArgs) -> Result<()> {
    let mut plan = Plan::new(args)?;
    let loaded = run.load(&args.profile, &plan.charts)?;
    let settings = &loaded.settings;
    plan.charts = super::installed(&loaded, args.only.map(Chart::from))?;
    // Everything is rendered before any process starts: bad input stops the run here.
    // Each tree is kept beside its text, to compare with what is deployed.
    let rendered = plan
        .charts
        .iter()
        .map(|&chart| Ok((chart, crate::render::values(settings, chart)?)))
        .collect::<Result<Vec<_>>>()?;
    let documents: Vec<(Chart, String)> = rendered
        .iter()
        .map(|(chart, tree)| (*chart, crate::render::document(settings, *chart, tree)))
        .collect();

    let ui = &run.ui;
    for placeholder in crate::guard::placeholders(settings) {
        ui.warn(&placeholder);
    }
    guard_public(settings, &plan, ui)?;
    if plan.diff {
        plan.charts = changed_releases(run, settings, &plan.charts)?;
        if plan.charts.is_empty() {
            return Ok(());
        }
    }
    let plan = &plan;
    let charts = &plan.charts;
    let documents: Vec<_> = documents
        .into_iter()
        .filter(|(chart, _)| charts.contains(chart))
        .collect();
    let helm_tool = run.helm_tool()?;
    let cache = run.chart_cache()?;
    let mut stdout_text = String::new();
    if settings.create_storage_class {
        stdout_text += &storage_class(run, settings, plan)?;
    }
    if !plan.dry_run {
        namespaces(run, settings, plan)?;
    }
    let owned = if charts.contains(&Chart::Grafana) {
        crate::secrets::owned(settings)
    } else {
        Vec::new()
    };

    let values = documents
        .iter()
        .map(|(chart, text)| {
            let file =
                ScratchFile::with_contents(&format!("eksmon-{}-", chart.name()), text.as_bytes())
                    .context("cannot write a temporary values file")?;
            Ok((*chart, file))
        })
        .collect::<Result<Vec<_>>>()?;
    let deadline = deadline(plan.timeout, plan.wait);
    let progress = ui.progress();
    let job = Job {
        cache: &cache,
        settings,
        plan,
        target: &run.target,
        deadline,
        rendered,
    };
    let (helm, outcomes, made) = run_releases(run, &job, &helm_tool, &values, &owned, &progress);
    let helm = helm?;
    drop(values);
    say_made(ui, settings, &made);

    let (mut failures, mut upgrades_failed) = (Vec::new(), Vec::new());
    for (chart, outcome) in outcomes {
        let release = settings.release(chart).as_str();
        match outcome {
            Ok(Ok(Applied::Ran(outcome))) if plan.dry_run => {
                stdout_text += outcome.manifest.as_deref().unwrap_or_default();
            }
            Ok(Ok(_)) => ui.note(&how_to_reach(run, settings, chart, plan)),
            Ok(Err(err)) => upgrades_failed.push(ReleaseFailure::new(release, err)),
            Err(err) => failures.push(ReleaseFailure::new(release, err)),
        }
    }
    if !stdout_text.is_empty() {
        super::write_stdout(stdout_text.as_bytes())?;
    }
    // Only an upgrade that ran can have left a release behind in the cluster.
    if !plan.dry_run && !upgrades_failed.is_empty() {
        add_recovery_hints(&helm, settings, &run.target, &mut upgrades_failed);
    }
    failures.extend(upgrades_failed);
    ReleaseFailures::check(failures)
}

/// Each release's upgrade, as far as it got: outer error, helm never ran for it; inner, what its
/// upgrade did.
type Outcome = Result<Result<Applied>>;

/// What happened to a release whose helm ran, or that was left alone.
enum Applied {
    Ran(ReleaseOutcome),
    /// Deployed with this very chart and these values: no upgrade, no new revision.
    Unchanged,
}

/// helm with its version, shared by the release threads.
type SharedHelm = Result<std::sync::Arc<Helm>>;

/// A Secret of eksmon's for Grafana, and how it came to be.
type MadeSecret = (crate::secrets::Owned, crate::secrets::Made);

/// Grafana's Secrets, helm's version and the charts side by side (the version only shapes the
/// upgrade's flags), then each release's upgrade once its chart is there.
fn run_releases(
    run: &Run,
    job: &Job<'_>,
    helm_tool: &Tool,
    values: &[(Chart, ScratchFile)],
    owned: &[crate::secrets::Owned],
    progress: &crate::ui::Progress,
) -> (SharedHelm, Vec<(Chart, Outcome)>, Vec<MadeSecret>) {
    let (settings, plan) = (job.settings, job.plan);
    std::thread::scope(|scope| {
        // Grafana's Secrets exist before its release names them; made while the charts come.
        let secrets = scope.spawn(|| grafana_secrets(run, settings, owned, plan));
        let version = scope.spawn(|| -> Result<(Helm, Option<Vec<ListedRelease>>)> {
            let helm = Helm::detect(helm_tool.clone(), run.helm_versions_cache().as_deref())?;
            // Which releases exist, for the word on each progress line; unknown if helm cannot
            // tell (the upgrade then says why).
            let existing = (!plan.dry_run)
                .then(|| helm.list(Some(settings.namespace.as_str()), &run.target))
                .and_then(Result::ok);
            Ok((helm, existing))
        });
        let fetching: Vec<_> = values
            .iter()
            .map(|(chart, file)| {
                let task = progress.task(settings.release(*chart).as_str());
                let (job, helm_tool) = (&job, &helm_tool);
                let fetch = scope.spawn(move || {
                    job.fetch(helm_tool, *chart, &task)
                        .map(|archive| (archive, task))
                });
                (*chart, file, fetch)
            })
            .collect();
        let (helm, existing) = match joined(version.join()) {
            Ok((helm, existing)) => (Ok(std::sync::Arc::new(helm)), existing),
            Err(err) => (Err(err), None),
        };
        let existing = std::sync::Arc::new(existing);
        // Without its Secrets, Grafana is not installed; Prometheus still is.
        let (made, mut secrets_failed) = match joined(secrets.join()) {
            Ok(made) => (made, None),
            Err(err) => (Vec::new(), Some(err)),
        };
        let upgrading: Vec<_> = fetching
            .into_iter()
            .map(|(chart, file, fetch)| {
                let job = &job;
                let helm = helm.as_ref().ok().cloned();
                let existing = std::sync::Arc::clone(&existing);
                let blocked = secrets_failed.take_if(|_| chart == Chart::Grafana);
                // Outer error: helm never ran for this release; inner: what its upgrade did.
                let upgrade = scope.spawn(move || {
                    let ((archive, how), task) = joined(fetch.join())?;
                    if let Some(err) = blocked {
                        task.finish("failed");
                        return Err(err);
                    }
                    let helm = helm.ok_or_else(|| anyhow::anyhow!("helm is not usable"))?;
                    if let Some(revision) = job.unchanged(&helm, chart, existing.as_deref()) {
                        task.finish(&format!("unchanged (revision {revision})"));
                        return Ok(Ok(Applied::Unchanged));
                    }
                    task.step(&job.step(chart, how, existing.as_deref()));
                    Ok(job
                        .upgrade(&helm, chart, &archive, file.path(), &task)
                        .map(Applied::Ran))
                });
                (chart, upgrade)
            })
            .collect();
        let outcomes: Vec<(Chart, Outcome)> = upgrading
            .into_iter()
            .map(|(chart, upgrade)| (chart, joined(upgrade.join())))
            .collect();
        (helm, outcomes, made)
    })
}

/// Says why helm could not do its job when the cluster said (no rights, no answer), what a
/// failed or interrupted upgrade left behind, and the command that frees a release left pending.
fn add_recovery_hints(
    helm: &Helm,
    settings: &Settings,
    target: &Target,
    failures: &mut [ReleaseFailure],
) {
    let namespace = settings.namespace.as_str();
    let mut reachable = true;
    for failure in failures.iter_mut() {
        let stderr = crate::kube::tool_stderr(&failure.error).unwrap_or_default();
        if let Some(owner) = owning_namespace(stderr) {
            failure.hint(format!(
                "a release named `{}` exists in namespace `{owner}`, and the chart's cluster-wide objects (ClusterRoles and their bindings) belong to it: work on that one with `-n {owner}`, or install here under other names (`--set prometheus.release=NAME --set grafana.release=NAME`)",
                failure.release
            ));
            continue;
        }
        match ApiFailure::from_stderr(stderr) {
            Some(ApiFailure::Forbidden) if stderr.contains("clusterrole") => failure.hint(
                "this identity may not create cluster-wide objects: both charts make ClusterRoles and ClusterRoleBindings; install as an identity that may (cluster-admin, or an EKS access entry with AmazonEKSClusterAdminPolicy)",
            ),
            Some(ApiFailure::Forbidden) => failure.hint(format!(
                "this identity lacks rights the charts need: `kubectl auth can-i --list --namespace {namespace}` shows what it may do"
            )),
            Some(ApiFailure::Unreachable | ApiFailure::Unauthorized) => {
                reachable = false;
                failure.hint(
                    "once the cluster answers, `eksmon status` shows where each release stands",
                );
            }
            _ => {}
        }
    }
    if !reachable {
        return;
    }
    let Ok(listed) = helm.list(Some(namespace), target) else {
        return;
    };
    // A failure that says which release owns the objects needs nothing more.
    let owned_elsewhere = |f: &ReleaseFailure| {
        owning_namespace(crate::kube::tool_stderr(&f.error).unwrap_or_default()).is_some()
    };
    for failure in failures.iter_mut().filter(|f| !owned_elsewhere(f)) {
        let Some(release) = listed.iter().find(|r| r.name == failure.release) else {
            continue;
        };
        if refused_in_place(&failure.error) {
            failure.hint(
                "Kubernetes refuses to change that object in place, so eksmon install would fail the same way again: `eksmon diff` names the change and the way out",
            );
            continue;
        }
        let hint = match helm.recovery(release, target) {
            Some(command) => format!(
                "{} is left {} (revision {}); when no other helm works on it, free it with `{command}`, then run eksmon install again",
                release.name, release.status, release.revision
            ),
            None if release.status == "failed" => format!(
                "{} is at revision {} (failed); `{}` shows each attempt; eksmon install tries again",
                release.name,
                release.revision,
                crate::helm::command_line(&["history", &release.name], namespace, target)
            ),
            None => continue,
        };
        failure.hint(hint);
    }
}

/// True when the API server refused an update of fields it keeps immutable (a claim's spec, a
/// StatefulSet's templates): trying again cannot succeed.
fn refused_in_place(error: &anyhow::Error) -> bool {
    let stderr = crate::kube::tool_stderr(error).unwrap_or_default();
    stderr.contains("is immutable") || stderr.contains("Forbidden: updates to statefulset spec")
}

/// The namespace whose release owns an object helm would not take over: helm says
/// `"meta.helm.sh/release-namespace" must equal "HERE": current value is "THERE"`.
fn owning_namespace(stderr: &str) -> Option<&str> {
    let (_, after) = stderr.split_once("\"meta.helm.sh/release-namespace\" must equal")?;
    let (_, value) = after.split_once("current value is \"")?;
    value.split('"').next().filter(|ns| !ns.is_empty())
}

/// `install --diff`: prints what the install changes, then asks before going on (on a terminal;
/// without one, it goes on). The releases that change; none when there is nothing to do or the
/// answer is no.
fn changed_releases(run: &Run, settings: &Settings, charts: &[Chart]) -> Result<Vec<Chart>> {
    let super::diff::Compared { reports, failures } = super::diff::compare(run, settings, charts)?;
    let text = super::diff::text(
        &reports,
        crate::printer::colour(crate::printer::Stream::Stdout),
    );
    super::write_stdout(text.as_bytes())?;
    // Nothing is installed unless every release could be compared.
    ReleaseFailures::check(failures)?;
    let (changed, unchanged): (Vec<_>, Vec<_>) =
        reports.iter().partition(|report| report.has_changes());
    for report in &unchanged {
        run.ui.note(&format!(
            "{}: nothing to change; left as it is",
            report.release
        ));
    }
    if changed.is_empty() {
        run.ui.note("nothing to change; helm was not run");
        return Ok(Vec::new());
    }
    for report in &changed {
        for refusal in &report.refusals {
            run.ui.warn(&format!(
                "{}: Kubernetes will refuse to change {} {}: {}",
                report.release, refusal.key, refusal.field, refusal.instead
            ));
        }
    }
    let names: Vec<&str> = changed.iter().map(|r| r.release.as_str()).collect();
    if run.ui.interactive() {
        let question = format!("Apply these changes to {}?", names.join(" and "));
        if !run.ui.confirm(&question, UserError::input("no terminal"))? {
            return Err(UserError::declined("nothing was installed").into());
        }
    } else {
        run.ui.note(&format!(
            "no terminal to ask: applying the changes to {}",
            names.join(" and ")
        ));
    }
    Ok(changed.iter().map(|report| report.of).collect())
}

/// Warns about components open to the whole internet, and installs them only when the person
/// at the terminal says so, or `--allow-public` does. A dry run only warns.
fn guard_public(settings: &Settings, plan: &Plan<'_>, ui: &Ui) -> Result<()> {
    let public = crate::guard::public_endpoints(settings, &plan.charts);
    if public.is_empty() {
        return Ok(());
    }
    for endpoint in &public {
        ui.warn(&endpoint.warning);
    }
    if plan.allow_public || plan.dry_run {
        return Ok(());
    }
    let restrict = crate::guard::how_to_restrict(settings);
    let no_terminal = UserError::input(
        "refusing to open monitoring to the whole internet without a terminal to confirm it; pass --allow-public to install anyway",
    )
    .hint(restrict);
    if ui.confirm(
        "Install with these endpoints open to the whole internet?",
        no_terminal,
    )? {
        Ok(())
    } else {
        Err(UserError::declined("nothing was installed")
            .hint(restrict)
            .into())
    }
}

/// What the release threads need.
struct Job<'a> {
    cache: &'a ChartCache,
    settings: &'a Settings,
    plan: &'a Plan<'a>,
    target: &'a Target,
    deadline: Duration,
    /// Each release's values as a tree, to compare with what is deployed.
    rendered: Vec<(Chart, crate::yaml::Value)>,
}

impl Job<'_> {
    fn fetch(&self, helm: &Tool, chart: Chart, task: &Task) -> Result<(PathBuf, Fetched)> {
        let chart_ref = self.settings.chart_ref(chart);
        super::fetch_chart(self.cache, helm, chart_ref, task)
    }

    /// The progress line while helm works: `installing` a release that is not there yet,
    /// `upgrading` one that is.
    fn step(&self, chart: Chart, how: Fetched, existing: Option<&[ListedRelease]>) -> String {
        let release = self.settings.release(chart).as_str();
        let verb = match existing {
            _ if self.plan.dry_run => "rendering",
            Some(listed) if listed.iter().any(|r| r.name == release) => "upgrading",
            Some(_) => "installing",
            None => "installing or upgrading",
        };
        let source = if how == Fetched::Cached {
            "cached "
        } else {
            ""
        };
        let chart_ref = self.settings.chart_ref(chart);
        format!(
            "{verb} with {source}chart {} {}",
            chart_ref.name, chart_ref.version
        )
    }

    /// The revision of a release deployed with this very chart and these values (read back with
    /// `helm get values`, so an upgrade made by hand is noticed), when it can be left alone:
    /// never on a dry run, with --reconcile or --force, or for a release that is not `deployed`.
    fn unchanged(
        &self,
        helm: &Helm,
        chart: Chart,
        existing: Option<&[ListedRelease]>,
    ) -> Option<String> {
        if self.plan.dry_run || self.plan.reconcile || self.plan.force {
            return None;
        }
        let release = self.settings.release(chart).as_str();
        let pinned = self.settings.chart_ref(chart);
        let deployed = existing?.iter().find(|r| {
            r.name == release
                && r.status == "deployed"
                && r.chart == format!("{}-{}", pinned.name, pinned.version)
        })?;
        let (_, wanted) = self.rendered.iter().find(|(c, _)| *c == chart)?;
        let namespace = self.settings.namespace.as_str();
        let get = Invocation::new(helm.get_values_args(release, namespace, self.target))
            .deadline(Duration::from_secs(60));
        let live: serde_json::Value =
            serde_json::from_str(&helm.tool.run(&get).ok()?.stdout).ok()?;
        (crate::yaml::to_value(&live) == *wanted).then(|| deployed.revision.clone())
    }

    fn upgrade(
        &self,
        helm: &Helm,
        chart: Chart,
        archive: &Path,
        values: &Path,
        task: &Task,
    ) -> Result<ReleaseOutcome> {
        let chart_ref = self.settings.chart_ref(chart);
        let upgrade = Upgrade {
            release: self.settings.release(chart).as_str(),
            chart: archive,
            namespace: self.settings.namespace.as_str(),
            values,
            target: self.target,
            timeout: self.plan.timeout,
            wait: self.plan.wait,
            force: self.plan.force,
            dry_run: if self.plan.dry_run {
                DryRun::Client
            } else {
                DryRun::No
            },
        };
        let invocation =
            Invocation::new(helm.upgrade_install_args(&upgrade)).deadline(self.deadline);
        let result = helm
            .tool
            .run(&invocation)
            .map_err(anyhow::Error::from)
            .and_then(|out| ReleaseOutcome::parse(&out.stdout));
        match &result {
            Ok(outcome) if self.plan.dry_run => {
                task.finish(&format!(
                    "rendered {} (dry run: nothing applied)",
                    outcome.name
                ));
            }
            Ok(outcome) => task.finish(&format!(
                "{}, revision {} (chart {} {})",
                outcome.info.status, outcome.version, chart_ref.name, chart_ref.version
            )),
            Err(_) => task.finish("failed"),
        }
        result
    }
}

/// Makes the Secrets of eksmon's that Grafana's values name (none for `--only prometheus`).
/// A dry run does not look (one kubectl less on a path kept at helm's own speed): it says where
/// the values point instead.
fn grafana_secrets(
    run: &Run,
    settings: &Settings,
    owned: &[crate::secrets::Owned],
    plan: &Plan<'_>,
) -> Result<Vec<MadeSecret>> {
    if owned.is_empty() {
        return Ok(Vec::new());
    }
    if plan.dry_run {
        return Ok(owned
            .iter()
            .map(|secret| (secret.clone(), crate::secrets::Made::NotLooked))
            .collect());
    }
    let tool = run.kubectl()?;
    let kubectl = crate::secrets::Kubectl {
        tool: &tool,
        target: &run.target,
        namespace: settings.namespace.as_str(),
    };
    crate::secrets::ensure(&kubectl, settings, owned)
}

/// One line per Secret eksmon made; nothing for those that were there.
fn say_made(ui: &Ui, settings: &Settings, made: &[MadeSecret]) {
    use crate::secrets::Made;
    let namespace = settings.namespace.as_str();
    for (secret, how) in made {
        let what = secret.purpose.describe();
        let line = match how {
            Made::Existing => continue,
            Made::Created => format!("created for {what} with a new random value"),
            Made::Adopted { from } => format!(
                "created for {what} with the value of the chart's Secret `{from}` (kept as it was)"
            ),
            Made::NotLooked => {
                format!("the values name it for {what}; install makes it if it is missing")
            }
        };
        ui.note(&format!("secret {namespace}/{}: {line}", secret.name));
    }
}

/// Creates the namespaces the charts go into, with their Pod Security labels, and labels
/// existing ones that have none (saying so); a level someone else chose is left as it is.
fn namespaces(run: &Run, settings: &Settings, plan: &Plan<'_>) -> Result<()> {
    use crate::namespaces::Action;
    let ui = &run.ui;
    let wanted = crate::namespaces::wanted(settings, &plan.charts);
    let names: Vec<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    let kubectl = run.kubectl()?;
    let get = Invocation::new(kube::namespaces_get_args(&names, &run.target))
        .deadline(Duration::from_secs(60));
    let listed = kubectl.run(&get).map_err(anyhow::Error::from);
    // An identity limited to its namespace may not read Namespace objects: helm then makes
    // the releases' namespace as before, and the labels are for someone who may.
    if let Err(err) = &listed
        && ApiFailure::of(err) == Some(ApiFailure::Forbidden)
    {
        ui.warn(&format!(
            "cannot read namespaces {} (forbidden): their Pod Security labels are left to a cluster admin",
            names.join(", ")
        ));
        return Ok(());
    }
    let live = kube::parse_namespaces(&listed?.stdout)?;
    let mut objects = Vec::new();
    for (namespace, action) in crate::namespaces::plan(&wanted, &live, plan.pod_security) {
        let (name, level) = (&namespace.name, namespace.level);
        match action {
            Action::Create => {
                objects.push(crate::namespaces::manifest(
                    &namespace,
                    plan.pod_security,
                    true,
                ));
                ui.note(&format!(
                    "namespace {name}: created{}",
                    if plan.pod_security {
                        format!(", Pod Security {level}")
                    } else {
                        String::new()
                    }
                ));
            }
            Action::Label => {
                ui.warn(&format!("namespace {name} has no Pod Security labels: eksmon labels it {level} (enforce, warn, audit); --no-pod-security leaves it as it is"));
                objects.push(crate::namespaces::manifest(&namespace, true, false));
            }
            Action::Leave { found } => ui.warn(&format!(
                "namespace {name} enforces Pod Security `{found}`, not `{level}`: left as it is"
            )),
            Action::Keep => {}
        }
    }
    if objects.is_empty() {
        return Ok(());
    }
    let mut stream = String::new();
    for object in &objects {
        stream += "---\n";
        stream += &crate::yaml::emit(&crate::yaml::to_value(object));
    }
    let apply = Invocation::new(kube::apply_args(&run.target))
        .stdin(stream.into_bytes())
        .deadline(Duration::from_secs(60));
    kubectl
        .run(&apply)
        .context("cannot create or label the namespaces")?;
    Ok(())
}

/// Creates the profile's StorageClass when it is missing; never changes an existing one.
/// On a dry run, returns the manifest it would apply instead.
fn storage_class(run: &Run, settings: &Settings, plan: &Plan<'_>) -> Result<String> {
    let ui = &run.ui;
    let manifest = kube::storage_class_manifest(settings.storage_class.as_str());
    let name = settings.storage_class.as_str();
    let kubectl = run.kubectl()?;
    let get = Invocation::new(kube::storage_class_get_args(&run.target, name))
        .deadline(Duration::from_secs(60));
    if !kubectl.run(&get)?.stdout.trim().is_empty() {
        ui.note(&format!("storageclass {name}: exists, left as it is"));
        return Ok(String::new());
    }
    if plan.dry_run {
        ui.note(&format!("storageclass {name}: would be created (dry run)"));
        return Ok(format!(
            "---\n# Source: eksmon StorageClass (createStorageClass)\n{manifest}"
        ));
    }
    let apply = Invocation::new(kube::apply_args(&run.target))
        .stdin(manifest.into_bytes())
        .deadline(Duration::from_secs(60));
    kubectl
        .run(&apply)
        .with_context(|| format!("cannot create StorageClass `{name}`"))?;
    ui.note(&format!(
        "storageclass {name}: created (gp3, encrypted, WaitForFirstConsumer)"
    ));
    Ok(String::new())
}

/// One line saying where an installed release can be reached, with commands that work as
/// printed: same namespace, cluster and profiles.
fn how_to_reach(run: &Run, settings: &Settings, chart: Chart, plan: &Plan<'_>) -> String {
    use crate::tool::quote;
    let release = settings.release(chart).as_str();
    let namespace = quote(settings.namespace.as_str());
    let (service, local_port) = match chart {
        Chart::Prometheus => (prometheus_server_fullname(settings), 9090),
        Chart::Grafana => (grafana_fullname(settings), 3000),
    };
    let kubectl = format!(
        "kubectl{} -n {namespace}",
        run.target.printed_kubectl_flags()
    );
    let host = settings.host(chart);
    let reach = match (settings.exposure, host) {
        (Exposure::Alb, Some(host)) => {
            format!("https://{host} (once the ALB is up; `eksmon status` shows its address)")
        }
        (Exposure::Nlb, _) => {
            format!("the NLB's DNS name: {kubectl} get service {service} (EXTERNAL-IP)")
        }
        _ => format!("{kubectl} port-forward service/{service} {local_port}:80"),
    };
    let password = if chart == Chart::Grafana {
        let mut words = vec!["eksmon grafana-password".to_owned()];
        for profile in &plan.profile.profiles {
            words.extend(["--profile".into(), quote(profile)]);
        }
        for set in &plan.profile.sets {
            words.extend(["--set".into(), quote(set)]);
        }
        words.extend(["-n".into(), namespace]);
        format!(
            "; admin password: {}{}",
            words.join(" "),
            run.target.printed_helm_flags()
        )
    } else if !settings.grafana.enabled {
        match &settings.amp {
            // Where Amazon Managed Grafana (or any Grafana) reads the same series.
            Some(amp) => format!(
                "; for Amazon Managed Grafana, add the Amazon Managed Service for Prometheus data source: URL {}, SigV4 auth, region {}",
                amp.query_url(),
                amp.region
            ),
            None => format!(
                "; for a Grafana of your own, the data source URL in the cluster is http://{service}.{}.svc.cluster.local",
                settings.namespace
            ),
        }
    } else {
        String::new()
    };
    format!("{release}: {reach}{password}")
}
