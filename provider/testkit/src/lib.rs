//! Test support shared by the executor's and the server's test suites: the local AWS emulator
//! (`tests/emulator/moto_ext_server.py`), started on a free 127.0.0.1 port and stopped on drop,
//! with its `/_fault` rules and a boto3 helper for checks that must not use our own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The services the provider's `endpoints` config can point at the emulator.
pub const SERVICES: [&str; 8] = ["ec2", "iam", "eks", "ssm", "sts", "kms", "logs", "elbv2"];

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The emulator's python: `SECURE_EKS_EMULATOR_PYTHON`, else the (idempotent) installer's answer.
pub fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        if let Ok(p) = std::env::var("SECURE_EKS_EMULATOR_PYTHON") {
            return PathBuf::from(p);
        }
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/install-emulator.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/install-emulator.sh");
        assert!(out.status.success(), "installing the emulator failed");
        let s = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(s.lines().last().expect("installer printed the python path").trim())
    })
    .clone()
}

fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    http_within(port, method, path, body, Duration::from_secs(5))
}

fn http_within(port: u16, method: &str, path: &str, body: &str, timeout: Duration) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(timeout));
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    Some(buf)
}

/// A running emulator on 127.0.0.1.
pub struct Emulator {
    child: Child,
    /// Its port.
    pub port: u16,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

/// The emulator's time scale: seconds of emulator time per real AWS minute (a cluster that takes
/// ~10 minutes to create on AWS is CREATING for 10 × scale seconds); 0 = every transition is due
/// at once (on the next request). `SECURE_EKS_EMULATOR_TIME_SCALE` when set, else
/// [`SUITE_TIME_SCALE`].
pub fn default_time_scale() -> f64 {
    std::env::var("SECURE_EKS_EMULATOR_TIME_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(SUITE_TIME_SCALE)
}

/// The time scale of the Rust suites: 0.2 s per real AWS minute (a cluster is CREATING for 2 s,
/// a node group for ~1 s), so every waiter, progress line and DELETING state is exercised while
/// the whole CI run stays within its budget; at 1.0 the yaml-minimal e2e test alone took 205 s.
/// Tests about time itself choose their own scale (`start_with_time_scale`).
pub const SUITE_TIME_SCALE: f64 = 0.2;

impl Emulator {
    /// Start on a free port (retrying if another process takes it first) and wait until it
    /// answers, at the [`default_time_scale`].
    pub fn start() -> Emulator {
        Emulator::start_with_time_scale(default_time_scale())
    }

    /// [`Emulator::start`] with a time scale: seconds of emulator time per real AWS minute (0 =
    /// instant: what a test uses when time is not its subject, e.g. the fault matrix).
    pub fn start_with_time_scale(scale: f64) -> Emulator {
        let py = python();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(&py)
                .arg(repo_root().join("tests/emulator/moto_ext_server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("SECURE_EKS_EMULATOR_TIME_SCALE", scale.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn emulator");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken: try another (the child is reaped)
                }
                if http(port, "GET", "/moto-api/", "").is_some_and(|r| r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200")) {
                    return Emulator { child, port, url: format!("http://127.0.0.1:{port}") };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the emulator did not start");
    }

    /// Every service pointed at the emulator, as the provider's `endpoints` map.
    pub fn endpoint_map(&self) -> BTreeMap<String, String> {
        SERVICES.iter().map(|s| (s.to_string(), self.url.clone())).collect()
    }

    /// The same, as JSON.
    pub fn endpoints(&self) -> serde_json::Value {
        serde_json::Value::Object(self.endpoint_map().into_iter().map(|(k, v)| (k, v.into())).collect())
    }

    /// Add a `/_fault` rule (see tests/emulator/README.md); returns all rules with their remaining counts.
    pub fn fault(&self, rule: serde_json::Value) -> serde_json::Value {
        let r = http(self.port, "POST", "/_fault", &rule.to_string()).unwrap();
        assert!(r.contains(" 200 "), "{r}");
        // The body may be chunk-framed: take the JSON list itself.
        let body = r.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let (start, end) = (body.find('[').unwrap(), body.rfind(']').unwrap());
        serde_json::from_str(&body[start..=end]).unwrap()
    }

    /// Remove every `/_fault` rule.
    pub fn clear_faults(&self) {
        let r = http(self.port, "DELETE", "/_fault", "").unwrap();
        assert!(r.contains(" 200 "), "{r}");
    }

    /// Every AWS request since the last [`Emulator::clear_requests`] (or the start), in arrival
    /// order: the `METHOD PATH TARGET ACTION` key the `/_fault` rules match, the HTTP status
    /// answered (injected faults included) and the service (from the SigV4 credential scope).
    pub fn requests(&self) -> Vec<(String, u16, String)> {
        let r = http(self.port, "GET", "/_requests", "").unwrap();
        assert!(r.contains(" 200 "), "{r}");
        let body = r.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let (start, end) = (body.find('[').unwrap(), body.rfind(']').unwrap());
        serde_json::from_str(&body[start..=end]).unwrap()
    }

    /// Empty the request log.
    pub fn clear_requests(&self) {
        let r = http(self.port, "DELETE", "/_requests", "").unwrap();
        assert!(r.contains(" 200 "), "{r}");
    }

    /// Change the time scale for transitions scheduled from now on (`POST /_time`).
    pub fn set_time_scale(&self, scale: f64) {
        let r = http(self.port, "POST", "/_time", &serde_json::json!({ "scale": scale }).to_string()).unwrap();
        assert!(r.contains(" 200 "), "{r}");
    }

    fn post_json(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = http(self.port, "POST", path, &body.to_string()).unwrap();
        assert!(r.contains(" 200 "), "{path}: {r}");
        let body = r.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let (start, end) = (body.find('{').unwrap(), body.rfind('}').unwrap());
        serde_json::from_str(&body[start..=end]).unwrap()
    }

    /// Make what a `Service type=LoadBalancer` leaves in the cluster's VPC (`POST /_k8s/loadbalancer`):
    /// a load balancer, a target group and a security group tagged `elbv2.k8s.aws/cluster=<cluster>`.
    /// Answers their ids (`loadBalancerArn`, `targetGroupArn`, `securityGroupId`, `networkInterfaceIds`).
    pub fn k8s_load_balancer(&self, region: &str, cluster: &str) -> serde_json::Value {
        self.post_json("/_k8s/loadbalancer", serde_json::json!({ "cluster": cluster, "region": region }))
    }

    /// Make what GuardDuty runtime monitoring leaves in the cluster's VPC (`POST /_k8s/guardduty`):
    /// a `guardduty-data` interface endpoint and its security group, tagged `GuardDutyManaged`.
    pub fn k8s_guardduty(&self, region: &str, cluster: &str) -> serde_json::Value {
        self.post_json("/_k8s/guardduty", serde_json::json!({ "cluster": cluster, "region": region }))
    }

    /// Test switch: the region no longer offers these endpoint services (e.g. `["ecr.dkr"]`), as
    /// some regions really lack some; until [`Emulator::reset`].
    pub fn hide_endpoint_services(&self, region: &str, services: &[&str]) {
        self.post_json("/_endpoint_services", serde_json::json!({ "region": region, "remove": services }));
    }

    /// Why the emulator failed a node group (`GET /_k8s/nodegroup`): its status and reasons.
    pub fn nodegroup_verdict(&self, region: &str, cluster: &str, nodegroup: &str) -> String {
        let r = http(self.port, "GET", &format!("/_k8s/nodegroup?cluster={cluster}&nodegroup={nodegroup}&region={region}"), "")
            .unwrap_or_default();
        r.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(r)
    }

    /// Clear all AWS state (`POST /moto-api/reset`), the fault rules and the request log.
    pub fn reset(&self) {
        // A reset waits for the requests in flight; on a busy machine that can take a while.
        let r = http_within(self.port, "POST", "/moto-api/reset", "", Duration::from_secs(120)).unwrap_or_default();
        assert!(r.contains(" 200 "), "reset: {r:?}");
        self.clear_faults();
        self.clear_requests();
    }

    /// Run a boto3 snippet against the emulator (its venv has boto3); `client(svc)` is predefined
    /// and the snippet prints its answer.
    pub fn boto3(&self, snippet: &str) -> String {
        self.boto3_in("us-east-1", snippet)
    }

    /// [`Emulator::boto3`] with `client(svc)` in `region`.
    pub fn boto3_in(&self, region: &str, snippet: &str) -> String {
        let prelude = format!(
            "import boto3, json\ndef client(s):\n    return boto3.client(s, region_name='{region}', endpoint_url='{}', aws_access_key_id='testing', aws_secret_access_key='testing')\n",
            self.url
        );
        let out = Command::new(python()).arg("-c").arg(format!("{prelude}{snippet}")).output().expect("run python");
        assert!(out.status.success(), "boto3 snippet failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// How many resources the clusters left, by kind: tagged VPCs, subnets, SGs, VPC endpoints and
    /// launch templates; EKS clusters; our IAM roles; OIDC providers; enabled KMS keys tagged with
    /// the cluster; `/aws/eks/` log groups; ELBv2 load balancers and target groups. The SGs and
    /// endpoints include what Kubernetes and GuardDuty leave (`k8s_load_balancer`,
    /// `k8s_guardduty`): SGs tagged `elbv2.k8s.aws/cluster` or `GuardDutyManaged`, endpoints
    /// tagged `GuardDutyManaged`.
    pub fn leftovers(&self) -> String {
        self.leftovers_in("us-east-1")
    }

    /// [`Emulator::leftovers`] in `region` (IAM roles and OIDC providers are global).
    pub fn leftovers_in(&self, region: &str) -> String {
        self.boto3_in(
            region,
            "ec2 = client('ec2')\n\
             f = [{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}]\n\
             vpcs = len(ec2.describe_vpcs(Filters=f)['Vpcs'])\n\
             subnets = len(ec2.describe_subnets(Filters=f)['Subnets'])\n\
             left = lambda tags: any(t['Key'] in ('secure-eks:cluster', 'elbv2.k8s.aws/cluster', 'GuardDutyManaged') for t in tags or [])\n\
             sgs = len([g for g in ec2.describe_security_groups()['SecurityGroups'] if left(g.get('Tags'))])\n\
             vpces = len([e for e in ec2.describe_vpc_endpoints()['VpcEndpoints'] if left(e.get('Tags')) and e['State'].lower() not in ('deleted', 'deleting')])\n\
             lts = len(ec2.describe_launch_templates(Filters=f)['LaunchTemplates'])\n\
             clusters = len(client('eks').list_clusters()['clusters'])\n\
             roles = len([r for r in client('iam').list_roles()['Roles'] if (r['RoleName'].endswith(('-cluster', '-node', '-cluster-autoscaler')) or '-addon-' in r['RoleName'])])\n\
             oidc = len(client('iam').list_open_id_connect_providers()['OpenIDConnectProviderList'])\n\
             kms = client('kms')\n\
             keys = 0\n\
             for k in kms.list_keys()['Keys']:\n\
             \x20   m = kms.describe_key(KeyId=k['KeyId'])['KeyMetadata']\n\
             \x20   tags = [t['TagKey'] for t in kms.list_resource_tags(KeyId=k['KeyId']).get('Tags', [])]\n\
             \x20   keys += int(m['KeyState'] == 'Enabled' and 'secure-eks:cluster' in tags)\n\
             groups = len(client('logs').describe_log_groups(logGroupNamePrefix='/aws/eks/')['logGroups'])\n\
             elb = client('elbv2')\n\
             lbs = len(elb.describe_load_balancers()['LoadBalancers'])\n\
             tgs = len(elb.describe_target_groups()['TargetGroups'])\n\
             print(f'vpcs={vpcs} subnets={subnets} sgs={sgs} endpoints={vpces} launchTemplates={lts} clusters={clusters} roles={roles} oidc={oidc} keys={keys} logGroups={groups} loadBalancers={lbs} targetGroups={tgs}')",
        )
    }
}

impl Emulator {
    /// Every node group of `cluster` in `region` and its coredns add-on, with their EKS status,
    /// as boto3 describes them: `nodegroup/general=ACTIVE coredns=ACTIVE`.
    pub fn cluster_health_in(&self, region: &str, cluster: &str) -> String {
        self.boto3_in(
            region,
            &format!(
                "eks = client('eks')\n\
                 out = [f\"nodegroup/{{n}}={{eks.describe_nodegroup(clusterName='{cluster}', nodegroupName=n)['nodegroup']['status']}}\" for n in sorted(eks.list_nodegroups(clusterName='{cluster}')['nodegroups'])]\n\
                 try:\n\
                 \x20   out.append('coredns=' + eks.describe_addon(clusterName='{cluster}', addonName='coredns')['addon']['status'])\n\
                 except eks.exceptions.ResourceNotFoundException:\n\
                 \x20   out.append('coredns=missing')\n\
                 print(' '.join(out))"
            ),
        )
    }

    /// Panics unless every node group of `cluster` and its coredns add-on are ACTIVE (the end of
    /// every `up`: issue #12's done-when).
    pub fn assert_cluster_active(&self, region: &str, cluster: &str) {
        let h = self.cluster_health_in(region, cluster);
        let parts: Vec<&str> = h.split_whitespace().collect();
        assert!(
            parts.len() >= 2 && parts.iter().all(|p| p.ends_with("=ACTIVE")) && parts.iter().any(|p| p.starts_with("nodegroup/")),
            "every node group and coredns must be ACTIVE after up: {h}"
        );
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
