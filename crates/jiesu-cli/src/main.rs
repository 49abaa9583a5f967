//! `jiesu` — the one binary: serve the API and UI, build a demo city, manage users, print
//! statistics and run the benchmarks.

mod analytics_cmds;
mod bench;
mod bench_report;
mod bench_topics;
mod governance_cmds;
mod import_cmds;

// mimalloc: the server allocates small objects on many threads at once (tokio workers, the writer,
// blocking readers); glibc malloc's arenas contend there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod ledger_cmds;
mod ops_cmds;
mod routing_cmds;
mod trust_cmds;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use jiesu_domain::Role;
use jiesu_http::{AppState, DemoAccount};
use jiesu_store::{prelude::*, Store, StoreOptions};
use jiesu_text::intake_model;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "jiesu", version, about = "Jiesu 接诉 — a 12345 citizen-service hotline platform", long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a calibrated demo city (Beijing) into a new database and exit.
    Generate {
        /// The database to create: an SQLite file, or an empty PostgreSQL database
        /// (`postgres://user@host:port/name`).
        #[arg(long)]
        db: PathBuf,
        /// Months of history, ending now.
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Volume as a fraction of Beijing's real volume (1.0 = about 14 million requests a year).
        #[arg(long, default_value_t = 0.01)]
        scale: f64,
        /// Random seed: the same seed gives the same city.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The first month of history, YYYY-MM (city time); with --to instead of --months, e.g.
        /// `--from 2019-01 --to 2021-11` for the seed report's three years.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The last month of history, YYYY-MM (included; the history ends at its end).
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Do not train the intake models at the end (the server then trains them at start-up
        /// and is not ready meanwhile; `jiesu train` trains them later).
        #[arg(long)]
        no_train: bool,
    },
    /// Create an empty database with the reference data (units, categories) and no tickets.
    Init {
        #[arg(long)]
        db: PathBuf,
        /// The city's time zone, an IANA name (every local day and month boundary: scoring
        /// periods, ticket numbers, knowledge-base validity, reports).
        #[arg(long, default_value = jiesu_domain::CityZone::DEFAULT_NAME)]
        tz: String,
    },
    /// Serve the API and the web UI.
    Serve {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// POST ticket events to this URL (repeatable), signed with HMAC-SHA256 of the body under
        /// the secret in JIESU_WEBHOOK_SECRET (header X-Jiesu-Signature: sha256=…).
        #[arg(long)]
        webhook: Vec<String>,
        /// Send citizens' SMS notifications through the file-log gateway (one line per message).
        #[arg(long)]
        sms_log: Option<PathBuf>,
        /// For tests and demonstrations only: the server's clock starts at this instant (RFC 3339,
        /// e.g. 2026-11-30T15:30:00Z) and runs on from there at the normal pace.
        #[arg(long, value_name = "RFC3339")]
        test_clock: Option<String>,
        /// Set one abuse limit (repeatable), e.g. `--limit login_account_failures=5`; 0 turns a
        /// count off. Names and defaults: docs/SECURITY.md, "Abuse limits".
        #[arg(long = "limit", value_name = "NAME=VALUE")]
        limits: Vec<String>,
        /// Behind a reverse proxy that sets X-Forwarded-For: take the client address for the
        /// abuse limits from its first entry (never set this without such a proxy). The limit
        /// on open connections stays per socket peer (the proxy).
        #[arg(long)]
        trust_proxy: bool,
        /// A log-in unused this many minutes is refused (idle timeout).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=1440))]
        session_idle_minutes: i64,
        /// A log-in is refused this many hours after it began, used or not (absolute lifetime).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=720))]
        session_hours: i64,
        /// A client is disconnected when a request's header has not arrived in this many seconds,
        /// or its body pauses this long (a half-sent request).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
        read_timeout_seconds: u64,
        /// 保存期限: erase the personal data (name, phone, address) of archived tickets this many
        /// years after they closed; the tickets and their figures stay. 0 keeps it for ever.
        #[arg(long, default_value_t = jiesu_http::DEFAULT_RETENTION_YEARS, value_parser = clap::value_parser!(u32).range(0..=100))]
        retention_years: u32,
        /// The log's format on standard error: `text` (for people) or `json` (one object per line,
        /// for a log collector; each request's lines carry its request id).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// A PostgreSQL hot standby of the `--db` city (`postgres://…`, the same database name):
        /// the dashboards, the scorecards and citizens' tracking read from it, sparing the
        /// primary; everything else and every write go to `--db`.
        #[arg(long, value_name = "URL")]
        replica: Option<String>,
    },
    /// Online backup of an SQLite city, also while a server is serving it; the copy is checked
    /// table by table and ticket by ticket, and the key files are copied beside it
    /// (FILE.keys, FILE.signing-key).
    Backup {
        /// The database to back up (an SQLite file).
        #[arg(long)]
        db: String,
        /// The backup file to write (must not exist, unless --force).
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing backup file.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into a new database file (and its key files beside it), checked the same
    /// way; refuses to overwrite a database that is not empty unless --force.
    Restore {
        /// The backup file (written by `jiesu backup`).
        #[arg(long)]
        from: PathBuf,
        /// The database to create.
        #[arg(long)]
        db: String,
        /// Replace an existing database (stop its server first).
        #[arg(long)]
        force: bool,
    },
    /// Generate a small demo city (if absent), create demo accounts and serve it.
    Demo {
        #[arg(long, default_value = "jiesu-data/demo.db")]
        db: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Manage partners (合作渠道) filing requests through Open311 (docs/OPEN311.md).
    Partner {
        #[command(subcommand)]
        cmd: PartnerCmd,
    },
    /// Print the city's key shares (channels, direct answers, dispatch by unit type and district,
    /// categories, callback rates).
    Stats {
        #[arg(long)]
        db: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The duty catalogue (派单目录): export, import, lint.
    Catalogue {
        #[command(subcommand)]
        cmd: routing_cmds::CatalogueCmd,
    },
    /// Replay the last months of tickets under a draft catalogue: who would gain and lose load.
    Whatif {
        #[arg(long)]
        db: PathBuf,
        /// The draft catalogue (CSV, as written by `jiesu catalogue export`).
        #[arg(long)]
        catalogue: PathBuf,
        #[arg(long, default_value_t = 1)]
        months: u32,
    },
    /// The monthly 三率 scorecard of streets, districts, departments or enterprises.
    Score(jiesu_score::cli::ScoreArgs),
    /// Exports without personal data (the facts scoring uses, one row per assignment).
    Export {
        #[command(subcommand)]
        cmd: ExportCmd,
    },
    /// Reports from the data platform (数据报告).
    Report {
        #[command(subcommand)]
        cmd: analytics_cmds::ReportCmd,
    },
    /// 未诉先办 — early warning of spikes by place × category: evaluate against CDC EARS, or score
    /// a series file.
    Warn {
        #[command(subcommand)]
        cmd: governance_cmds::WarnCmd,
    },
    /// 办理质量审计 — does a reply answer its request: evaluate on message–reply pairs, or score them.
    Audit {
        #[command(subcommand)]
        cmd: governance_cmds::AuditCmd,
    },
    /// 风险推送 — signs of an emergency in a request: evaluate the detector on the labelled real
    /// messages, or check a text.
    Risk {
        #[command(subcommand)]
        cmd: governance_cmds::RiskCmd,
    },
    /// Legacy imports: another system's export as tickets with their history, by a mapping file.
    Import {
        #[command(subcommand)]
        cmd: import_cmds::ImportCmd,
    },
    /// Scoring policies: check a policy file, print the shipped default.
    Policy {
        #[command(subcommand)]
        cmd: jiesu_score::cli::PolicyCmd,
    },
    /// Retrain the type and category classifiers from the database's history (the server uses the
    /// saved models in `<db>.models/`; the previous model stays if training fails).
    Train {
        #[arg(long)]
        db: PathBuf,
    },
    /// Text classification: evaluate or cross-validate the classifier on CSV files.
    Classify {
        #[command(subcommand)]
        cmd: jiesu_text::cli::ClassifyCmd,
    },
    /// Benchmarks, each printed with its ratio against the reference named in its issue.
    Bench {
        #[command(subcommand)]
        cmd: BenchCmd,
    },
    /// Prints the API's OpenAPI 3.1 document (the committed copy: `jiesu openapi > web/openapi.json`).
    Openapi,
    /// Check the event log: every ticket's hash chain, the log positions, every ticket row against
    /// its events; names the first bad event (exit 1). Needs no key file.
    Verify {
        #[arg(long)]
        db: PathBuf,
    },
    /// Make a signed checkpoint of the event log now (the server makes one a day): prints the
    /// signed note. The signing key is JIESU_SIGNING_KEY_FILE, or `<db>.signing-key` beside the
    /// database, created on first use.
    Checkpoint {
        #[arg(long)]
        db: PathBuf,
    },
    /// Copy a whole SQLite city into an empty PostgreSQL database (迁移): every table as it is,
    /// then the same row counts and the same event chains verified. Run it again to resume after
    /// an interruption. The key file stays the same: copy `<from>.keys` to the PostgreSQL city's
    /// data directory (printed at the end) or point JIESU_KEY_FILE at it.
    Migrate {
        /// The SQLite database file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database, `postgres://user@host:port/name`.
        #[arg(long)]
        to: String,
    },
    /// The personal-data key file (JIESU_KEY_FILE, or `<db>.keys` beside the database): new,
    /// rotate, prune, status.
    Keys {
        #[command(subcommand)]
        cmd: trust_cmds::KeysCmd,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user account.
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        name: String,
        /// agent, dispatcher, unit_handler, unit_manager, callback_agent, supervisor or admin.
        #[arg(long)]
        role: String,
        /// The unit code (required for unit_handler and unit_manager).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        password: String,
    },
}

#[derive(Subcommand)]
enum PartnerCmd {
    /// Add a partner and print, once, its API key (first line; only its hash is stored) and its
    /// signing secret for HMAC-signed requests (second line; derived from the key file, never
    /// stored): docs/OPEN311.md, docs/CHANNELS.md.
    Add {
        #[arg(long)]
        db: PathBuf,
        /// The partner's name (unique).
        #[arg(long)]
        name: String,
        /// The channel its requests are filed under: web, wechat, app, weibo, message_board,
        /// grid or partner_hotline.
        #[arg(long)]
        channel: String,
        /// The emergency service whose transfers (转接) it replies to: 110, 119, 120 or 122
        /// (the 110 linkage, 110联动, is `--serves 110`).
        #[arg(long)]
        serves: Option<String>,
    },
    /// List the partners (names and channels; keys are never shown again).
    List {
        #[arg(long)]
        db: PathBuf,
    },
}

/// `jiesu export …`: data without personal data.
#[derive(Subcommand)]
enum ExportCmd {
    /// The data platform's ticket facts (one row per ticket, every dimension the dashboards group
    /// by, no personal data) for [from, to), as Parquet (DuckDB, Spark, Trino read it) or CSV.
    Facts(analytics_cmds::ExportFactsArgs),
    /// 开放数据 — the public open-data file for [from, to): one row per request, no personal
    /// data, no free text, places no finer than the community, small groups coarsened then left
    /// out (fields in docs/EXPORTS.md); CSV or Parquet.
    OpenData(analytics_cmds::ExportFactsArgs),
    #[command(flatten)]
    Scoring(jiesu_score::cli::ExportCmd),
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Durable HTTP intake with N concurrent clients against the raw in-process SQLite limit.
    Intake {
        /// A new database file for the benchmark (a second one is made beside it for the limit).
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
    },
    /// Time and peak memory of `jiesu generate` at a given scale.
    Generate {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 12)]
        months: u32,
    },
    /// Dispatch suggestions per second (5,000-rule catalogue, one core) and one scheduler pass over
    /// 1 million open clocks.
    Route {
        #[arg(long, default_value_t = 5000)]
        rules: usize,
        #[arg(long, default_value_t = 300_000)]
        queries: usize,
        #[arg(long, default_value_t = 1_000_000)]
        open: usize,
    },
    /// The monthly scorecard of all units at Beijing scale against DuckDB on the same rows.
    Score(jiesu_score::cli::BenchScoreArgs),
    /// Knowledge-base search latency and recall over 100,000 articles against SQLite FTS5 (trigram).
    Kb(jiesu_kb::BenchKbArgs),
    /// Classification throughput against the Python scikit-learn pipeline.
    Classify(jiesu_text::cli::BenchClassifyArgs),
    /// The hotline report (专项报告四) over three years of Beijing-scale synthesised ticket facts
    /// against DuckDB running equivalent SQL over the same rows in Parquet.
    Report(bench_report::BenchReportArgs),
    /// 每月一题: the NPMI coherence of the concrete problems found in the requests' texts against
    /// gensim's LDA with the same number of topics on the same texts.
    Topics(bench_topics::BenchTopicsArgs),
}

/// The log's format (`jiesu serve --log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() {
    let cli = Cli::parse();
    // benchmarks serve thousands of requests a second: no line per request there
    let default_filter = if matches!(cli.cmd, Cmd::Bench { .. }) {
        "info,tower_http=warn,jiesu::request=warn"
    } else {
        "info,tower_http=warn"
    };
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| default_filter.into())
    };
    match cli.cmd {
        Cmd::Serve {
            log_format: LogFormat::Json,
            ..
        } => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        _ => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
    }
    // the one reading of the machine's clock: every command runs at this instant (a server
    // started by `serve`/`demo` then keeps the machine's time through `AppState::load`)
    let now = chrono::Utc::now();
    if let Err(e) = run(cli, now) {
        eprintln!("错误 error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    match cli.cmd {
        Cmd::Generate {
            db,
            months,
            scale,
            seed,
            from,
            to,
            no_train,
        } => {
            let (months, end) = match (from, to) {
                (Some(f), Some(t)) => history_months(&f, &t)?,
                _ => (months, now),
            };
            generate(&db, months, scale, seed, end)?;
            // the intake models are trained now (at most 30,000 examples: seconds for a small
            // city, about a minute for a large one), so a server started on the city is ready
            // at once; `--no-train` leaves it to `jiesu train` or the server's start-up
            if no_train {
                Ok(())
            } else {
                train(&db, now)
            }
        }
        Cmd::Init { db, tz } => {
            let zone = jiesu_domain::CityZone::parse(&tz).map_err(|e| {
                anyhow::anyhow!(
                    "--tz: {e}\n--tz：未知时区 {tz:?}，请使用 IANA 时区名，如 Asia/Shanghai"
                )
            })?;
            refuse_existing(&db)?;
            let store = jiesu_store::open_store(&db, StoreOptions::default())?;
            seed_reference(&*store, now)?;
            store.set_city_zone(zone)?;
            println!(
                "created {} with the reference data (no tickets), time zone {zone}",
                db.display()
            );
            Ok(())
        }
        Cmd::Serve {
            db,
            listen,
            webhook,
            sms_log,
            test_clock,
            limits,
            trust_proxy,
            session_idle_minutes,
            session_hours,
            read_timeout_seconds,
            retention_years,
            log_format: _,
            replica,
        } => {
            let mut lim = jiesu_http::limits::Limits {
                trust_proxy,
                ..Default::default()
            };
            for spec in &limits {
                lim.set(spec).map_err(|e| anyhow::anyhow!(e))?;
            }
            let clock = test_clock.as_deref().map(parse_test_clock).transpose()?;
            let store = open_existing(&db)?;
            let replica = replica
                .map(|url| {
                    if !jiesu_store::is_postgres_url(&db.to_string_lossy()) {
                        bail!("--replica needs --db to be the PostgreSQL primary (postgres://…)\n--replica 需要 --db 为 PostgreSQL 主库");
                    }
                    jiesu_store::open_replica(&url, StoreOptions::default())
                        .with_context(|| format!("cannot open the standby {url}"))
                })
                .transpose()?;
            let secret = std::env::var("JIESU_WEBHOOK_SECRET").unwrap_or_default();
            if !webhook.is_empty() && secret.len() < 16 {
                bail!("--webhook needs JIESU_WEBHOOK_SECRET set to a secret of at least 16 characters");
            }
            let cfg = jiesu_http::notify::NotifyConfig {
                webhooks: webhook,
                secret,
                sms: sms_log.map(|path| {
                    std::sync::Arc::new(jiesu_http::notify::FileLogSms { path })
                        as std::sync::Arc<dyn jiesu_http::notify::SmsGateway>
                }),
            };
            let sessions = jiesu_http::auth::SessionPolicy {
                idle: chrono::Duration::minutes(session_idle_minutes),
                absolute: chrono::Duration::hours(session_hours),
            };
            let read_timeout = std::time::Duration::from_secs(read_timeout_seconds);
            serve_cfg(
                store,
                &listen,
                None,
                ServeOptions {
                    notify: cfg,
                    test_clock: clock,
                    limits: lim,
                    sessions,
                    read_timeout,
                    retention_years,
                    replica,
                },
            )
        }
        Cmd::Backup { db, out, force } => ops_cmds::backup(&db, &out, force),
        Cmd::Restore { from, db, force } => ops_cmds::restore(&from, &db, force),
        Cmd::Demo { db, listen } => demo(&db, &listen, now),
        Cmd::User {
            cmd:
                UserCmd::Add {
                    db,
                    name,
                    role,
                    unit,
                    password,
                },
        } => {
            let store = open_existing(&db)?;
            add_user(&*store, &name, &role, unit.as_deref(), &password, now)?;
            println!("user {name} ({role}) added");
            Ok(())
        }
        Cmd::Partner { cmd } => match cmd {
            PartnerCmd::Add {
                db,
                name,
                channel,
                serves,
            } => {
                if let Some(s) = &serves {
                    if jiesu_domain::ticket::EmergencyService::parse(s).is_none() {
                        anyhow::bail!(
                            "--serves must be one of {}, not '{s}'",
                            jiesu_domain::ticket::EmergencyService::names()
                        );
                    }
                }
                let name = name.trim().to_string();
                if name.is_empty() || name.chars().count() > 100 {
                    anyhow::bail!("--name must be 1 to 100 characters");
                }
                match jiesu_domain::ticket::Channel::parse(&channel) {
                    None => anyhow::bail!(
                        "unknown channel '{channel}' (one of {})",
                        jiesu_domain::ticket::Channel::names()
                    ),
                    Some(jiesu_domain::ticket::Channel::Phone) => {
                        anyhow::bail!("a partner files online: choose a channel other than phone")
                    }
                    Some(_) => {}
                }
                let store = open_existing(&db)?;
                let key = jiesu_http::open311::new_partner_key();
                let hash = jiesu_http::open311::key_hash(&key);
                let p = store.add_partner(&name, &channel, &hash, now)?;
                let secret = store.new_partner_secret(p.id, serves.as_deref(), now)?;
                eprintln!(
                    "partner {name} (channel {channel}{}) added; its api_key and signing secret (shown once):",
                    serves
                        .as_deref()
                        .map(|s| format!(", answers transfers to {s}"))
                        .unwrap_or_default()
                );
                println!("{key}");
                println!("{secret}");
                Ok(())
            }
            PartnerCmd::List { db } => {
                let store = open_existing(&db)?;
                for p in store.partners()? {
                    println!("{}\t{}\t{}", p.name, p.channel, p.created_at);
                }
                Ok(())
            }
        },
        Cmd::Stats { db, json } => {
            let store = open_existing(&db)?;
            let s = jiesu_demo::stats(&*store)?;
            if json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&s)?);
            }
            Ok(())
        }
        Cmd::Catalogue { cmd } => routing_cmds::run_catalogue(cmd, now),
        Cmd::Whatif {
            db,
            catalogue,
            months,
        } => routing_cmds::whatif(&db, &catalogue, months, now),
        Cmd::Score(a) => jiesu_score::cli::run_score(a),
        Cmd::Export { cmd } => match cmd {
            ExportCmd::Facts(a) => analytics_cmds::run_export_facts(&a, now).map(|_| ()),
            ExportCmd::OpenData(a) => analytics_cmds::run_export_open_data(&a, now),
            ExportCmd::Scoring(cmd) => jiesu_score::cli::run_export(cmd),
        },
        Cmd::Report { cmd } => analytics_cmds::run_report(cmd, now),
        Cmd::Warn { cmd } => governance_cmds::run_warn(cmd, now),
        Cmd::Audit { cmd } => governance_cmds::run_audit(cmd),
        Cmd::Risk { cmd } => governance_cmds::run_risk(cmd),
        Cmd::Import { cmd } => import_cmds::run(cmd, now),
        Cmd::Policy { cmd } => jiesu_score::cli::run_policy(cmd),
        Cmd::Train { db } => train(&db, now),
        Cmd::Classify { cmd } => jiesu_text::cli::run_classify(cmd),
        Cmd::Verify { db } => trust_cmds::verify(&db),
        Cmd::Keys { cmd } => trust_cmds::run(cmd),
        Cmd::Checkpoint { db } => ledger_cmds::checkpoint(&db, now),
        Cmd::Migrate { from, to } => migrate(&from, &to),
        Cmd::Openapi => {
            print!("{}", jiesu_http::openapi_text());
            Ok(())
        }
        Cmd::Bench { cmd } => match cmd {
            BenchCmd::Intake {
                db,
                clients,
                seconds,
            } => bench::intake(&db, clients, seconds, now),
            BenchCmd::Generate { db, scale, months } => bench::generate(&db, scale, months),
            BenchCmd::Route {
                rules,
                queries,
                open,
            } => routing_cmds::bench_route(rules, queries, open),
            BenchCmd::Score(a) => jiesu_score::cli::run_bench_score(a),
            BenchCmd::Kb(args) => jiesu_kb_bench::run_bench_kb(args),
            BenchCmd::Classify(args) => jiesu_text::cli::run_bench_classify(args),
            BenchCmd::Report(args) => bench_report::run_bench_report(args),
            BenchCmd::Topics(args) => bench_topics::run(args),
        },
    }
}

/// `jiesu migrate --from FILE --to postgres://…`.
fn migrate(from: &Path, to: &str) -> Result<()> {
    if !jiesu_store::is_postgres_url(to) {
        bail!("--to must be a PostgreSQL URL (postgres://user@host:port/name), got {to:?}\n--to 须为 PostgreSQL 地址（postgres://用户@主机:端口/库名）");
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = jiesu_store::pg::migrate::migrate_from_sqlite(from, to, &mut |t, done, total| {
        bar.set_message(t.to_string());
        bar.set_length(total.max(0) as u64);
        bar.set_position(done.max(0) as u64);
    })
    .with_context(|| format!("migrating {} to PostgreSQL", from.display()))?;
    bar.finish_and_clear();
    for (table, total, copied) in &report.tables {
        let note = if *copied == *total {
            String::new()
        } else {
            format!(" ({copied} copied now)")
        };
        println!("{table:<20} {total:>10} rows{note}");
    }
    println!(
        "verified: every table's row count and the event chains (digest {}) are the same; {:.1} s",
        &report.events_digest[..16],
        report.seconds
    );
    let keys = {
        let mut k = from.as_os_str().to_owned();
        k.push(".keys");
        PathBuf::from(k)
    };
    let store = jiesu_store::PgStore::open_with(
        to,
        StoreOptions {
            durable: true,
            keys: jiesu_store::KeySource::File(keys.clone()),
        },
    )?;
    let mut target = store.path().as_os_str().to_owned();
    target.push(".keys");
    println!(
        "personal data is sealed with {}: serve with JIESU_KEY_FILE={} or copy it to {}",
        keys.display(),
        keys.display(),
        PathBuf::from(target).display()
    );
    Ok(())
}

fn refuse_existing(db: &Path) -> Result<()> {
    if jiesu_store::city_exists(db)? {
        bail!(
            "{} already exists and holds a city; choose a new file or an empty PostgreSQL database (nothing was changed)\n{} 已存在且已有城市数据；请换一个新文件或空的 PostgreSQL 数据库（未做任何修改）",
            db.display(),
            db.display()
        );
    }
    Ok(())
}

/// Opens a database that must exist (so a typo does not silently create an empty city).
pub fn open_existing(db: &Path) -> Result<Arc<dyn Store>> {
    if !jiesu_store::city_exists(db)? {
        bail!(
            "database {} does not exist or holds no city; create one with `jiesu generate --db {}` or `jiesu init --db {}`",
            db.display(),
            db.display(),
            db.display()
        );
    }
    jiesu_store::open_store(db, StoreOptions::default())
        .with_context(|| format!("cannot open {}", db.display()))
}

/// Writes the shipped reference data (Beijing's units, our category tree) into the store.
pub fn seed_reference(store: &dyn Store, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let units = jiesu_refdata::units();
    let cats = jiesu_refdata::category_tree();
    store.replace_reference(&units, cats.all())?;
    seed_reference_catalogue(store, now)?;
    Ok(())
}

/// `jiesu train`: trains the intake models from the city's history and saves them in
/// `<db>.models/`, where a server loads them at start (ready at once instead of training in the
/// background).
fn train(db: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let store = open_existing(db)?;
    let t0 = std::time::Instant::now();
    let org = jiesu_domain::org::OrgTree::new(store.units()?);
    let examples: Vec<intake_model::Example> = store
        .labelled_examples(intake_model::TRAIN_LIMIT)?
        .into_iter()
        .map(|e| intake_model::Example {
            corrected: e.corrected(),
            unit_label: e
                .lead_unit
                .as_deref()
                .and_then(|u| jiesu_routing::unit_label(&org, u)),
            title: e.title,
            text: e.text,
            category_code: e.category_code,
            request_type: e.request_type,
        })
        .collect();
    let m = intake_model::train(&examples, now)?;
    let dir = intake_model::model_dir(store.path());
    intake_model::save(&m, &dir)?;
    println!(
        "trained on {} tickets ({} corrections, weighted ×{}) in {:.1} s: categories {} classes, types {} classes; version {} saved in {}",
        m.trained_on,
        m.corrections,
        intake_model::CORRECTION_WEIGHT,
        t0.elapsed().as_secs_f64(),
        m.category.labels().len(),
        m.request_type.labels().len(),
        m.version,
        dir.display()
    );
    Ok(())
}

fn generate(
    db: &Path,
    months: u32,
    scale: f64,
    seed: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<jiesu_demo::GenerateReport> {
    refuse_existing(db)?;
    if !(scale > 0.0 && scale <= 10.0) {
        bail!("--scale must be above 0 and at most 10 (1.0 = Beijing's real volume), got {scale}");
    }
    if months == 0 || months > 120 {
        bail!("--months must be between 1 and 120, got {months}");
    }
    let store = jiesu_store::open_store(
        db,
        StoreOptions {
            durable: false,
            ..Default::default()
        },
    )?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} generating [{bar:40}] {pos}/{len} tickets ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let opts = jiesu_demo::GenerateOptions {
        months,
        scale,
        seed,
        end: now,
    };
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = jiesu_demo::generate(&opts, &*store, &progress)?;
    bar.finish_and_clear();
    seed_reference_catalogue(&*store, now)?;
    println!(
        "generated {} tickets ({} events) into {} in {:.1} s (indexes built at the end: {:.1} s; CPU: {:.0} s in all, {:.0} s the store's writer thread)",
        report.tickets,
        report.events,
        db.display(),
        report.seconds,
        report.index_seconds,
        report.cpu_seconds,
        report.writer_cpu_seconds
    );
    Ok(report)
}

/// `--from YYYY-MM --to YYYY-MM` as (months, end): the history ends at the start of the month
/// after `to` in the demo city's zone (the generator's reference data is Beijing's).
fn history_months(from: &str, to: &str) -> Result<(u32, chrono::DateTime<chrono::Utc>)> {
    let f = jiesu_analytics::LocalMonth::parse(from)
        .with_context(|| format!("--from '{from}' is not a month like 2019-01"))?;
    let t = jiesu_analytics::LocalMonth::parse(to)
        .with_context(|| format!("--to '{to}' is not a month like 2021-11"))?;
    if t < f {
        bail!("--to {to} is before --from {from}");
    }
    let months = (t.year - f.year) * 12 + t.month as i32 - f.month as i32 + 1;
    let end = t.next();
    let zone = jiesu_domain::CityZone::default();
    Ok((months as u32, zone.start_of_month(end.year, end.month)))
}

/// Publishes the demo duty catalogue if the database has none.
fn seed_reference_catalogue(store: &dyn Store, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    if store.catalogue("published")?.is_none() {
        let org = jiesu_domain::org::OrgTree::new(store.units()?);
        let cats = jiesu_domain::category::CategoryTree::new(store.categories()?);
        let cat = routing_cmds::demo_catalogue(&org, &cats);
        store.save_catalogue(
            "published",
            &cat.to_csv(),
            cat.len(),
            "system",
            Some("demo city default catalogue"),
            now,
        )?;
    }
    Ok(())
}

pub fn add_user(
    store: &dyn Store,
    name: &str,
    role: &str,
    unit: Option<&str>,
    password: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let r = Role::parse(role)
        .filter(|r| r.assignable())
        .with_context(|| {
            format!(
                "unknown role '{role}'; roles: agent, dispatcher, unit_handler, unit_manager, callback_agent, supervisor, admin"
            )
        })?;
    if name.trim().is_empty() || name.chars().count() > 64 {
        bail!("--name must be 1 to 64 characters");
    }
    if let Err((en, zh)) = jiesu_http::login::password_policy(password) {
        bail!("--password: {en}\n--password：{zh}");
    }
    if r.is_unit() && unit.is_none() {
        bail!("role {role} needs --unit CODE (the unit the user works for)");
    }
    if let Some(u) = unit {
        let units = store.units()?;
        if !units.iter().any(|x| x.code == u) {
            bail!("unknown unit code '{u}' (see GET /api/v1/units)");
        }
    }
    let hash = jiesu_http::auth::hash_password(password)?;
    store.add_user(name, &hash, r.as_str(), unit, now)?;
    Ok(())
}

fn serve(store: Arc<dyn Store>, listen: &str, demo: Option<Vec<DemoAccount>>) -> Result<()> {
    serve_cfg(
        store,
        listen,
        demo,
        ServeOptions {
            notify: jiesu_http::notify::NotifyConfig::default(),
            test_clock: None,
            limits: jiesu_http::limits::Limits::default(),
            sessions: jiesu_http::auth::SessionPolicy::default(),
            read_timeout: jiesu_http::listener::DEFAULT_READ_TIMEOUT,
            retention_years: jiesu_http::DEFAULT_RETENTION_YEARS,
            replica: None,
        },
    )
}

/// How `jiesu serve` runs: notifications, the test clock, abuse limits, session lifetime and
/// the read timeout of requests.
struct ServeOptions {
    notify: jiesu_http::notify::NotifyConfig,
    test_clock: Option<chrono::DateTime<chrono::Utc>>,
    limits: jiesu_http::limits::Limits,
    sessions: jiesu_http::auth::SessionPolicy,
    read_timeout: std::time::Duration,
    retention_years: u32,
    /// The standby read-only views read from (`--replica`).
    replica: Option<Arc<dyn Store>>,
}

/// `--test-clock`: an RFC 3339 instant.
fn parse_test_clock(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            anyhow::anyhow!(
                "--test-clock {s:?} is not an RFC 3339 instant such as 2026-11-30T15:30:00Z ({e})\n\
                 --test-clock 应为 RFC 3339 时间，如 2026-11-30T15:30:00Z"
            )
        })
}

fn serve_cfg(
    store: Arc<dyn Store>,
    listen: &str,
    demo: Option<Vec<DemoAccount>>,
    opts: ServeOptions,
) -> Result<()> {
    let ServeOptions {
        notify: cfg,
        test_clock,
        limits,
        sessions,
        read_timeout,
        retention_years,
        replica,
    } = opts;
    let mut state = match test_clock {
        Some(start) => {
            // A clock that starts at `start`, advances with the monotonic clock and is moved
            // forward by `POST /api/v1/test-clock` (the offset), so tests never sleep.
            let origin = std::time::Instant::now();
            let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
            let moved = offset.clone();
            eprintln!("jiesu: test clock starts at {}", start.to_rfc3339());
            let clock: Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync> =
                Arc::new(move || {
                    start
                        + chrono::Duration::from_std(origin.elapsed()).unwrap_or_default()
                        + chrono::Duration::seconds(moved.load(std::sync::atomic::Ordering::SeqCst))
                });
            let mut state = AppState::load_with_clock(store, clock)?;
            state.clock_offset = Some(offset);
            state
        }
        // the server's default clock: the machine's
        None => AppState::load(store)?,
    };
    state.demo_accounts = Arc::new(demo);
    state.limiter = Arc::new(jiesu_http::limits::Limiter::new(limits));
    state.session_policy = sessions;
    state.retention_years = retention_years;
    state.replica = replica;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tracing::info!("jiesu serving on http://{listen}/  (API: http://{listen}/api/openapi.json)");
    let served = rt.block_on(jiesu_http::serve_opts(state, listen, cfg, read_timeout));
    // after a graceful stop: a background pass still running in a blocking thread does not hold
    // the exit up (its writes are committed or not made, never half)
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    served
}

/// The demo city's volume: 6 % of Beijing's over six months (about 460,000 tickets, ~1 GB), so
/// that the public street scorecard of the last full month ranks more than 300 of the 349 streets
/// (at 0.02 only about 210 reach the policy's minimum sample). Generated in about 10 s.
const DEMO_SCALE: f64 = 0.06;
/// Bumped when the demo city changes shape; an older demo database is rebuilt by `jiesu demo`.
const DEMO_BUILD: &str = "4";

/// Whether `db` is a generated demo city of an older build (a city that is not a generated demo
/// is never touched).
fn demo_is_outdated(db: &Path) -> Result<bool> {
    let store = open_existing(db)?;
    let is_demo = store.meta("demo_city")?.is_some();
    Ok(is_demo && store.meta("demo_build")?.as_deref() != Some(DEMO_BUILD))
}

/// Removes a demo database and the files beside it (WAL, fact cache, models, attachments).
fn remove_demo(db: &Path) -> Result<()> {
    let name = db.to_string_lossy().to_string();
    for f in [
        name.clone(),
        format!("{name}-wal"),
        format!("{name}-shm"),
        format!("{name}.keys"),
        format!("{name}.signing-key"),
    ] {
        let p = Path::new(&f);
        if p.exists() {
            std::fs::remove_file(p).with_context(|| format!("cannot remove {f}"))?;
        }
    }
    for d in ["facts", "models", "attachments"] {
        let p = PathBuf::from(format!("{name}.{d}"));
        if p.exists() {
            std::fs::remove_dir_all(&p)
                .with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    Ok(())
}

fn demo(db: &Path, listen: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    const PW: &str = "demo-12345";
    let accounts: Vec<(&str, &str, Option<&str>, &str)> = vec![
        ("agent", "agent", None, "受理员：受理诉求、直接答复或派单"),
        (
            "dispatcher",
            "dispatcher",
            None,
            "派单员：派单、退单审核、延期审核",
        ),
        (
            "jianwai",
            "unit_handler",
            Some("110105001"),
            "朝阳区建外街道承办人",
        ),
        (
            "chaoyang",
            "unit_manager",
            Some("110105"),
            "朝阳区负责人（含下属街乡和部门）",
        ),
        ("callback", "callback_agent", None, "回访员"),
        ("supervisor", "supervisor", None, "督办员"),
        ("admin", "admin", None, "管理员"),
    ];
    if db.exists() && demo_is_outdated(db)? {
        println!(
            "the demo city in {} was built by an older version (smaller, or a stale history); rebuilding it",
            db.display()
        );
        remove_demo(db)?;
    }
    if !db.exists() {
        if let Some(dir) = db.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        println!(
            "building the demo city into {} (one-time, about 10 s)…",
            db.display()
        );
        generate(db, 6, DEMO_SCALE, 2026, now)?;
        open_existing(db)?.set_meta("demo_build", DEMO_BUILD)?;
    }
    let store = open_existing(db)?;
    for (name, role, unit, _) in &accounts {
        if store.user_by_name(name)?.is_none() {
            add_user(&*store, name, role, *unit, PW, now)?;
        }
    }
    println!("\nJiesu demo city: http://{listen}/");
    println!("  citizen pages (no log-in): http://{listen}/#/submit  http://{listen}/#/track");
    println!("  log-ins (password {PW}):");
    for (name, role, _, note) in &accounts {
        println!("    {name:<11} {role:<15} {note}");
    }
    let demo = accounts
        .iter()
        .map(|(n, r, u, note)| DemoAccount {
            username: n.to_string(),
            password: PW.to_string(),
            role: r.to_string(),
            unit_code: u.map(str::to_string),
            note: note.to_string(),
        })
        .collect();
    serve(store, listen, Some(demo))
}
