//! `oc-ingest`: a diagnostic runner of the ingestion engine outside Node.
//!
//! It opens an [`Engine`] on an OpenChoreo API and a state database and ticks it in a
//! loop. The "catalog" is a journal file: every mutation the engine hands over is
//! appended as one line (`Mutation::to_backstage_json()`, the exact argument of
//! Backstage's `applyMutation`) and fsynced before the sink returns `Ok`, so a line in
//! the journal is a mutation the catalog durably applied. Replaying the journal gives
//! the catalog's content. The reliability tests kill this process mid-burst and check
//! that the replay loses nothing and repeats at most the one uncommitted page.
//!
//! ```text
//! oc-ingest --base-url URL --database URL [--provider NAME] [--chunk-size N]
//!           [--journal FILE] [--until-cycles N] [--burst-length-ms N]
//!           [--burst-interval-ms N] [--rest-length-ms N] [--lease-ttl-ms N]
//!           [--request-timeout-ms N] [--sink-delay-before-ms N] [--sink-delay-ms N]
//!           [--tick-ms N] [--token T] [--verbose]
//! ```
//!
//! The token can also come from `OPENCHOREO_TOKEN` (better: it stays out of `ps`).
//!
//! stdout: one JSON line per tick that did something (`{"tick":..,"action":..}`), and a
//! final `{"done":true,...}` line when `--until-cycles` cycles have completed (exit 0).
//! Without `--until-cycles` it runs until killed. Exit 2: bad arguments or the engine
//! could not open.

// The Node addon build (`napi build --features node`) compiles every target of the
// package; with that feature the library references Node's symbols, which only exist
// inside a Node process. The runner then links nothing of the library and says so.
#[cfg(feature = "node")]
fn main() {
    eprintln!("oc-ingest: this build has the `node` feature (the addon build); build the runner with `cargo build --bin oc-ingest`");
    std::process::exit(2);
}

#[cfg(not(feature = "node"))]
fn main() {
    runner::main()
}

#[cfg(not(feature = "node"))]
mod runner {
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::time::Duration;

    use openchoreo_incremental::engine::{Engine, Mutation, Sink};
    use openchoreo_incremental::EngineConfig;

    const USAGE: &str = "usage: oc-ingest --base-url URL --database URL [--provider NAME] [--chunk-size N] \
    [--journal FILE] [--until-cycles N] [--burst-length-ms N] [--burst-interval-ms N] [--rest-length-ms N] \
    [--lease-ttl-ms N] [--request-timeout-ms N] [--sink-delay-before-ms N] [--sink-delay-ms N] [--tick-ms N] \
    [--token T] [--verbose]";

    struct Args {
        config: EngineConfig,
        journal: Option<PathBuf>,
        until_cycles: Option<i64>,
        sink_delay_before: Duration,
        sink_delay_after: Duration,
        tick: Duration,
        verbose: bool,
    }

    fn parse_args() -> Result<Args, String> {
        let mut config = EngineConfig {
            // Diagnostic defaults: short pauses, so a cycle runs through without waiting.
            burst_interval: Duration::ZERO,
            rest_length: Duration::ZERO,
            backoff: vec![Duration::from_millis(200), Duration::from_secs(1), Duration::from_secs(5)],
            ..Default::default()
        };
        let mut args = Args {
            config: EngineConfig::default(),
            journal: None,
            until_cycles: None,
            sink_delay_before: Duration::ZERO,
            sink_delay_after: Duration::ZERO,
            tick: Duration::from_millis(20),
            verbose: false,
        };
        let mut it = std::env::args().skip(1);
        let mut base_url = None;
        let mut database = None;
        while let Some(flag) = it.next() {
            if flag == "--verbose" {
                args.verbose = true;
                continue;
            }
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = |v: &str| v.parse::<u64>().map_err(|_| format!("{flag} must be a whole number, got '{v}'"));
            let ms = |v: &str| num(v).map(Duration::from_millis);
            match flag.as_str() {
                "--base-url" => base_url = Some(value),
                "--database" => database = Some(value),
                "--provider" => config.provider_name = value,
                "--token" => config.token = Some(value),
                "--chunk-size" => config.chunk_size = num(&value)? as u32,
                "--journal" => args.journal = Some(PathBuf::from(value)),
                "--until-cycles" => args.until_cycles = Some(num(&value)? as i64),
                "--burst-length-ms" => config.burst_length = ms(&value)?,
                "--burst-interval-ms" => config.burst_interval = ms(&value)?,
                "--rest-length-ms" => config.rest_length = ms(&value)?,
                "--lease-ttl-ms" => config.lease_ttl = ms(&value)?,
                "--request-timeout-ms" => config.request_timeout = ms(&value)?,
                "--sink-delay-before-ms" => args.sink_delay_before = ms(&value)?,
                "--sink-delay-ms" => args.sink_delay_after = ms(&value)?,
                "--tick-ms" => args.tick = ms(&value)?,
                other => return Err(format!("unknown flag {other}")),
            }
        }
        if config.token.is_none() {
            // Keeps the token out of the process list.
            config.token = std::env::var("OPENCHOREO_TOKEN").ok().filter(|t| !t.is_empty());
        }
        config.base_url = base_url.ok_or("--base-url is required")?;
        config.database_url = database.ok_or("--database is required")?;
        args.config = config;
        Ok(args)
    }

    /// The catalog stand-in: one fsynced line per applied mutation.
    struct JournalSink {
        file: Option<Mutex<File>>,
        delay_before: Duration,
        delay_after: Duration,
    }

    impl JournalSink {
        fn open(path: Option<&Path>, delay_before: Duration, delay_after: Duration) -> std::io::Result<JournalSink> {
            let file = match path {
                Some(path) => {
                    let mut f = OpenOptions::new().create(true).read(true).append(true).open(path)?;
                    drop_partial_last_line(&mut f)?;
                    Some(Mutex::new(f))
                }
                None => None,
            };
            Ok(JournalSink { file, delay_before, delay_after })
        }
    }

    /// A line without its newline is a write the process did not finish (it was killed):
    /// like a catalog transaction that never committed, it is discarded.
    fn drop_partial_last_line(f: &mut File) -> std::io::Result<()> {
        let mut content = Vec::new();
        f.seek(SeekFrom::Start(0))?;
        f.read_to_end(&mut content)?;
        if content.last().is_some_and(|b| *b != b'\n') {
            let keep = content.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
            eprintln!("oc-ingest: dropping an unfinished journal line ({} bytes)", content.len() - keep);
            f.set_len(keep as u64)?;
            f.sync_all()?;
        }
        Ok(())
    }

    impl Sink for JournalSink {
        async fn apply(&self, mutation: Mutation) -> Result<(), String> {
            if !self.delay_before.is_zero() {
                tokio::time::sleep(self.delay_before).await;
            }
            if let Some(file) = &self.file {
                let mut line = mutation.to_backstage_json();
                line.push('\n');
                let mut f = file.lock().map_err(|_| "journal lock poisoned".to_string())?;
                f.write_all(line.as_bytes()).map_err(|e| format!("journal write failed: {e}"))?;
                f.sync_data().map_err(|e| format!("journal fsync failed: {e}"))?;
            }
            // The page is durably in the catalog; the engine has not committed it yet.
            if !self.delay_after.is_zero() {
                tokio::time::sleep(self.delay_after).await;
            }
            Ok(())
        }
    }

    pub fn main() {
        let args = match parse_args() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("oc-ingest: {e}\n{USAGE}");
                std::process::exit(2);
            }
        };
        let level = if args.verbose { tracing::Level::INFO } else { tracing::Level::WARN };
        let _ = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).try_init();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        std::process::exit(rt.block_on(run(args)));
    }

    async fn run(args: Args) -> i32 {
        let sink = match JournalSink::open(args.journal.as_deref(), args.sink_delay_before, args.sink_delay_after) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("oc-ingest: cannot open the journal: {e}");
                return 2;
            }
        };
        let engine = match Engine::open(args.config).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("oc-ingest: {e}");
                return 2;
            }
        };
        let mut tick = 0u64;
        loop {
            tick += 1;
            match engine.tick(&sink).await {
                Ok(r) => {
                    if r.action != "waiting" && r.action != "locked" {
                        let line = serde_json::json!({
                            "tick": tick, "pid": std::process::id(), "action": r.action, "pages": r.pages,
                            "entities": r.entities, "cycleCompleted": r.cycle_completed, "removed": r.removed,
                            "error": r.error,
                        });
                        println!("{line}");
                    }
                    if r.cycle_completed {
                        if let Some(until) = args.until_cycles {
                            match engine.status().await {
                                Ok(s) if s.last_completed_cycle.as_ref().is_some_and(|c| c.cycle >= until) => {
                                    println!("{}", serde_json::json!({"done": true, "cycle": s.cycle, "status": s}));
                                    engine.close().await;
                                    return 0;
                                }
                                Ok(_) => {}
                                Err(e) => eprintln!("oc-ingest: status failed: {e}"),
                            }
                        }
                    }
                }
                Err(e) => println!(
                    "{}",
                    serde_json::json!({"tick": tick, "pid": std::process::id(), "tickError": e.to_string()})
                ),
            }
            tokio::time::sleep(args.tick).await;
        }
    }
}
