//! The local AWS emulator (moto + our extensions), started and stopped by the tests themselves.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The emulator's python: `SECURE_EKS_EMULATOR_PYTHON`, else the (idempotent) installer's answer.
fn python() -> PathBuf {
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

/// A running emulator on 127.0.0.1.
pub struct Emulator {
    child: Child,
    pub url: String,
}

fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

impl Emulator {
    pub fn start() -> Emulator {
        let py = python();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(&py)
                .arg(repo_root().join("tests/emulator/moto_ext_server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn emulator");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken: try another (the child is reaped)
                }
                if http_get_ok(port, "/moto-api/") {
                    return Emulator { child, url: format!("http://127.0.0.1:{port}") };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the emulator did not start");
    }

    /// Provider `endpoints` config pointing every service at the emulator.
    pub fn endpoints(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for s in ["ec2", "iam", "eks", "ssm", "sts", "kms", "logs"] {
            m.insert(s.into(), self.url.clone().into());
        }
        serde_json::Value::Object(m)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Run a boto3 snippet against the emulator (the emulator's venv has boto3). `client(svc)`
    /// is predefined; the snippet prints its answer.
    pub fn boto3(&self, snippet: &str) -> String {
        let prelude = format!(
            "import boto3, json\ndef client(s):\n    return boto3.client(s, region_name='us-east-1', endpoint_url='{}', aws_access_key_id='testing', aws_secret_access_key='testing')\n",
            self.url
        );
        let out = Command::new(python()).arg("-c").arg(format!("{prelude}{snippet}")).output().expect("run python");
        assert!(out.status.success(), "boto3 snippet failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// How many resources carry `secure-eks:cluster` tags, by kind (vpcs, subnets, sgs, clusters, roles, log groups).
    pub fn leftovers(&self) -> String {
        self.boto3(
            "ec2 = client('ec2')\n\
             f = [{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}]\n\
             vpcs = len(ec2.describe_vpcs(Filters=f)['Vpcs'])\n\
             subnets = len(ec2.describe_subnets(Filters=f)['Subnets'])\n\
             sgs = len(ec2.describe_security_groups(Filters=f)['SecurityGroups'])\n\
             clusters = len(client('eks').list_clusters()['clusters'])\n\
             roles = len([r for r in client('iam').list_roles()['Roles'] if r['RoleName'].endswith(('-cluster', '-node', '-cluster-autoscaler'))])\n\
             groups = len(client('logs').describe_log_groups(logGroupNamePrefix='/aws/eks/')['logGroups'])\n\
             print(f'vpcs={vpcs} subnets={subnets} sgs={sgs} clusters={clusters} roles={roles} logGroups={groups}')",
        )
    }
}
