//! The real Pulumi CLI (built by scripts/install-pulumi.sh), run offline against a file backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The directory holding `pulumi` and its language hosts.
pub fn pulumi_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("SECURE_EKS_PULUMI_BIN") {
            return PathBuf::from(p);
        }
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/install-pulumi.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/install-pulumi.sh");
        assert!(out.status.success(), "building the Pulumi CLI failed");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).lines().last().expect("bin dir").trim())
    })
    .clone()
}

/// The directory holding our provider binary.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pulumi-resource-secure-eks")).parent().expect("bin dir").to_path_buf()
}

/// A throwaway Pulumi workspace: a copy of a program, its own PULUMI_HOME and file backend.
pub struct Workspace {
    pub dir: PathBuf,
    pub root: PathBuf,
    env: Vec<(String, String)>,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Result of one CLI run.
pub struct Run {
    pub code: Option<i32>,
    pub out: String,
}

impl Workspace {
    /// Copy `program` (relative to the repo root) and point its `plugins.providers` path at the
    /// provider binary under test.
    pub fn new(program: &str) -> Workspace {
        let root = std::env::temp_dir().join(format!("seks-e2e-{}-{}", std::process::id(), rand_suffix()));
        let dir = root.join("project");
        copy_dir(&repo_root().join(program), &dir);
        let yaml = dir.join("Pulumi.yaml");
        let text = std::fs::read_to_string(&yaml).unwrap();
        let rewritten: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("path:") {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    format!("{indent}path: {}", plugin_dir().display())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&yaml, rewritten + "\n").unwrap();
        std::fs::create_dir_all(root.join("state")).unwrap();
        let path = format!("{}:{}", pulumi_bin().display(), std::env::var("PATH").unwrap_or_default());
        let env = vec![
            ("PATH".into(), path),
            ("PULUMI_HOME".into(), root.join("home").display().to_string()),
            ("PULUMI_BACKEND_URL".into(), format!("file://{}", root.join("state").display())),
            ("PULUMI_CONFIG_PASSPHRASE".into(), String::new()),
            ("PULUMI_SKIP_UPDATE_CHECK".into(), "true".into()),
            ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION".into(), "true".into()),
            ("PULUMI_DISABLE_REGISTRY_RESOLVE".into(), "true".into()),
            ("PULUMI_DIY_BACKEND_NO_LEGACY_WARNING".into(), "true".into()),
            ("PULUMI_SKIP_CONFIRMATIONS".into(), "true".into()),
            ("PULUMI_IGNORE_AMBIENT_PLUGINS".into(), "true".into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("NO_COLOR".into(), "1".into()),
        ];
        Workspace { dir, root, env }
    }

    /// Set (or, with `""`, blank out) an environment variable for every later CLI run.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Run `pulumi <args>` in the project directory.
    pub fn pulumi(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(pulumi_bin().join("pulumi"));
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null());
        for k in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "PULUMI_ACCESS_TOKEN"] {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let Output { status, stdout, stderr } = cmd.output().expect("run pulumi");
        let out = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
        Run { code: status.code(), out }
    }

    /// Start `pulumi <args>` without waiting (output discarded).
    pub fn spawn_pulumi(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(pulumi_bin().join("pulumi"));
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        for k in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "PULUMI_ACCESS_TOKEN"] {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("spawn pulumi")
    }

    /// `pulumi stack init` plus the emulator endpoints in the stack config.
    pub fn init_stack(&self, endpoints: &serde_json::Value) {
        let r = self.pulumi(&["stack", "init", "dev", "--non-interactive"]);
        assert_eq!(r.code, Some(0), "stack init: {}", r.out);
        for (svc, url) in endpoints.as_object().unwrap() {
            let key = format!("secure-eks:endpoints.{svc}");
            let r = self.pulumi(&["config", "set", "--path", &key, url.as_str().unwrap()]);
            assert_eq!(r.code, Some(0), "config set: {}", r.out);
        }
    }
}

impl Workspace {
    /// examples/yaml-minimal on a new stack against `endpoints`, after one successful `up`
    /// (without a preview): the workspace and the cluster's name.
    pub fn minimal_cluster_up(endpoints: &serde_json::Value) -> (Workspace, String) {
        let ws = Workspace::new("examples/yaml-minimal");
        ws.init_stack_quick(endpoints);
        let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
        assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
        let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
        (ws, name)
    }

    /// Like [`Workspace::init_stack`], but sets every endpoint with one `pulumi config set-all`
    /// (one CLI start instead of seven; the corpus test runs this for every program).
    pub fn init_stack_quick(&self, endpoints: &serde_json::Value) {
        let r = self.pulumi(&["stack", "init", "dev", "--non-interactive"]);
        assert_eq!(r.code, Some(0), "stack init: {}", r.out);
        let pairs: Vec<String> = endpoints
            .as_object()
            .unwrap()
            .iter()
            .map(|(svc, url)| format!("secure-eks:endpoints.{svc}={}", url.as_str().unwrap()))
            .collect();
        let mut args = vec!["config", "set-all", "--path"];
        for p in &pairs {
            args.extend(["--plaintext", p.as_str()]);
        }
        let r = self.pulumi(&args);
        assert_eq!(r.code, Some(0), "config set-all: {}", r.out);
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

impl Workspace {
    /// Like [`Workspace::new`], but the copied Pulumi.yaml has no `plugins:` section at all, so
    /// the engine must find the provider where a user's engine does: installed under this
    /// workspace's own (initially empty) `PULUMI_HOME/plugins`. Nothing on PATH is used either
    /// (`PULUMI_IGNORE_AMBIENT_PLUGINS`).
    pub fn without_plugin_paths(program: &str) -> Workspace {
        let ws = Workspace::new(program);
        let yaml = ws.dir.join("Pulumi.yaml");
        let text = std::fs::read_to_string(&yaml).unwrap();
        let mut skipping = false;
        let mut kept = Vec::new();
        for line in text.lines() {
            // A top-level key starts or ends the `plugins:` block.
            if !line.is_empty() && !line.starts_with(char::is_whitespace) && !line.starts_with('#') {
                skipping = line.starts_with("plugins:");
            }
            if !skipping {
                kept.push(line);
            }
        }
        std::fs::write(&yaml, kept.join("\n") + "\n").unwrap();
        ws
    }

    /// This workspace's `PULUMI_HOME` (created by the CLI on first use).
    pub fn pulumi_home(&self) -> PathBuf {
        self.env.iter().find(|(k, _)| k == "PULUMI_HOME").map(|(_, v)| PathBuf::from(v)).unwrap()
    }
}

impl Workspace {
    /// Like [`Workspace::new`] for a program with dependencies (examples/typescript, python,
    /// go), then `scripts/prepare-examples.sh` on the copy: its `../../` paths (the SDK in
    /// `sdk/`) become absolute and its dependencies are installed (npm install against the
    /// cached build of sdk/nodejs, a cached virtualenv, Go modules).
    pub fn with_dependencies(program: &str) -> Workspace {
        let ws = Workspace::new(program);
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/prepare-examples.sh")).arg(&ws.dir).stdin(Stdio::null());
        for (k, v) in &ws.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run scripts/prepare-examples.sh");
        assert!(
            out.status.success(),
            "scripts/prepare-examples.sh {} failed:\n{}{}",
            ws.dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ws
    }
}

/// `leftovers()` when nothing tagged with a cluster is left.
pub const NOTHING_LEFT: &str = "vpcs=0 subnets=0 sgs=0 endpoints=0 launchTemplates=0 clusters=0 roles=0 oidc=0 keys=0 logGroups=0 loadBalancers=0 targetGroups=0";
/// `leftovers()` for one `examples/yaml-minimal` cluster.
pub const ONE_MINIMAL_CLUSTER: &str = "vpcs=1 subnets=6 sgs=3 endpoints=9 launchTemplates=1 clusters=1 roles=4 oidc=1 keys=1 logGroups=1 loadBalancers=0 targetGroups=0";

/// The pids of our provider processes started for a workspace (the engine runs plugins with the
/// project directory as their working directory).
pub fn provider_pids(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            String::from_utf8_lossy(&cmd).contains("pulumi-resource-secure-eks") && cwd.as_deref() == Some(dir)
        })
        .collect()
}

/// A VPC of the user's own with two subnets (us-east-1a and us-east-1b), made with boto3 rather
/// than our code: `[vpc, subnet a, subnet b]`.
pub fn users_vpc(emu: &secure_eks_testkit::Emulator) -> [String; 3] {
    let ids = emu.boto3(
        "ec2 = client('ec2')\n\
         v = ec2.create_vpc(CidrBlock='10.1.0.0/16')['Vpc']['VpcId']\n\
         ec2.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={'Value': True})\n\
         a = ec2.create_subnet(VpcId=v, CidrBlock='10.1.0.0/20', AvailabilityZone='us-east-1a')['Subnet']['SubnetId']\n\
         b = ec2.create_subnet(VpcId=v, CidrBlock='10.1.16.0/20', AvailabilityZone='us-east-1b')['Subnet']['SubnetId']\n\
         print(v, a, b)",
    );
    let mut it = ids.split_whitespace().map(str::to_string);
    let mut next = || it.next().expect("boto3 printed three ids");
    [next(), next(), next()]
}

impl Workspace {
    /// Point a copy of `examples/yaml-byo-vpc` at [`users_vpc`]'s ids (its stack config).
    pub fn set_byo_vpc(&self, ids: &[String; 3]) {
        for (k, v) in [("vpcId", &ids[0]), ("nodeSubnetA", &ids[1]), ("nodeSubnetB", &ids[2])] {
            assert_eq!(self.pulumi(&["config", "set", k, v]).code, Some(0));
        }
    }
}
