//! Test harness: spawn the real binary the way the engine does, and a fake Engine.Log endpoint.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost_types::value::Kind;
use prost_types::{Struct, Value};
use secure_eks_proto::pulumirpc::engine_server::{Engine, EngineServer};
use secure_eks_proto::pulumirpc::resource_provider_client::ResourceProviderClient;
use secure_eks_proto::pulumirpc::LogRequest;
use tonic::transport::Channel;

/// A fake engine that records Log calls.
#[derive(Clone, Default)]
pub struct FakeEngine {
    pub logs: Arc<Mutex<Vec<LogRequest>>>,
}

#[tonic::async_trait]
impl Engine for FakeEngine {
    async fn log(&self, request: tonic::Request<LogRequest>) -> Result<tonic::Response<()>, tonic::Status> {
        self.logs.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(()))
    }
}

impl FakeEngine {
    /// Start on a free port; returns the engine and its `host:port`.
    pub async fn start() -> (FakeEngine, String) {
        let engine = FakeEngine::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let svc = EngineServer::new(engine.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(svc)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        (engine, addr)
    }

    pub fn messages(&self) -> Vec<String> {
        self.logs.lock().unwrap().iter().map(|l| l.message.clone()).collect()
    }
}

/// The provider process.
pub struct Plugin {
    pub child: Child,
    pub port: u16,
    pub client: ResourceProviderClient<Channel>,
    pub first_line: String,
    pub stdout_rest: Arc<Mutex<String>>,
}

impl Plugin {
    pub async fn spawn(args: &[&str], env: &[(&str, &str)]) -> Plugin {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-secure-eks"));
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        for k in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn provider");
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        // Collect anything written after the port line (tests assert it stays empty).
        let stdout_rest = Arc::new(Mutex::new(String::new()));
        let sink = stdout_rest.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("bad port line {line:?}"));
        let client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
            .await
            .unwrap()
            .max_decoding_message_size(64 << 20);
        Plugin { child, port, client, first_line: line, stdout_rest }
    }

    /// Wait for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
pub const SIG: &str = "4dabf18193072939515e22adb298388d";
pub const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";

/// JSON to a protobuf Value (no special values).
pub fn pv(j: &serde_json::Value) -> Value {
    let kind = match j {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue { values: a.iter().map(pv).collect() }),
        serde_json::Value::Object(o) => Kind::StructValue(st(&serde_json::Value::Object(o.clone()))),
    };
    Value { kind: Some(kind) }
}

/// JSON object to a Struct.
pub fn st(j: &serde_json::Value) -> Struct {
    Struct { fields: j.as_object().unwrap().iter().map(|(k, v)| (k.clone(), pv(v))).collect() }
}

/// A protobuf Value back to JSON (special objects stay objects).
pub fn js(v: &Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => (*b).into(),
        Some(Kind::NumberValue(n)) => serde_json::json!(n),
        Some(Kind::StringValue(s)) => s.clone().into(),
        Some(Kind::ListValue(l)) => l.values.iter().map(js).collect(),
        Some(Kind::StructValue(s)) => sj(s),
    }
}

pub fn sj(s: &Struct) -> serde_json::Value {
    serde_json::Value::Object(s.fields.iter().map(|(k, v)| (k.clone(), js(v))).collect())
}

/// A secret wrapper in JSON form.
pub fn secret(v: serde_json::Value) -> serde_json::Value {
    serde_json::json!({SIG: SECRET_SIG, "value": v})
}
pub mod emulator;
pub mod cli;
