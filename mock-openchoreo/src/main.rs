//! `mock-openchoreo` binary: run the mock as a child process (jest, demos, benchmarks).

use std::process::ExitCode;
use std::time::Duration;

use mock_openchoreo::{Faults, Kind, MockOptions, MockServer, OAuthSettings};

const USAGE: &str =
    "usage: mock-openchoreo [--port N] [--namespaces N] [--projects N] [--components N]
                       [--endpoints N] [--schema-share F] [--dependencies N] [--seed N]
                       [--token T] [--cursor-ttl-secs N] [--faults JSON]
                       [--oauth-client ID:SECRET ...] [--token-lifetime-secs N]
                       [--<plural> N ...] [--unserved-kinds a,b] [--templates local|example]
                       [--notify-url URL]

  --port             0 picks a free port (default 8080)
  --projects         projects per namespace; --components: components per project
  --endpoints        endpoints per workload; --dependencies: dependencies per workload
  --schema-share     share (0..1) of endpoints carrying schema.content
  --token            require `Authorization: Bearer T` on /api/v1
  --oauth-client     register a client of POST /oauth2/token (client-credentials grant)
                     and require its tokens on /api/v1 (instead of --token); repeatable
  --token-lifetime-secs  lifetime of issued tokens (default 300)
  --cursor-ttl-secs  cursor lifetime (default 300; 0 never expires)
  --faults           initial faults as JSON, e.g. '{\"errorRate\":0.1}'
  --<plural> N       synthetic items of a platform kind, per namespace (namespaced kinds)
                     or in all (cluster kinds), e.g. --environments 3 --clustertraits 2;
                     plurals: environments observabilityalertsnotificationchannels dataplanes
                     workflowplanes observabilityplanes deploymentpipelines componenttypes
                     traits resourcetypes projecttypes resources workflows clustercomponenttypes
                     clusterresourcetypes clusterprojecttypes clustertraits clusterworkflows
                     clusterdataplanes clusterobservabilityplanes clusterworkflowplanes
  --unserved-kinds   comma-separated plurals answered 404, as an older OpenChoreo
  --templates        where the custom templates some component types name live: `example`
                     (default) a repository that does not exist; `local` this stand-in's
                     /templates/<name>/template.yaml, an authored Template for any name
  --notify-url       POST each /admin edit's change event {kind, name, namespace?, action}
                     to this http:// URL (e.g. a portal's events HTTP ingress)
  --namespaces 0     an empty installation (no cluster items either): load items via /admin

Prints `mock-openchoreo listening on http://127.0.0.1:PORT (N components)` when ready.";

/// The command line: the server's options, whether it serves the custom templates, and
/// the token endpoint's settings (set once it runs).
struct Cli {
    opts: MockOptions,
    serve_templates: bool,
    oauth: OAuthSettings,
    notify_url: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Cli, String> {
    let mut serve_templates = false;
    let mut oauth = OAuthSettings::default();
    let mut opts = MockOptions {
        port: 8080,
        ..MockOptions::default()
    };
    let mut ttl_secs: Option<u64> = None;
    let mut notify_url = None;
    let mut i = 0;
    while i < args.len() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (args[i].clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))?
            }
        };
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        let spec = &mut opts.spec;
        match flag.as_str() {
            "--port" => {
                opts.port = num(&value)?
                    .try_into()
                    .map_err(|_| "--port: out of range".to_string())?
            }
            "--namespaces" => spec.namespaces = num(&value)? as usize,
            "--projects" => spec.projects_per_namespace = num(&value)? as usize,
            "--components" => spec.components_per_project = num(&value)? as usize,
            "--endpoints" => spec.endpoints_per_workload = num(&value)? as usize,
            "--dependencies" => spec.dependencies_per_component = num(&value)? as usize,
            "--seed" => spec.seed = num(&value)?,
            "--schema-share" => {
                spec.schema_share = value
                    .parse()
                    .map_err(|_| format!("--schema-share: not a number: {value}"))?
            }
            "--token" => opts.token = Some(value).filter(|t| !t.is_empty()),
            "--cursor-ttl-secs" => ttl_secs = Some(num(&value)?),
            "--oauth-client" => {
                let (id, secret) = value
                    .split_once(':')
                    .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
                    .ok_or_else(|| "--oauth-client: expected ID:SECRET".to_string())?;
                oauth.clients.insert(id.to_owned(), secret.to_owned());
                oauth.require_tokens = true;
            }
            "--token-lifetime-secs" => oauth.token_lifetime_ms = num(&value)? * 1000,
            "--unserved-kinds" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let kind = Kind::parse(name)
                        .ok_or_else(|| format!("--unserved-kinds: unknown kind {name}"))?;
                    spec.unserved_kinds.insert(kind);
                }
            }
            "--templates" => {
                serve_templates = match value.as_str() {
                    "local" => true,
                    "example" => false,
                    other => return Err(format!("--templates: local or example, not {other}")),
                }
            }
            "--notify-url" => {
                mock_openchoreo::MockHandle::check_notify_url(&value)
                    .map_err(|e| format!("--notify-url: {e}"))?;
                notify_url = Some(value);
            }
            "--faults" => {
                opts.faults =
                    serde_json::from_str::<Faults>(&value).map_err(|e| format!("--faults: {e}"))?
            }
            _ => match flag.strip_prefix("--").and_then(Kind::from_plural) {
                Some(kind) if kind.is_platform() => {
                    spec.kinds.insert(kind, num(&value)? as usize);
                }
                _ => return Err(format!("unknown flag {flag}")),
            },
        }
        i += 1;
    }
    if let Some(secs) = ttl_secs {
        opts.faults.cursor_ttl_ms = secs * 1000;
    }
    opts.spec.validate()?;
    opts.faults.validate()?;
    oauth
        .validate()
        .map_err(|e| format!("--token-lifetime-secs: {e}"))?;
    Ok(Cli {
        opts,
        serve_templates,
        oauth,
        notify_url,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Cli {
        opts,
        serve_templates,
        oauth,
        notify_url,
    } = match parse_args(&args) {
        Ok(cli) => cli,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mock-openchoreo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let components = opts.spec.total_components();
    let server = match MockServer::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock-openchoreo: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if serve_templates {
        server.handle().serve_templates(&server.url());
    }
    server
        .handle()
        .set_oauth(oauth)
        .expect("validated when parsed");
    server
        .handle()
        .set_notify_url(notify_url.as_deref())
        .expect("validated when parsed");
    println!(
        "mock-openchoreo listening on {} ({components} components)",
        server.url()
    );

    wait_for_signal().await;
    // Let in-flight requests finish, but don't hang on a client that never lets go.
    let _ = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_openchoreo::InstallationSpec;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_flags() {
        let Cli { opts: o, serve_templates, oauth, .. } = parse_args(&args("--port 0 --namespaces 3 --projects=10 --components 20 --endpoints 2 --schema-share 0.25 --dependencies 1 --token T --cursor-ttl-secs 7 --seed 9 --environments 5 --clustertraits=0 --unserved-kinds workflowplanes,clusterdataplanes --oauth-client c1:s1 --token-lifetime-secs 2")).unwrap();
        assert!(oauth.require_tokens);
        assert_eq!(oauth.clients.get("c1").map(String::as_str), Some("s1"));
        assert_eq!(oauth.token_lifetime_ms, 2000);
        assert!(parse_args(&args("--oauth-client nosecret")).is_err());
        assert!(parse_args(&args("--token-lifetime-secs 0")).is_err());
        let mut kinds = mock_openchoreo::default_kind_counts();
        kinds.insert(Kind::Environment, 5);
        kinds.insert(Kind::ClusterTrait, 0);
        assert_eq!(o.port, 0);
        assert_eq!(
            o.spec,
            InstallationSpec {
                namespaces: 3,
                projects_per_namespace: 10,
                components_per_project: 20,
                endpoints_per_workload: 2,
                schema_share: 0.25,
                dependencies_per_component: 1,
                seed: 9,
                kinds,
                unserved_kinds: [Kind::WorkflowPlane, Kind::ClusterDataPlane].into()
            }
        );
        assert_eq!(o.token.as_deref(), Some("T"));
        assert_eq!(o.faults.cursor_ttl_ms, 7000);
        assert!(!serve_templates);
        assert!(
            parse_args(&args("--templates local"))
                .unwrap()
                .serve_templates
        );
        assert!(parse_args(&args("--templates elsewhere")).is_err());
        assert_eq!(
            parse_args(&args("--notify-url http://127.0.0.1:7007/api/events/http/openchoreo"))
                .unwrap()
                .notify_url
                .as_deref(),
            Some("http://127.0.0.1:7007/api/events/http/openchoreo")
        );
        assert!(parse_args(&args("--notify-url https://x/y")).is_err());
        assert!(parse_args(&args("--bogus 1")).is_err());
        assert!(parse_args(&args("--projects-x 1")).is_err());
        assert!(parse_args(&args("--components-per 1")).is_err());
        assert!(parse_args(&args("--unserved-kinds nope")).is_err());
        assert!(parse_args(&args("--port")).is_err());
        assert!(parse_args(&args("--schema-share 2")).is_err());
    }
}
