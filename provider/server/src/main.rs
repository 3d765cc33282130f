//! `pulumi-resource-secure-eks`: started by the Pulumi engine as
//! `pulumi-resource-secure-eks [--logtostderr] [-v=N] [--tracing URL] <engine-address>`.
//! It prints exactly one line on stdout, the port, and serves the ResourceProvider protocol.
//! `pulumi-resource-secure-eks audit --cluster NAME [--region R] [--format text|json|sarif]` audits
//! an existing cluster instead (`audit.rs`).

use std::io::Write;

use anyhow::Context;
use clap::Parser;

/// Command line as the engine sends it. Unknown flags are ignored, never fatal.
#[derive(Parser, Debug, Default)]
#[command(name = "pulumi-resource-secure-eks", version, ignore_errors = true, disable_help_flag = true)]
struct Args {
    /// Log to stderr (the engine passes this with --logflow).
    #[arg(long)]
    logtostderr: bool,
    /// Verbosity, as `-v=9`.
    #[arg(short = 'v', value_name = "LEVEL")]
    verbosity: Option<String>,
    /// A tracing endpoint (accepted and ignored).
    #[arg(long)]
    tracing: Option<String>,
    /// Positional arguments; the last one is the engine's gRPC address.
    #[arg(allow_hyphen_values = false)]
    rest: Vec<String>,
}

/// Parse argv; flags we do not know are dropped first, so a newer engine's flags never break launch.
fn parse_args<I: IntoIterator<Item = String>>(argv: I) -> Args {
    let known = |a: &str| !a.starts_with('-') || a == "--logtostderr" || a.starts_with("-v") || a.starts_with("--tracing");
    let argv: Vec<String> = argv.into_iter().enumerate().filter(|(i, a)| *i == 0 || known(a)).map(|(_, a)| a).collect();
    Args::try_parse_from(argv).unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `audit --cluster NAME ...`: the audit of an existing cluster, without Pulumi.
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("audit") {
        let (code, out) = secure_eks_server::audit::cli(&argv[2..]).await;
        let mut stream: Box<dyn Write> = if code == 2 { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
        writeln!(stream, "{out}").context("writing the audit")?;
        std::process::exit(code);
    }
    let args = parse_args(std::env::args());
    let level = match args.verbosity.as_deref().map(|v| v.trim_start_matches('=')) {
        Some(v) if v.parse::<u32>().unwrap_or(0) >= 9 => "debug",
        Some(_) => "info",
        None => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SECURE_EKS_LOG").unwrap_or_else(|_| level.into()))
        .init();
    let engine = args.rest.last().cloned();
    // Register the signal handlers before the port line: the engine may send SIGINT right after.
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).context("SIGINT handler")?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("SIGTERM handler")?;
    let (listener, addr) = secure_eks_server::bind().await.context("binding 127.0.0.1")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", addr.port()).context("writing the port")?;
        out.flush().context("flushing the port")?;
    }
    let shutdown = async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    };
    secure_eks_server::serve(listener, engine, shutdown).await.context("serving")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn engine(v: &[&str]) -> Option<String> {
        parse_args(v.iter().map(|s| s.to_string())).rest.last().cloned()
    }

    #[test]
    fn lenient_argv() {
        assert_eq!(engine(&["bin", "127.0.0.1:1234"]).as_deref(), Some("127.0.0.1:1234"));
        assert_eq!(engine(&["bin", "--logtostderr", "-v=9", "127.0.0.1:1"]).as_deref(), Some("127.0.0.1:1"));
        assert_eq!(engine(&["bin", "--tracing", "http://x", "127.0.0.1:2"]).as_deref(), Some("127.0.0.1:2"));
        assert_eq!(engine(&["bin", "--unknown-flag", "127.0.0.1:3"]).as_deref(), Some("127.0.0.1:3"));
        assert_eq!(engine(&["bin"]), None);
    }
}
