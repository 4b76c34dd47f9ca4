//! Kubernetes manifests: `kube generate` (containers and pods -> a Pod or Deployment) and
//! the reading half of `kube play` (YAML -> a plan of pods and containers with `run`'s
//! flags, plus a warning for every field that barge does not honour).
//!
//! The mapping, both ways:
//! - command = the ENTRYPOINT that ran, args = the rest (Kubernetes' split: a `command`
//!   replaces the image's ENTRYPOINT *and* CMD, `args` alone replace CMD);
//! - env = what the container has beyond its image's environment;
//! - ports: containerPort/hostPort/hostIP/protocol = `-p`, published on the pod;
//! - volumes: a bind = hostPath, a named volume = persistentVolumeClaim (claimName = the
//!   volume), a tmpfs = emptyDir {medium: Memory}; `kube play` makes an emptyDir a volume
//!   `<pod>-<name>` shared by the pod's containers and removed by `kube down`;
//! - resources.limits memory/cpu = `--memory`/`--cpus`;
//! - securityContext: capabilities add/drop relative to Docker's defaults, privileged,
//!   readOnlyRootFilesystem, runAsUser/runAsGroup (from `--user`), allowPrivilegeEscalation
//!   (false = no-new-privileges);
//! - restartPolicy Always/OnFailure/Never = `--restart always/on-failure/no`;
//! - shareProcessNamespace = a pod that shares its pid namespace (`--share +pid`).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use crate::config::Paths;
use crate::container::{self, pod};
use crate::error::{Error, Result};
use crate::store::{ContainerRecord, Store};

/// `kube generate --type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Deployment,
}

/// A DNS-1123 label made from a Docker name (`swift_keel` -> `swift-keel`).
pub fn dns_label(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.truncate(63);
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "x".into() } else { s }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn image_strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
        Some(v) => strings(v),
        None => Vec::new(),
    }
}

/// Everything about one container that a manifest shows.
struct Source {
    record: ContainerRecord,
    spec: oci_spec::runtime::Spec,
    settings: container::RunSettings,
    summary: Value,
    image: Value,
}

fn load(store: &Store, c: &ContainerRecord) -> Result<Source> {
    let (spec, settings) = container::load_bundle(&container::container_dir(store, &c.id))
        .map_err(|_| {
            Error::InvalidArgument(format!(
                "container {} has no saved configuration (a foreground `run --rm` one?)",
                c.name
            ))
        })?;
    let image = match store.image(&c.image_id)? {
        Some(img) => crate::image::config(store, &img)?
            .0
            .config
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(Source {
        record: c.clone(),
        spec,
        settings,
        summary: serde_json::from_str(&c.config).unwrap_or(Value::Null),
        image,
    })
}

/// Split the process's arguments into Kubernetes' command (the ENTRYPOINT that ran) and
/// args (the rest).
fn command_args(full: &[String], given: &Value, image: &Value) -> (Vec<String>, Vec<String>) {
    let ep = match given {
        Value::Array(_) => strings(given),
        _ => image_strings(image.get("Entrypoint")),
    };
    if full.starts_with(&ep) {
        (ep.clone(), full[ep.len()..].to_vec())
    } else {
        // `--entrypoint` replaced it: Docker's is one word.
        (
            full[..1.min(full.len())].to_vec(),
            full[1.min(full.len())..].to_vec(),
        )
    }
}

fn env_entries(s: &Source) -> Vec<Value> {
    let image_env: HashSet<String> = strings(&s.image["Env"]).into_iter().collect();
    let image_has_path = image_env.iter().any(|e| e.starts_with("PATH="));
    strings(&s.summary["Env"])
        .into_iter()
        .filter(|e| !image_env.contains(e))
        .filter(|e| !e.starts_with("HOSTNAME="))
        .filter(|e| !(s.settings.tty && e == "TERM=xterm"))
        .filter(|e| image_has_path || *e != format!("PATH={}", container::defaults::DEFAULT_PATH))
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((&e, ""));
            json!({"name": k, "value": v})
        })
        .collect()
}

fn port_entries(ports: &[crate::network::PortMapping]) -> Vec<Value> {
    ports
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("containerPort".into(), json!(p.container_port));
            m.insert("hostPort".into(), json!(p.host_port));
            if let Some(ip) = p.host_ip {
                m.insert("hostIP".into(), json!(ip.to_string()));
            }
            m.insert("protocol".into(), json!(p.proto.to_uppercase()));
            Value::Object(m)
        })
        .collect()
}

/// Volumes and mounts of one container; `volumes` is the pod's list (names unique).
/// A pod's volumes, one per source.
#[derive(Default)]
struct Volumes {
    list: Vec<Value>,
    by_source: BTreeMap<String, String>,
}

/// `pod_prefix` is `<pod>-`: what `kube play` put before an emptyDir's name.
fn mounts(
    store: &Store,
    s: &Source,
    pod_prefix: &str,
    empty_dirs: &[String],
    volumes: &mut Volumes,
) -> Vec<Value> {
    let vol_root = store.root.join("volumes");
    // Every container has these (/dev, /dev/shm ...): not the user's.
    let defaults: Vec<std::path::PathBuf> = container::defaults::default_mounts()
        .iter()
        .map(|m| m.destination().clone())
        .collect();
    let mut out = Vec::new();
    for m in s.summary["Mounts"].as_array().into_iter().flatten() {
        let src = m["Source"].as_str().unwrap_or("");
        let dst = m["Destination"].as_str().unwrap_or("");
        if m["Type"] == "tmpfs" && defaults.iter().any(|d| d.as_os_str() == dst) {
            continue;
        }
        let readonly = m["RW"].as_bool() == Some(false);
        let (base, volume) = if m["Type"] == "tmpfs" {
            ("tmp".to_string(), json!({"emptyDir": {"medium": "Memory"}}))
        } else if let Ok(rest) = std::path::Path::new(src).strip_prefix(&vol_root) {
            let name = rest
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            if empty_dirs.contains(&name) {
                // Made by `kube play` for an emptyDir of the pod.
                let short = name.strip_prefix(pod_prefix).unwrap_or(&name);
                (short.to_string(), json!({"emptyDir": {}}))
            } else {
                (
                    name.clone(),
                    json!({"persistentVolumeClaim": {"claimName": name}}),
                )
            }
        } else {
            let typ = if std::path::Path::new(src).is_dir() {
                "Directory"
            } else {
                "File"
            };
            (
                format!("host{src}"),
                json!({"hostPath": {"path": src, "type": typ}}),
            )
        };
        // The same source mounted by two containers is one volume of the pod; a tmpfs is
        // each container's own.
        let shared = (m["Type"] != "tmpfs").then(|| src.to_string());
        let existing = shared
            .as_ref()
            .and_then(|k| volumes.by_source.get(k))
            .cloned();
        let name = match existing {
            Some(n) => n,
            None => {
                let stem = dns_label(&base);
                let mut name = stem.clone();
                let mut i = 1;
                while volumes.list.iter().any(|v| v["name"] == name.as_str()) {
                    name = format!("{}-{i}", &stem[..stem.len().min(58)]);
                    i += 1;
                }
                let mut v = Map::new();
                v.insert("name".into(), json!(name));
                if let Value::Object(o) = volume {
                    v.extend(o);
                }
                volumes.list.push(Value::Object(v));
                if let Some(k) = shared {
                    volumes.by_source.insert(k, name.clone());
                }
                name
            }
        };
        let mut vm = Map::new();
        vm.insert("name".into(), json!(name));
        vm.insert("mountPath".into(), json!(dst));
        if readonly {
            vm.insert("readOnly".into(), json!(true));
        }
        out.push(Value::Object(vm));
    }
    out
}

fn resources(spec: &oci_spec::runtime::Spec) -> Option<Value> {
    let r = spec.linux().as_ref()?.resources().as_ref()?;
    let mut limits = Map::new();
    if let Some(m) = r.memory().as_ref().and_then(|m| m.limit()) {
        limits.insert("memory".into(), json!(m.to_string()));
    }
    if let Some(c) = r.cpu()
        && let (Some(q), Some(p)) = (c.quota(), c.period())
        && q > 0
        && p > 0
    {
        let milli = (q as f64 * 1000.0 / p as f64).round() as i64;
        limits.insert("cpu".into(), json!(format!("{milli}m")));
    }
    (!limits.is_empty()).then(|| json!({"limits": limits}))
}

fn cap_name(c: &oci_spec::runtime::Capability) -> String {
    let s = serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    s.trim_start_matches("CAP_").to_string()
}

fn security_context(s: &Source) -> Option<Value> {
    let mut sc = Map::new();
    let privileged = s.summary["Privileged"].as_bool() == Some(true);
    if privileged {
        sc.insert("privileged".into(), json!(true));
    } else if let Some(caps) = s
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.capabilities().as_ref())
        .and_then(|c| c.bounding().clone())
    {
        let defaults: HashSet<_> = container::defaults::default_capabilities()
            .into_iter()
            .collect();
        let mut add: Vec<String> = caps.difference(&defaults).map(cap_name).collect();
        let mut drop: Vec<String> = defaults.difference(&caps).map(cap_name).collect();
        add.sort();
        drop.sort();
        let mut c = Map::new();
        if !add.is_empty() {
            c.insert("add".into(), json!(add));
        }
        if !drop.is_empty() {
            c.insert("drop".into(), json!(drop));
        }
        if !c.is_empty() {
            sc.insert("capabilities".into(), Value::Object(c));
        }
    }
    if s.summary["ReadonlyRootfs"].as_bool() == Some(true) {
        sc.insert("readOnlyRootFilesystem".into(), json!(true));
    }
    if s.summary["User"].as_str().is_some_and(|u| !u.is_empty())
        && let Some(p) = s.spec.process()
    {
        sc.insert("runAsUser".into(), json!(p.user().uid()));
        sc.insert("runAsGroup".into(), json!(p.user().gid()));
    }
    if s.spec
        .process()
        .as_ref()
        .and_then(|p| p.no_new_privileges())
        == Some(true)
    {
        sc.insert("allowPrivilegeEscalation".into(), json!(false));
    }
    (!sc.is_empty()).then_some(Value::Object(sc))
}

fn container_entry(
    store: &Store,
    s: &Source,
    ports: &[crate::network::PortMapping],
    volumes: &mut Volumes,
    strip_prefix: &str,
    empty_dirs: &[String],
) -> Value {
    let full = s
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default();
    let (command, args) = command_args(&full, &s.summary["Entrypoint"], &s.image);
    let name = s
        .record
        .name
        .strip_prefix(strip_prefix)
        .filter(|n| !n.is_empty())
        .unwrap_or(&s.record.name);
    let mut c = Map::new();
    c.insert("name".into(), json!(dns_label(name)));
    c.insert("image".into(), json!(s.record.image_name));
    if !command.is_empty() {
        c.insert("command".into(), json!(command));
    }
    if !args.is_empty() {
        c.insert("args".into(), json!(args));
    }
    let env = env_entries(s);
    if !env.is_empty() {
        c.insert("env".into(), json!(env));
    }
    if let Some(w) = s.summary["WorkingDir"].as_str().filter(|w| {
        *w != "/" && Some(*w) != s.image["WorkingDir"].as_str().filter(|x| !x.is_empty())
    }) {
        c.insert("workingDir".into(), json!(w));
    }
    if !ports.is_empty() {
        c.insert("ports".into(), json!(port_entries(ports)));
    }
    if let Some(r) = resources(&s.spec) {
        c.insert("resources".into(), r);
    }
    if let Some(sc) = security_context(s) {
        c.insert("securityContext".into(), sc);
    }
    if s.settings.tty {
        c.insert("tty".into(), json!(true));
    }
    if s.settings.stdin_open {
        c.insert("stdin".into(), json!(true));
    }
    let vm = mounts(store, s, strip_prefix, empty_dirs, volumes);
    if !vm.is_empty() {
        c.insert("volumeMounts".into(), json!(vm));
    }
    Value::Object(c)
}

fn restart_policy(settings: &container::RunSettings) -> &'static str {
    match settings.restart.as_str() {
        "always" | "unless-stopped" => "Always",
        "on-failure" => "OnFailure",
        _ => "Never",
    }
}

/// What a manifest says of the pod around the containers.
struct Group<'a> {
    name: &'a str,
    labels: &'a BTreeMap<String, String>,
    hostname: Option<&'a str>,
    /// The pod's published ports.
    ports: &'a [crate::network::PortMapping],
    /// `<pod>-`: what the pod's container and emptyDir volume names start with.
    prefix: &'a str,
    empty_dirs: &'a [String],
    /// The pod's containers share one pid namespace (`pod create --share +pid`).
    share_pid: bool,
}

/// One manifest document (a Pod or a Deployment) for a group of containers.
fn document(store: &Store, g: &Group<'_>, sources: &[Source], kind: Kind) -> Value {
    let name = dns_label(g.name);
    let mut volumes = Volumes::default();
    let containers: Vec<Value> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // A pod's ports belong to its network namespace; Kubernetes lists them under
            // a container: the first.
            let own = container::ports(&s.record);
            let ports = if i == 0 && own.is_empty() {
                g.ports
            } else {
                &own[..]
            };
            container_entry(store, s, ports, &mut volumes, g.prefix, g.empty_dirs)
        })
        .collect();
    let mut spec = Map::new();
    spec.insert("containers".into(), json!(containers));
    // A pod's hostname is its name unless it was given.
    if let Some(h) = g.hostname.filter(|h| dns_label(h) == *h && *h != name) {
        spec.insert("hostname".into(), json!(h));
    }
    if g.share_pid {
        spec.insert("shareProcessNamespace".into(), json!(true));
    }
    spec.insert(
        "restartPolicy".into(),
        json!(match kind {
            // The only policy a Deployment's template may have.
            Kind::Deployment => "Always",
            Kind::Pod => sources
                .first()
                .map(|s| restart_policy(&s.settings))
                .unwrap_or("Never"),
        }),
    );
    if !volumes.list.is_empty() {
        spec.insert("volumes".into(), json!(volumes.list));
    }
    let mut all_labels: BTreeMap<String, String> = g.labels.clone();
    all_labels.insert("app".into(), name.clone());
    match kind {
        Kind::Pod => json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": all_labels},
            "spec": spec,
        }),
        Kind::Deployment => json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": all_labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": all_labels},
                    "spec": spec,
                },
            },
        }),
    }
}

/// `kube generate`: pods each become a document; the containers named become one pod
/// (`<first container>-pod`), as podman does.
pub fn generate(store: &Store, _paths: &Paths, names: &[String], kind: Kind) -> Result<String> {
    let mut docs = Vec::new();
    let mut loose = Vec::new();
    for n in names {
        match pod::find(store, n) {
            Ok(p) => {
                let cfg = pod::config(&p);
                let mut members = pod::members(store, &p.id)?;
                // Newest first in the store: the manifest lists them as they were made.
                members.reverse();
                let sources = members
                    .iter()
                    .map(|c| load(store, c))
                    .collect::<Result<Vec<_>>>()?;
                let prefix = format!("{}-", p.name);
                let g = Group {
                    name: &p.name,
                    labels: &cfg.labels,
                    hostname: Some(&cfg.hostname),
                    ports: &cfg.ports,
                    prefix: &prefix,
                    empty_dirs: &cfg.empty_dirs,
                    share_pid: cfg.share.iter().any(|n| n == "pid"),
                };
                docs.push(document(store, &g, &sources, kind));
            }
            Err(Error::NoSuchPod(_)) => {
                let c = container::find(store, n).map_err(|e| match e {
                    Error::NoSuchContainer(n) => {
                        Error::InvalidArgument(format!("no such container or pod: {n}"))
                    }
                    e => e,
                })?;
                if c.pod.is_some() {
                    return Err(Error::InvalidArgument(format!(
                        "container {} is in a pod: generate the pod instead",
                        c.name
                    )));
                }
                loose.push(load(store, &c)?);
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(first) = loose.first() {
        let name = format!("{}-pod", first.record.name);
        docs.insert(
            0,
            document(
                store,
                &Group {
                    name: &name,
                    labels: &BTreeMap::new(),
                    hostname: None,
                    ports: &[],
                    prefix: "",
                    empty_dirs: &[],
                    share_pid: false,
                },
                &loose,
                kind,
            ),
        );
    }
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_norway::to_string(d).map_err(|e| Error::Other(format!("yaml: {e}")))?);
    }
    Ok(out)
}

/// One container of a pod to run: `run`'s flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerPlan {
    /// `<pod>-<container>`, as podman names them.
    pub name: String,
    pub image: String,
    /// Kubernetes' command: replaces the ENTRYPOINT (and the CMD).
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// `-v` specs: `/host:/ctr[:ro]` or `volume:/ctr[:ro]`.
    pub volumes: Vec<String>,
    /// `--tmpfs` paths (emptyDir with medium Memory).
    pub tmpfs: Vec<String>,
    pub memory: Option<String>,
    pub cpus: Option<f64>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub read_only: bool,
    pub user: Option<String>,
    pub no_new_privileges: bool,
    pub tty: bool,
    pub stdin: bool,
    /// `--pull`: missing, always, never.
    pub pull: String,
}

/// One pod to create.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodPlan {
    pub name: String,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `-p` specs of the pod.
    pub publish: Vec<String>,
    /// The manifest field each `publish` entry comes from (`...ports[0].hostPort`).
    pub publish_fields: Vec<String>,
    /// `--restart` of every container.
    pub restart: String,
    /// Volumes made for the pod's emptyDirs (removed by `kube down`).
    pub empty_dirs: Vec<String>,
    /// `shareProcessNamespace`: the containers share one pid namespace.
    pub share_pid: bool,
    pub containers: Vec<ContainerPlan>,
}

/// Reads a manifest, remembering which fields were used: whatever is left is reported.
struct Reader<'a> {
    warn: &'a mut dyn FnMut(String),
}

impl Reader<'_> {
    /// Take the known keys of an object; warn about the others (with their path).
    fn fields(&mut self, v: &Value, path: &str, known: &[&str]) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                if known.contains(&k.as_str()) {
                    out.insert(k.clone(), x.clone());
                } else if !x.is_null() {
                    (self.warn)(format!("{path}{k} is not supported; ignored"));
                }
            }
        }
        out
    }
}

fn string_list(v: Option<&Value>, path: &str) -> Result<Option<Vec<String>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(Error::InvalidArgument(format!(
                    "kube: {path}: expected a list of strings"
                ))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(Error::InvalidArgument(format!(
            "kube: {path}: expected a list of strings"
        ))),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Kubernetes quantities: `128Mi`, `1G`, `500m` (cpu), plain numbers.
fn memory_quantity(q: &str) -> Result<String> {
    let units: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("", 1.0),
    ];
    for (u, m) in units {
        if let Some(n) = q.strip_suffix(u)
            && let Ok(n) = n.parse::<f64>()
        {
            return Ok(((n * m) as i64).to_string());
        }
    }
    Err(Error::InvalidArgument(format!(
        "kube: invalid memory quantity {q:?}"
    )))
}

fn cpu_quantity(q: &str) -> Result<f64> {
    let bad = || Error::InvalidArgument(format!("kube: invalid cpu quantity {q:?}"));
    match q.strip_suffix('m') {
        Some(n) => n.parse::<f64>().map(|m| m / 1000.0).map_err(|_| bad()),
        None => q.parse::<f64>().map_err(|_| bad()),
    }
}

/// The source of an emptyDir in memory (not a path: those start with `/`, not a volume
/// name: those cannot hold spaces).
const MEMORY: &str = " memory";

const POD_SPEC: &[&str] = &[
    "containers",
    "volumes",
    "restartPolicy",
    "hostname",
    "shareProcessNamespace",
];
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "env",
    "ports",
    "volumeMounts",
    "resources",
    "securityContext",
    "workingDir",
    "imagePullPolicy",
    "tty",
    "stdin",
];

fn pod_plan(
    r: &mut Reader<'_>,
    name: &str,
    labels: BTreeMap<String, String>,
    spec: &Value,
    path: &str,
    restart_default: &str,
) -> Result<PodPlan> {
    let s = r.fields(spec, path, POD_SPEC);
    let restart = match s.get("restartPolicy").and_then(|v| v.as_str()) {
        None => restart_default,
        Some("Always") => "always",
        Some("OnFailure") => "on-failure",
        Some("Never") => "no",
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "kube: {path}restartPolicy {other:?}: Always, OnFailure or Never"
            )));
        }
    };
    let mut plan = PodPlan {
        name: name.to_string(),
        hostname: text(s.get("hostname")),
        labels,
        share_pid: s.get("shareProcessNamespace").and_then(|v| v.as_bool()) == Some(true),
        restart: restart.to_string(),
        ..Default::default()
    };
    // Volumes of the pod: name -> what a `-v` names as its source.
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for (i, v) in s
        .get("volumes")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let vp = format!("{path}volumes[{i}].");
        let f = r.fields(
            v,
            &vp,
            &["name", "hostPath", "emptyDir", "persistentVolumeClaim"],
        );
        let vname = text(f.get("name"))
            .ok_or_else(|| Error::InvalidArgument(format!("kube: {vp}name is required")))?;
        let source = if let Some(h) = f.get("hostPath") {
            let h = r.fields(h, &format!("{vp}hostPath."), &["path", "type"]);
            let p = text(h.get("path")).ok_or_else(|| {
                Error::InvalidArgument(format!("kube: {vp}hostPath.path is required"))
            })?;
            match h.get("type").and_then(|t| t.as_str()).unwrap_or("") {
                "" | "DirectoryOrCreate" => {}
                "Directory" | "File" | "Socket" | "CharDevice" | "BlockDevice" => {
                    if !std::path::Path::new(&p).exists() {
                        return Err(Error::InvalidArgument(format!(
                            "kube: {vp}hostPath.path {p} does not exist"
                        )));
                    }
                }
                "FileOrCreate" => {
                    if !std::path::Path::new(&p).exists() {
                        std::fs::write(&p, b"").map_err(|e| Error::io(&p, e))?;
                    }
                }
                other => (r.warn)(format!("{vp}hostPath.type {other} is not supported")),
            }
            p
        } else if let Some(e) = f.get("emptyDir") {
            let e = r.fields(e, &format!("{vp}emptyDir."), &["medium"]);
            if e.get("medium").and_then(|m| m.as_str()) == Some("Memory") {
                // A tmpfs per container: barge cannot share one tmpfs between containers.
                sources.insert(vname, MEMORY.into());
                continue;
            }
            let v = format!("{name}-{vname}");
            plan.empty_dirs.push(v.clone());
            v
        } else if let Some(c) = f.get("persistentVolumeClaim") {
            let c = r.fields(
                c,
                &format!("{vp}persistentVolumeClaim."),
                &["claimName", "readOnly"],
            );
            text(c.get("claimName")).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "kube: {vp}persistentVolumeClaim.claimName is required"
                ))
            })?
        } else {
            (r.warn)(format!(
                "{vp}: volume {vname} has no hostPath, emptyDir or persistentVolumeClaim; ignored"
            ));
            continue;
        };
        sources.insert(vname, source);
    }
    let containers = s
        .get("containers")
        .and_then(|c| c.as_array())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::InvalidArgument(format!("kube: {path}containers: at least one is required"))
        })?;
    for (i, c) in containers.iter().enumerate() {
        let cp = format!("{path}containers[{i}].");
        let f = r.fields(c, &cp, CONTAINER);
        let cname = text(f.get("name"))
            .ok_or_else(|| Error::InvalidArgument(format!("kube: {cp}name is required")))?;
        let image = text(f.get("image"))
            .ok_or_else(|| Error::InvalidArgument(format!("kube: {cp}image is required")))?;
        let mut ctr = ContainerPlan {
            name: format!("{name}-{cname}"),
            image,
            command: string_list(f.get("command"), &format!("{cp}command"))?,
            args: string_list(f.get("args"), &format!("{cp}args"))?,
            workdir: text(f.get("workingDir")),
            tty: f.get("tty").and_then(|v| v.as_bool()) == Some(true),
            stdin: f.get("stdin").and_then(|v| v.as_bool()) == Some(true),
            pull: match f.get("imagePullPolicy").and_then(|v| v.as_str()) {
                Some("Always") => "always",
                Some("Never") => "never",
                _ => "missing",
            }
            .into(),
            ..Default::default()
        };
        for (j, e) in f
            .get("env")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let e = r.fields(e, &format!("{cp}env[{j}]."), &["name", "value"]);
            if let Some(k) = text(e.get("name")) {
                ctr.env
                    .push(format!("{k}={}", text(e.get("value")).unwrap_or_default()));
            }
        }
        for (j, p) in f
            .get("ports")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let p = r.fields(
                p,
                &format!("{cp}ports[{j}]."),
                &["containerPort", "hostPort", "hostIP", "protocol", "name"],
            );
            let proto = match p.get("protocol").and_then(|v| v.as_str()).unwrap_or("TCP") {
                "TCP" => "tcp",
                "UDP" => "udp",
                other => {
                    (r.warn)(format!(
                        "{cp}ports[{j}].protocol {other} is not supported; ignored"
                    ));
                    continue;
                }
            };
            let (Some(cport), Some(hport)) =
                (text(p.get("containerPort")), text(p.get("hostPort")))
            else {
                // Without a hostPort Kubernetes publishes nothing on the node either.
                continue;
            };
            plan.publish.push(match text(p.get("hostIP")) {
                Some(ip) => format!("{ip}:{hport}:{cport}/{proto}"),
                None => format!("{hport}:{cport}/{proto}"),
            });
            plan.publish_fields
                .push(format!("{cp}ports[{j}].hostPort {hport}"));
        }
        for (j, m) in f
            .get("volumeMounts")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let mp = format!("{cp}volumeMounts[{j}].");
            let m = r.fields(m, &mp, &["name", "mountPath", "readOnly"]);
            let vname = text(m.get("name")).unwrap_or_default();
            let target = text(m.get("mountPath")).ok_or_else(|| {
                Error::InvalidArgument(format!("kube: {mp}mountPath is required"))
            })?;
            let Some(src) = sources.get(&vname) else {
                return Err(Error::InvalidArgument(format!(
                    "kube: {mp}name: no volume {vname:?} in the pod"
                )));
            };
            if src == MEMORY {
                ctr.tmpfs.push(target);
                continue;
            }
            let ro = if m.get("readOnly").and_then(|v| v.as_bool()) == Some(true) {
                ":ro"
            } else {
                ""
            };
            ctr.volumes.push(format!("{src}:{target}{ro}"));
        }
        if let Some(res) = f.get("resources") {
            let res = r.fields(res, &format!("{cp}resources."), &["limits"]);
            if let Some(l) = res.get("limits") {
                let l = r.fields(l, &format!("{cp}resources.limits."), &["memory", "cpu"]);
                if let Some(m) = text(l.get("memory")) {
                    ctr.memory = Some(memory_quantity(&m)?);
                }
                if let Some(c) = text(l.get("cpu")) {
                    ctr.cpus = Some(cpu_quantity(&c)?);
                }
            }
        }
        if let Some(sc) = f.get("securityContext") {
            let scp = format!("{cp}securityContext.");
            let sc = r.fields(
                sc,
                &scp,
                &[
                    "privileged",
                    "readOnlyRootFilesystem",
                    "runAsUser",
                    "runAsGroup",
                    "capabilities",
                    "allowPrivilegeEscalation",
                ],
            );
            ctr.privileged = sc.get("privileged").and_then(|v| v.as_bool()) == Some(true);
            ctr.read_only =
                sc.get("readOnlyRootFilesystem").and_then(|v| v.as_bool()) == Some(true);
            ctr.no_new_privileges =
                sc.get("allowPrivilegeEscalation").and_then(|v| v.as_bool()) == Some(false);
            ctr.user = match (text(sc.get("runAsUser")), text(sc.get("runAsGroup"))) {
                (Some(u), Some(g)) => Some(format!("{u}:{g}")),
                (Some(u), None) => Some(u),
                (None, Some(g)) => Some(format!("0:{g}")),
                (None, None) => None,
            };
            if let Some(c) = sc.get("capabilities") {
                let c = r.fields(c, &format!("{scp}capabilities."), &["add", "drop"]);
                ctr.cap_add = string_list(c.get("add"), &format!("{scp}capabilities.add"))?
                    .unwrap_or_default();
                ctr.cap_drop = string_list(c.get("drop"), &format!("{scp}capabilities.drop"))?
                    .unwrap_or_default();
            }
        }
        plan.containers.push(ctr);
    }
    Ok(plan)
}

fn metadata(
    r: &mut Reader<'_>,
    v: Option<&Value>,
    path: &str,
) -> Result<(String, BTreeMap<String, String>)> {
    let m = r.fields(v.unwrap_or(&Value::Null), path, &["name", "labels"]);
    let name = text(m.get("name"))
        .ok_or_else(|| Error::InvalidArgument(format!("kube: {path}name is required")))?;
    if dns_label(&name) != name {
        return Err(Error::InvalidArgument(format!(
            "kube: {path}name {name:?} is not a valid name (lowercase letters, digits and '-')"
        )));
    }
    let labels = m
        .get("labels")
        .and_then(|l| l.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), text(Some(v)).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    Ok((name, labels))
}

/// Parse a (multi-document) manifest into the pods to create. Every field that is not
/// honoured is passed to `warn` with its path.
pub fn plan(yaml: &str, warn: &mut dyn FnMut(String)) -> Result<Vec<PodPlan>> {
    use serde::Deserialize;
    let mut r = Reader { warn };
    let mut out = Vec::new();
    for (n, doc) in serde_norway::Deserializer::from_str(yaml).enumerate() {
        let v = Value::deserialize(doc)
            .map_err(|e| Error::InvalidArgument(format!("kube: document {}: {e}", n + 1)))?;
        if v.is_null() {
            continue;
        }
        let kind = v["kind"].as_str().unwrap_or("").to_string();
        match kind.as_str() {
            "Pod" => {
                let top = r.fields(
                    &v,
                    "",
                    &["apiVersion", "kind", "metadata", "spec", "status"],
                );
                let (name, labels) = metadata(&mut r, top.get("metadata"), "metadata.")?;
                let spec = top.get("spec").cloned().unwrap_or(Value::Null);
                out.push(pod_plan(&mut r, &name, labels, &spec, "spec.", "always")?);
            }
            "Deployment" => {
                let top = r.fields(
                    &v,
                    "",
                    &["apiVersion", "kind", "metadata", "spec", "status"],
                );
                let (name, deployment_labels) = metadata(&mut r, top.get("metadata"), "metadata.")?;
                let spec = r.fields(
                    top.get("spec").unwrap_or(&Value::Null),
                    "spec.",
                    &["replicas", "selector", "template"],
                );
                let replicas = spec.get("replicas").and_then(|r| r.as_u64()).unwrap_or(1);
                let template = r.fields(
                    spec.get("template").unwrap_or(&Value::Null),
                    "spec.template.",
                    &["metadata", "spec"],
                );
                let tm = r.fields(
                    template.get("metadata").unwrap_or(&Value::Null),
                    "spec.template.metadata.",
                    &["labels", "name"],
                );
                let mut labels = deployment_labels;
                labels.extend(
                    tm.get("labels")
                        .and_then(|l| l.as_object())
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| (k.clone(), text(Some(v)).unwrap_or_default()))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                );
                let tspec = template.get("spec").cloned().unwrap_or(Value::Null);
                let mut quiet = |_: String| {};
                for i in 0..replicas {
                    let pod_name = pod_name(&name, replicas, i);
                    // Warnings once, not once per replica.
                    let plan = if i == 0 {
                        pod_plan(
                            &mut r,
                            &pod_name,
                            labels.clone(),
                            &tspec,
                            "spec.template.spec.",
                            "always",
                        )?
                    } else {
                        let mut rq = Reader { warn: &mut quiet };
                        pod_plan(
                            &mut rq,
                            &pod_name,
                            labels.clone(),
                            &tspec,
                            "spec.template.spec.",
                            "always",
                        )?
                    };
                    let mut plan = plan;
                    if i > 0 {
                        // A host port serves one pod: Kubernetes on one node binds it for
                        // one replica and leaves the others Pending; here the others run,
                        // reachable on their pod addresses. (podman caps replicas at 1.)
                        plan.publish.clear();
                        plan.publish_fields.clear();
                    } else if replicas > 1 {
                        for f in &plan.publish_fields {
                            (r.warn)(format!(
                                "{f}: published by {pod_name} only: a host port serves one pod, \
                                 not {replicas} replicas"
                            ));
                        }
                    }
                    out.push(plan);
                }
            }
            "" => {
                return Err(Error::InvalidArgument(format!(
                    "kube: document {} has no kind",
                    n + 1
                )));
            }
            other => (r.warn)(format!(
                "document {}: kind {other} is not supported (Pod, Deployment); skipped",
                n + 1
            )),
        }
    }
    Ok(out)
}

/// A Deployment's pods: `<name>-pod` for one replica, `<name>-pod-<i>` for several.
pub fn pod_name(deployment: &str, replicas: u64, i: u64) -> String {
    if replicas == 1 {
        format!("{deployment}-pod")
    } else {
        format!("{deployment}-pod-{i}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("swift_Keel.1"), "swift-keel-1");
        assert_eq!(dns_label("__"), "x");
    }

    #[test]
    fn quantities() {
        assert_eq!(memory_quantity("64Mi").unwrap(), "67108864");
        assert_eq!(memory_quantity("1G").unwrap(), "1000000000");
        assert_eq!(memory_quantity("1024").unwrap(), "1024");
        assert!(memory_quantity("lots").is_err());
        assert_eq!(cpu_quantity("500m").unwrap(), 0.5);
        assert_eq!(cpu_quantity("2").unwrap(), 2.0);
    }

    #[test]
    fn command_split_follows_the_entrypoint() {
        let img = json!({"Entrypoint": ["/ep", "-x"], "Cmd": ["a"]});
        let full: Vec<String> = ["/ep", "-x", "b", "c"].map(String::from).to_vec();
        assert_eq!(
            command_args(&full, &Value::Null, &img),
            (
                vec!["/ep".into(), "-x".into()],
                vec!["b".into(), "c".into()]
            )
        );
        let full: Vec<String> = ["sh", "-c", "x"].map(String::from).to_vec();
        assert_eq!(
            command_args(&full, &Value::Null, &json!({})),
            (vec![], full.clone())
        );
    }

    #[test]
    fn plan_maps_fields_and_warns_about_the_rest() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {tier: front}
  annotations: {a: b}
spec:
  restartPolicy: OnFailure
  volumes:
  - name: data
    hostPath: {path: /tmp}
  - name: scratch
    emptyDir: {}
  containers:
  - name: app
    image: busybox
    command: [sh, -c]
    args: ["echo $X"]
    env: [{name: X, value: "1"}]
    ports: [{containerPort: 80, hostPort: 8080}]
    volumeMounts: [{name: data, mountPath: /d, readOnly: true}, {name: scratch, mountPath: /s}]
    resources: {limits: {memory: 64Mi, cpu: 500m}}
    livenessProbe: {exec: {command: [true]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
"#;
        let mut warnings = Vec::new();
        let plans = plan(yaml, &mut |w| warnings.push(w)).unwrap();
        assert_eq!(plans.len(), 3);
        let web = &plans[0];
        assert_eq!(web.restart, "on-failure");
        assert_eq!(web.publish, ["8080:80/tcp"]);
        assert_eq!(web.empty_dirs, ["web-scratch"]);
        let app = &web.containers[0];
        assert_eq!(app.name, "web-app");
        assert_eq!(
            app.command.as_deref(),
            Some(&["sh".into(), "-c".into()][..])
        );
        assert_eq!(app.env, ["X=1"]);
        assert_eq!(app.volumes, ["/tmp:/d:ro", "web-scratch:/s"]);
        assert_eq!(app.memory.as_deref(), Some("67108864"));
        assert_eq!(app.cpus, Some(0.5));
        assert_eq!(plans[1].name, "api-pod-0");
        assert_eq!(plans[2].name, "api-pod-1");
        assert_eq!(plans[2].restart, "always");
        assert!(
            warnings
                .iter()
                .any(|w| w == "spec.containers[0].livenessProbe is not supported; ignored"),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w == "metadata.annotations is not supported; ignored")
        );
        assert!(warnings.iter().any(|w| w.contains("kind Service")));
    }

    #[test]
    fn a_host_port_goes_to_the_first_replica_only() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: busybox
        ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 81}]
"#;
        let mut warnings = Vec::new();
        let plans = plan(yaml, &mut |w| warnings.push(w)).unwrap();
        let publish: Vec<&[String]> = plans.iter().map(|p| &p.publish[..]).collect();
        assert_eq!(publish, [&["8080:80/tcp".to_string()][..], &[], &[]]);
        assert_eq!(
            warnings,
            [
                "spec.template.spec.containers[0].ports[0].hostPort 8080: published by \
              web-pod-0 only: a host port serves one pod, not 3 replicas"
            ]
        );
    }
}
