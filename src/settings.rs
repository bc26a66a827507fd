//! `Settings`: the typed, validated profile that templates see. Field names and defaults follow
//! the profile schema (camelCase keys; defaults are the seed's sizes and classes).
//!
//! Every string that ends up in a manifest is a newtype whose conversion runs a check from
//! [`crate::validate`], so a value that exists here is already known to be well-formed.

use crate::validate;
use crate::yaml::Mapping;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A scalar read as text: profiles may write `cpu: 1`, `size: 50Gi` or a tag `cost: 100`.
#[derive(Debug, Clone)]
pub struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl serde::de::Visitor<'_> for Scalar {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        deserializer.deserialize_any(Scalar)
    }
}

macro_rules! checked_string {
    ($($(#[$doc:meta])* $name:ident => $check:path;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "ScalarText", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<ScalarText> for $name {
            type Error = String;
            fn try_from(text: ScalarText) -> Result<Self, String> {
                $check(&text.0)?;
                Ok(Self(text.0))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = String;
            fn try_from(text: &str) -> Result<Self, String> {
                Self::try_from(ScalarText(text.to_owned()))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

checked_string! {
    /// A Kubernetes namespace.
    Namespace => validate::namespace;
    /// A Helm release name.
    ReleaseName => validate::release_name;
    /// A StorageClass name.
    StorageClassName => validate::storage_class;
    /// A subnet ID or Name tag.
    SubnetRef => validate::subnet;
    /// A security group ID or name.
    SecurityGroupRef => validate::security_group;
    /// An ACM certificate ARN.
    CertificateArn => validate::certificate_arn;
    /// A regional WAFv2 web ACL ARN.
    Wafv2AclArn => validate::wafv2_acl_arn;
    /// An ingress host name.
    Host => validate::host;
    /// An IPv4/IPv6 CIDR.
    Cidr => validate::cidr;
    /// A storage or memory size.
    SizeQuantity => validate::size_quantity;
    /// An EBS volume's size.
    VolumeSize => validate::volume_size;
    /// Prometheus's limit on the data it keeps.
    RetentionSize => validate::retention_size;
    /// A CPU amount.
    CpuQuantity => validate::cpu_quantity;
    /// A Prometheus retention duration.
    Retention => validate::retention;
    /// An AWS tag key.
    TagKey => validate::tag_key;
    /// An AWS tag value.
    TagValue => validate::tag_value;
    /// An ALB IngressGroup name.
    GroupName => validate::group_name;
    /// A load balancer name.
    LoadBalancerName => validate::load_balancer_name;
    /// An ELB TLS policy.
    SslPolicy => validate::ssl_policy;
    /// Target-group success codes.
    SuccessCodes => validate::success_codes;
    /// An https:// URL.
    HttpsUrl => validate::https_url;
    /// A Kubernetes Secret name.
    SecretName => validate::secret_name;
    /// A Cognito user pool ARN.
    UserPoolArn => validate::user_pool_arn;
    /// A Cognito app client ID.
    UserPoolClientId => validate::user_pool_client_id;
    /// A Cognito domain prefix.
    UserPoolDomain => validate::user_pool_domain;
    /// An OAuth scope list.
    OAuthScope => validate::oauth_scope;
    /// A chart repository URL.
    ChartRepo => validate::chart_repo;
    /// A chart name.
    ChartName => validate::chart_name;
    /// An exact chart version.
    ChartVersion => validate::chart_version;
    /// An SNS topic ARN.
    SnsTopicArn => validate::sns_topic_arn;
    /// An IAM role ARN.
    IamRoleArn => validate::iam_role_arn;
    /// A key of a Secret.
    SecretKey => validate::secret_key;
    /// A Slack channel or user.
    SlackChannel => validate::slack_channel;
    /// A name for an Alertmanager receiver.
    ReceiverName => validate::dns_label;
    /// A label name to group alerts by.
    LabelName => validate::label_name;
    /// An EKS cluster name.
    ClusterName => validate::cluster_name;
    /// An AWS region.
    AwsRegion => validate::aws_region;
    /// An AMP workspace ID.
    AmpWorkspaceId => validate::amp_workspace_id;
    /// An AMP remote-write URL.
    AmpRemoteWriteUrl => validate::amp_remote_write_url;
    /// A regex over metric names.
    MetricRegex => validate::metric_regex;
    /// An identity provider's https endpoint, with no credential in it.
    SsoUrl => validate::sso_url;
    /// An OAuth client ID.
    OAuthClientId => validate::oauth_client_id;
    /// A group name from the identity provider.
    SsoGroup => validate::sso_group;
    /// A JMESPath expression over the identity provider's claims.
    JmesPath => validate::jmespath;
}

/// A built-in default; `defaults_pass_their_checks` proves each one valid.
macro_rules! default_of {
    ($ty:ident, $text:expr) => {
        $ty($text.to_owned())
    };
}

/// AWS tags, in key order so the rendered `k=v` list is stable.
pub type Tags = BTreeMap<TagKey, TagValue>;

/// How Prometheus and Grafana are reached from outside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    /// An ALB per Ingress (shared through `alb.groupName`), via the AWS Load Balancer Controller.
    Alb,
    /// A Service of type LoadBalancer backed by an NLB.
    Nlb,
    /// ClusterIP only; reach them with `kubectl port-forward`.
    #[default]
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    InternetFacing,
    /// The AWS Load Balancer Controller's own default, and ours.
    #[default]
    Internal,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::InternetFacing => "internet-facing",
            Scheme::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    pub namespace: Namespace,
    pub exposure: Exposure,
    pub storage_class: StorageClassName,
    pub create_storage_class: bool,
    pub alb: Alb,
    pub nlb: Nlb,
    pub prometheus: Prometheus,
    pub grafana: Grafana,
    pub alerting: Alerting,
    /// The EKS cluster these settings are for.
    pub cluster: ClusterInfo,
    /// Remote write to Amazon Managed Service for Prometheus.
    pub amp: Option<Amp>,
    pub network_policy: NetworkPolicy,
    pub charts: Charts,
}

/// A NetworkPolicy per component that admits only its real callers (enforced on EKS by the VPC
/// CNI's network policy agent, or another enforcer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NetworkPolicy {
    pub enabled: bool,
    /// More address ranges admitted to Prometheus's and Grafana's ports: the load balancer's
    /// subnets, a bastion, a VPN.
    pub extra_ingress_cidrs: Vec<Cidr>,
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            extra_ingress_cidrs: Vec::new(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace: default_of!(Namespace, "prometheus"),
            exposure: Exposure::None,
            storage_class: default_of!(StorageClassName, "ebs-sc-gp3"),
            create_storage_class: false,
            alb: Alb::default(),
            nlb: Nlb::default(),
            prometheus: Prometheus::default(),
            grafana: Grafana::default(),
            alerting: Alerting::default(),
            cluster: ClusterInfo::default(),
            amp: None,
            network_policy: NetworkPolicy::default(),
            charts: Charts::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Alb {
    pub group_name: Option<GroupName>,
    pub scheme: Scheme,
    pub subnets: Vec<SubnetRef>,
    pub security_groups: Vec<SecurityGroupRef>,
    pub certificate_arn: Option<CertificateArn>,
    pub ssl_policy: Option<SslPolicy>,
    pub inbound_cidrs: Vec<Cidr>,
    pub wafv2_acl_arn: Option<Wafv2AclArn>,
    pub tags: Tags,
    pub healthcheck: Healthcheck,
    pub auth: Option<AlbAuth>,
}

impl Default for Alb {
    fn default() -> Self {
        Self {
            group_name: None,
            scheme: Scheme::Internal,
            subnets: Vec::new(),
            security_groups: Vec::new(),
            certificate_arn: None,
            ssl_policy: Some(default_of!(
                SslPolicy,
                "ELBSecurityPolicy-TLS13-1-2-2021-06"
            )),
            inbound_cidrs: Vec::new(),
            wafv2_acl_arn: None,
            tags: Tags::new(),
            healthcheck: Healthcheck::default(),
            auth: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Healthcheck {
    pub interval_seconds: u16,
    pub timeout_seconds: u16,
    pub healthy_threshold_count: u8,
    pub unhealthy_threshold_count: u8,
    pub success_codes: SuccessCodes,
}

impl Default for Healthcheck {
    fn default() -> Self {
        Self {
            interval_seconds: 15,
            timeout_seconds: 10,
            healthy_threshold_count: 2,
            unhealthy_threshold_count: 4,
            success_codes: default_of!(SuccessCodes, "200,301,302"),
        }
    }
}

/// ALB authentication in front of both apps (HTTPS listener only). One flat struct rather than
/// a tagged enum, so that errors point at the exact key; `profile::checks` enforces which keys each
/// `type` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlbAuth {
    pub r#type: AuthType,
    /// OIDC: the identity provider's endpoints.
    #[serde(default)]
    pub issuer: Option<HttpsUrl>,
    #[serde(default)]
    pub authorization_endpoint: Option<HttpsUrl>,
    #[serde(default)]
    pub token_endpoint: Option<HttpsUrl>,
    #[serde(default)]
    pub user_info_endpoint: Option<HttpsUrl>,
    /// OIDC: a Secret (in the release namespace) with `clientID` and `clientSecret`; the profile
    /// names it and never holds the secret itself.
    #[serde(default)]
    pub secret_name: Option<SecretName>,
    /// Cognito: the user pool, its app client and its domain prefix.
    #[serde(default)]
    pub user_pool_arn: Option<UserPoolArn>,
    #[serde(default)]
    pub user_pool_client_id: Option<UserPoolClientId>,
    #[serde(default)]
    pub user_pool_domain: Option<UserPoolDomain>,
    #[serde(default)]
    pub scope: Option<OAuthScope>,
    #[serde(default)]
    pub on_unauthenticated_request: Option<OnUnauthenticated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    Oidc,
    Cognito,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Oidc => "oidc",
            AuthType::Cognito => "cognito",
        }
    }

    /// The keys this type needs, and the ones only the other type takes.
    pub fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        const OIDC: &[&str] = &[
            "issuer",
            "authorizationEndpoint",
            "tokenEndpoint",
            "userInfoEndpoint",
            "secretName",
        ];
        const COGNITO: &[&str] = &["userPoolArn", "userPoolClientId", "userPoolDomain"];
        match self {
            AuthType::Oidc => (OIDC, COGNITO),
            AuthType::Cognito => (COGNITO, OIDC),
        }
    }
}

impl AlbAuth {
    /// Whether the camelCase key is set.
    pub fn has(&self, key: &str) -> bool {
        match key {
            "issuer" => self.issuer.is_some(),
            "authorizationEndpoint" => self.authorization_endpoint.is_some(),
            "tokenEndpoint" => self.token_endpoint.is_some(),
            "userInfoEndpoint" => self.user_info_endpoint.is_some(),
            "secretName" => self.secret_name.is_some(),
            "userPoolArn" => self.user_pool_arn.is_some(),
            "userPoolClientId" => self.user_pool_client_id.is_some(),
            "userPoolDomain" => self.user_pool_domain.is_some(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUnauthenticated {
    Authenticate,
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Nlb {
    pub scheme: Scheme,
    pub cross_zone: bool,
    pub source_ranges: Vec<Cidr>,
    pub certificate_arn: Option<CertificateArn>,
    pub tags: Tags,
}

impl Default for Nlb {
    fn default() -> Self {
        Self {
            scheme: Scheme::Internal,
            cross_zone: true,
            source_ranges: Vec::new(),
            certificate_arn: None,
            tags: Tags::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Resources {
    pub cpu: CpuQuantity,
    pub memory: SizeQuantity,
}

impl Resources {
    fn of(cpu: &str, memory: &str) -> Self {
        Self {
            cpu: default_of!(CpuQuantity, cpu),
            memory: default_of!(SizeQuantity, memory),
        }
    }
}

impl Default for Resources {
    fn default() -> Self {
        Self::of("500m", "512Mi")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Prometheus {
    pub release: ReleaseName,
    pub host: Option<Host>,
    pub storage_size: VolumeSize,
    pub retention: Retention,
    /// The most data Prometheus keeps (a quantity like storageSize); default: 90% of
    /// storageSize, so a full volume never stops Prometheus.
    pub retention_size: Option<RetentionSize>,
    /// Scrape the EKS control-plane metrics API (scheduler, controller-manager) and alert on it.
    pub eks_control_plane: bool,
    pub resources: Resources,
    pub load_balancer_name: Option<LoadBalancerName>,
    pub alertmanager: Alertmanager,
    pub node_exporter: NodeExporter,
    pub kube_state_metrics: KubeStateMetrics,
    pub pushgateway: Pushgateway,
    /// The config reloader beside the server (and Alertmanager's, when it runs one).
    pub reloader: Reloader,
    /// Raw chart values, deep-merged over the rendered ones.
    pub values: Mapping,
}

/// kube-state-metrics: its size grows with the number of objects in the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct KubeStateMetrics {
    pub resources: Resources,
}

impl Default for KubeStateMetrics {
    fn default() -> Self {
        Self {
            resources: Resources::of("100m", "256Mi"),
        }
    }
}

/// The Pushgateway: for batch jobs that push their metrics; EKS set-ups rarely have them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Pushgateway {
    pub enabled: bool,
    pub resources: Resources,
}

impl Default for Pushgateway {
    fn default() -> Self {
        Self {
            enabled: false,
            resources: Resources::of("50m", "64Mi"),
        }
    }
}

/// The config reloader sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Reloader {
    pub resources: Resources,
}

impl Default for Reloader {
    fn default() -> Self {
        Self {
            resources: Resources::of("20m", "32Mi"),
        }
    }
}

impl Default for Prometheus {
    fn default() -> Self {
        Self {
            release: default_of!(ReleaseName, "prometheus"),
            host: None,
            storage_size: default_of!(VolumeSize, "50Gi"),
            retention: default_of!(Retention, "15d"),
            retention_size: None,
            eks_control_plane: false,
            resources: Resources::of("500m", "512Mi"),
            load_balancer_name: None,
            alertmanager: Alertmanager::default(),
            node_exporter: NodeExporter::default(),
            kube_state_metrics: KubeStateMetrics::default(),
            pushgateway: Pushgateway::default(),
            reloader: Reloader::default(),
            values: Mapping::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Alertmanager {
    pub enabled: bool,
    pub storage_size: VolumeSize,
    pub resources: Resources,
}

impl Default for Alertmanager {
    fn default() -> Self {
        Self {
            enabled: true,
            storage_size: default_of!(VolumeSize, "20Gi"),
            resources: Resources::of("100m", "128Mi"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NodeExporter {
    pub exclude_fargate: bool,
    pub resources: Resources,
    /// Its own namespace, labelled `privileged` (it needs the host's network, processes and
    /// paths); the rest stays `restricted`. Unset: `<namespace>-node`.
    pub namespace: Option<Namespace>,
}

impl Default for NodeExporter {
    fn default() -> Self {
        Self {
            exclude_fargate: true,
            resources: Resources::of("100m", "64Mi"),
            namespace: None,
        }
    }
}

/// eksmon's own dashboards, shipped in the binary (built by the dashboards module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dashboard {
    KubernetesCluster,
    NamespaceResources,
    WorkloadResources,
    PodResources,
    Nodes,
    NodeExporter,
    PersistentVolumes,
    Apiserver,
    Kubelet,
    Networking,
    Coredns,
    AwsVpcCni,
    Prometheus,
    Alertmanager,
    ApiEndpoints,
}

impl Dashboard {
    /// Every one, in the order Grafana lists them by default.
    pub const ALL: [Dashboard; 15] = [
        Dashboard::KubernetesCluster,
        Dashboard::NamespaceResources,
        Dashboard::WorkloadResources,
        Dashboard::PodResources,
        Dashboard::Nodes,
        Dashboard::NodeExporter,
        Dashboard::PersistentVolumes,
        Dashboard::Apiserver,
        Dashboard::Kubelet,
        Dashboard::Networking,
        Dashboard::Coredns,
        Dashboard::AwsVpcCni,
        Dashboard::Prometheus,
        Dashboard::Alertmanager,
        Dashboard::ApiEndpoints,
    ];

    /// The profile's name for it (also its file name in Grafana's provider).
    pub fn name(self) -> &'static str {
        match self {
            Dashboard::KubernetesCluster => "kubernetes-cluster",
            Dashboard::NamespaceResources => "namespace-resources",
            Dashboard::WorkloadResources => "workload-resources",
            Dashboard::PodResources => "pod-resources",
            Dashboard::Nodes => "nodes",
            Dashboard::NodeExporter => "node-exporter",
            Dashboard::PersistentVolumes => "persistent-volumes",
            Dashboard::Apiserver => "apiserver",
            Dashboard::Kubelet => "kubelet",
            Dashboard::Networking => "networking",
            Dashboard::Coredns => "coredns",
            Dashboard::AwsVpcCni => "aws-vpc-cni",
            Dashboard::Prometheus => "prometheus",
            Dashboard::Alertmanager => "alertmanager",
            Dashboard::ApiEndpoints => "api-endpoints",
        }
    }
}

/// A dashboard grafana.com publishes, which Grafana downloads at start (it needs egress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrafanaComDashboard {
    pub gnet_id: GnetId,
    /// The dashboard's revision on grafana.com; unset: its newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<GnetId>,
}

impl GrafanaComDashboard {
    /// Its file name in Grafana's provider.
    pub fn name(&self) -> String {
        format!("grafana-com-{}", self.gnet_id.0)
    }
}

/// A grafana.com dashboard id or revision: a whole number from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScalarText", into = "u32")]
pub struct GnetId(u32);

impl GnetId {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<ScalarText> for GnetId {
    type Error = String;
    fn try_from(text: ScalarText) -> Result<Self, String> {
        match text.0.parse::<u32>() {
            Ok(id) if id > 0 => Ok(GnetId(id)),
            _ => Err(format!(
                "`{}` is not a grafana.com id (a whole number from 1, as in grafana.com/grafana/dashboards/1860)",
                text.0
            )),
        }
    }
}

impl From<GnetId> for u32 {
    fn from(id: GnetId) -> u32 {
        id.0
    }
}

/// One entry of `grafana.dashboards`: one of eksmon's by name, or `{gnetId: N}` for a
/// grafana.com one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum DashboardChoice {
    Bundled(Dashboard),
    GrafanaCom(GrafanaComDashboard),
}

impl<'de> Deserialize<'de> for DashboardChoice {
    // By hand rather than `untagged`: an unknown name then gets serde's "unknown variant"
    // message (and with it a did-you-mean), not "did not match any variant".
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Choice;
        impl<'de> serde::de::Visitor<'de> for Choice {
            type Value = DashboardChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dashboard name or {gnetId: N}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DashboardChoice, E> {
                Dashboard::deserialize(serde::de::value::StrDeserializer::<E>::new(v))
                    .map(DashboardChoice::Bundled)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<DashboardChoice, A::Error> {
                GrafanaComDashboard::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(DashboardChoice::GrafanaCom)
            }
        }
        deserializer.deserialize_any(Choice)
    }
}

impl DashboardChoice {
    /// Its file name in Grafana's provider.
    pub fn name(&self) -> String {
        match self {
            DashboardChoice::Bundled(d) => d.name().to_owned(),
            DashboardChoice::GrafanaCom(g) => g.name(),
        }
    }
}

/// Grafana's single sign-on. The client secret stays in a Secret (key `clientSecret`), which
/// Grafana reads as a file; the profile only names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrafanaSso {
    #[serde(rename = "type")]
    pub kind: SsoType,
    pub client_id: OAuthClientId,
    pub client_secret_name: SecretName,
    /// Cognito: the user pool's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`).
    pub user_pool_domain: Option<UserPoolDomain>,
    /// Cognito: the user pool's region.
    pub region: Option<AwsRegion>,
    /// Okta: the org's domain (`example.okta.com`).
    pub domain: Option<Host>,
    /// OIDC: the issuer, and its endpoints (eksmon renders offline and reads no discovery
    /// document: give the ones it lists).
    pub issuer: Option<SsoUrl>,
    pub auth_url: Option<SsoUrl>,
    pub token_url: Option<SsoUrl>,
    pub api_url: Option<SsoUrl>,
    /// Which Grafana role a user gets, from the claims (JMESPath).
    pub role_attribute_path: Option<JmesPath>,
    /// Only members of these groups may log in (empty: everyone the provider lets in).
    #[serde(default)]
    pub allowed_groups: Vec<SsoGroup>,
    /// Hide Grafana's own login form (the admin still has the password).
    #[serde(default)]
    pub disable_login_form: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SsoType {
    Cognito,
    Okta,
    Oidc,
}

/// The EKS cluster these settings are for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClusterInfo {
    /// Written as the external label `cluster` (several clusters can share a workspace).
    pub name: Option<ClusterName>,
}

/// How Prometheus gets AWS credentials for AMP: never keys, always a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AmpAuth {
    /// IAM roles for service accounts: the role's ARN annotates the server's service account.
    #[default]
    Irsa,
    /// EKS Pod Identity: an association names the server's service account; no annotation.
    PodIdentity,
}

/// Prometheus's remote-write queue towards AMP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AmpQueue {
    pub max_samples_per_send: u32,
    pub max_shards: u32,
    pub capacity: u32,
}

impl Default for AmpQueue {
    fn default() -> Self {
        Self {
            max_samples_per_send: 1000,
            max_shards: 200,
            capacity: 2500,
        }
    }
}

/// Remote write to an Amazon Managed Service for Prometheus workspace, signed with SigV4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Amp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<AmpWorkspaceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write_url: Option<AmpRemoteWriteUrl>,
    pub region: AwsRegion,
    #[serde(default)]
    pub auth: AmpAuth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<IamRoleArn>,
    /// Prometheus as an agent: it only scrapes and writes to AMP (no local queries, rules or
    /// Alertmanager).
    #[serde(default)]
    pub agent_mode: bool,
    #[serde(default)]
    pub queue: AmpQueue,
    /// Only metrics whose names match one of these are sent (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_metrics: Vec<MetricRegex>,
}

impl Amp {
    /// The workspace's query endpoint (what Grafana's data source points at).
    pub fn query_url(&self) -> String {
        let url = self.url();
        url.strip_suffix("/api/v1/remote_write")
            .unwrap_or(&url)
            .to_owned()
    }

    /// The remote-write URL, from `remoteWriteUrl` or built from the workspace and region.
    pub fn url(&self) -> String {
        match (&self.remote_write_url, &self.workspace_id) {
            (Some(url), _) => url.to_string(),
            (None, Some(workspace)) => format!(
                "https://aps-workspaces.{}.amazonaws.com/workspaces/{workspace}/api/v1/remote_write",
                self.region
            ),
            (None, None) => String::new(),
        }
    }
}

/// Which alert and recording rules Prometheus gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSet {
    /// eksmon's rule set, made for EKS and this chart's scrape jobs.
    #[default]
    Eks,
    /// None (bring your own through prometheus.values.serverFiles).
    None,
}

/// What Prometheus alerts on, and where Alertmanager sends the alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Alerting {
    pub rules: RuleSet,
    /// Alert names left out of the rule set.
    pub disabled: Vec<String>,
    pub receivers: Vec<Receiver>,
    pub group_by: Vec<LabelName>,
    pub repeat_interval: Retention,
    /// Where eksmon's own alerts' runbooks are (a copy of its README); `#<alert>` is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook_base_url: Option<HttpsUrl>,
}

impl Default for Alerting {
    fn default() -> Self {
        Self {
            rules: RuleSet::Eks,
            disabled: Vec::new(),
            receivers: Vec::new(),
            group_by: vec![
                default_of!(LabelName, "alertname"),
                default_of!(LabelName, "namespace"),
            ],
            repeat_interval: default_of!(Retention, "4h"),
            runbook_base_url: None,
        }
    }
}

/// Where an Alertmanager receiver sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    Slack,
    Pagerduty,
    Webhook,
    Sns,
}

impl ReceiverType {
    /// The Secret key that holds the receiver's URL or key, unless `secretKey` names another.
    pub fn default_secret_key(self) -> Option<&'static str> {
        match self {
            ReceiverType::Slack | ReceiverType::Webhook => Some("url"),
            ReceiverType::Pagerduty => Some("routing-key"),
            ReceiverType::Sns => None,
        }
    }
}

/// An alert's severity label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

/// One Alertmanager receiver. Secrets (webhook URLs, routing keys) are never here: they stay in
/// the named Secret, which Alertmanager mounts as files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receiver {
    pub name: ReceiverName,
    #[serde(rename = "type")]
    pub r#type: ReceiverType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<SecretName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<SecretKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<SlackChannel>,
    /// Which alerts go here (default: every severity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<SnsTopicArn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<IamRoleArn>,
}

/// The old switch between grafana.com downloads and eksmon's copies: read from older profiles
/// and ignored with a warning, since eksmon's dashboards are always shipped in the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardSource {
    #[serde(rename = "grafana.com")]
    GrafanaCom,
    #[serde(rename = "bundled")]
    Bundled,
}

/// What Grafana's default data source queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GrafanaDatasource {
    /// The in-cluster Prometheus server.
    #[default]
    Local,
    /// The AMP workspace, through the Amazon Managed Prometheus plugin and SigV4; the in-cluster
    /// Prometheus stays as a second data source for eksmon's dashboards.
    Amp,
    /// No data source: bring your own in `values`.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Grafana {
    pub release: ReleaseName,
    pub host: Option<Host>,
    pub storage_size: VolumeSize,
    pub load_balancer_name: Option<LoadBalancerName>,
    pub dashboards: Vec<DashboardChoice>,
    /// No longer used (see [`DashboardSource`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_source: Option<DashboardSource>,
    /// false: no Grafana release (Amazon Managed Grafana, or a Grafana of your own).
    pub enabled: bool,
    pub datasource: GrafanaDatasource,
    /// The role Grafana queries AMP with (IRSA); unset: `amp.roleArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<IamRoleArn>,
    pub resources: Resources,
    /// Single sign-on through an identity provider.
    pub sso: Option<GrafanaSso>,
    /// Raw chart values, deep-merged over the rendered ones.
    pub values: Mapping,
}

impl Default for Grafana {
    fn default() -> Self {
        Self {
            release: default_of!(ReleaseName, "grafana"),
            host: None,
            storage_size: default_of!(VolumeSize, "100Gi"),
            load_balancer_name: None,
            dashboards: Dashboard::ALL.map(DashboardChoice::Bundled).to_vec(),
            dashboard_source: None,
            enabled: true,
            datasource: GrafanaDatasource::Local,
            role_arn: None,
            resources: Resources::of("250m", "512Mi"),
            sso: None,
            values: Mapping::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartRef {
    pub repo: ChartRepo,
    pub name: ChartName,
    pub version: ChartVersion,
}

impl ChartRef {
    fn of(repo: &str, name: &str, version: &str) -> Self {
        Self {
            repo: default_of!(ChartRepo, repo),
            name: default_of!(ChartName, name),
            version: default_of!(ChartVersion, version),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Charts {
    pub prometheus: ChartRef,
    pub grafana: ChartRef,
}

impl Default for Charts {
    fn default() -> Self {
        Self {
            prometheus: ChartRef::of(
                "https://prometheus-community.github.io/helm-charts",
                "prometheus",
                "29.27.0",
            ),
            grafana: ChartRef::of(
                "https://grafana-community.github.io/helm-charts",
                "grafana",
                "12.11.1",
            ),
        }
    }
}

/// The two charts eksmon manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Chart {
    Prometheus,
    Grafana,
}

impl Chart {
    pub const ALL: [Chart; 2] = [Chart::Prometheus, Chart::Grafana];

    pub fn name(self) -> &'static str {
        match self {
            Chart::Prometheus => "prometheus",
            Chart::Grafana => "grafana",
        }
    }
}

/// The per-chart parts of the settings.
impl Settings {
    /// node-exporter's namespace: `prometheus.nodeExporter.namespace`, else `<namespace>-node`.
    pub fn node_namespace(&self) -> String {
        self.prometheus
            .node_exporter
            .namespace
            .as_ref()
            .map_or_else(|| format!("{}-node", self.namespace), ToString::to_string)
    }

    /// Prometheus runs as an agent (`amp.agentMode`).
    pub fn agent_mode(&self) -> bool {
        self.amp.as_ref().is_some_and(|amp| amp.agent_mode)
    }

    /// Whether Alertmanager is installed: asked for, and not in agent mode (nothing to send it).
    pub fn alertmanager_installed(&self) -> bool {
        self.prometheus.alertmanager.enabled && !self.agent_mode()
    }

    /// Whether the profile installs this chart (`grafana.enabled: false` leaves Grafana out).
    pub fn installs(&self, chart: Chart) -> bool {
        match chart {
            Chart::Prometheus => true,
            Chart::Grafana => self.grafana.enabled,
        }
    }

    /// The release a chart is installed as.
    pub fn release(&self, chart: Chart) -> &ReleaseName {
        match chart {
            Chart::Prometheus => &self.prometheus.release,
            Chart::Grafana => &self.grafana.release,
        }
    }

    /// The host a chart's Ingress routes, when one is set.
    pub fn host(&self, chart: Chart) -> Option<&Host> {
        match chart {
            Chart::Prometheus => self.prometheus.host.as_ref(),
            Chart::Grafana => self.grafana.host.as_ref(),
        }
    }

    /// Where the chart comes from, pinned.
    pub fn chart_ref(&self, chart: Chart) -> &ChartRef {
        match chart {
            Chart::Prometheus => &self.charts.prometheus,
            Chart::Grafana => &self.charts.grafana,
        }
    }

    /// The raw values merged over the rendered ones.
    pub fn raw_values(&self, chart: Chart) -> &Mapping {
        match chart {
            Chart::Prometheus => &self.prometheus.values,
            Chart::Grafana => &self.grafana.values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in default must pass its own check (they skip it when built).
    #[test]
    fn defaults_pass_their_checks() {
        let defaults = crate::yaml::to_value(&Settings::default());
        let back: Settings = crate::yaml::from_value(defaults).expect("defaults validate");
        assert_eq!(back, Settings::default());
    }

    #[test]
    fn numbers_are_read_as_text() {
        let value = crate::yaml::parse("cpu: 1\nmemory: 512Mi\n").unwrap();
        let resources: Resources = crate::yaml::from_value(value).unwrap();
        assert_eq!(resources.cpu.as_str(), "1");
    }

    #[test]
    fn auth_errors_point_at_the_key() {
        let value = crate::yaml::parse("type: oidc\nclientSecret: x\n").unwrap();
        let err = crate::yaml::from_value::<AlbAuth>(value).unwrap_err();
        assert_eq!(err.path.to_string(), "clientSecret");
    }
}
