//! `jiesu warn …` and `jiesu audit …`: proactive governance from the command line. The series are
//! read from the store's facts (`jiesu_store::AnalyticsStore`, through `analytics_cmds::load_facts`)
//! or from a CSV file; the methods live in `jiesu_governance`.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_governance::audit::{self, Doc, Pair};
use jiesu_governance::warn::{DayFactors, DayKind, Detector, DetectorParams};
use jiesu_governance::warn_eval::{self, EvalConfig, EvalInput};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `jiesu warn …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum WarnCmd {
    /// Inject outbreaks into the city's cell series (place × category per day) and compare our
    /// detector with CDC EARS C1/C2/C3 at the same false-alarm rate; the last line is one JSON
    /// object.
    Eval {
        #[arg(long)]
        db: PathBuf,
        /// Seed of the injected outbreaks.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The false-alarm rate every method is held to (share of outbreak-free cell-days).
        #[arg(long, default_value_t = 0.005)]
        false_alarm_rate: f64,
        /// Outbreaks injected.
        #[arg(long, default_value_t = 2000)]
        outbreaks: usize,
        /// Outbreak peak sizes in units of the cell's daily standard deviation, e.g. `2,3,5,8`
        /// (the default).
        #[arg(long, value_delimiter = ',')]
        sizes: Option<Vec<f64>>,
        /// Leave out cells averaging fewer requests a day (default 0.03, about one a month).
        #[arg(long)]
        min_cell_mean: Option<f64>,
        /// EARS's floor of the standard deviation (`minSigma`; default 0.5, the value that gave
        /// EARS its best detection on the demo city; the R package's default 0 gives ∞ on a flat week).
        #[arg(long)]
        ears_min_sigma: Option<f64>,
    },
    /// Score daily counts nobody here made: reads `cell,date,count` (ISO dates; missing days are
    /// zero), writes `cell,date,score,alarm` — the score before the threshold, so anyone can set
    /// their own false-alarm rate.
    Detect {
        /// The series file (CSV with a header `cell,date,count`).
        #[arg(long)]
        series: PathBuf,
        /// Alarm when the score is at least this (`−log10` of a Poisson tail probability).
        #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
        threshold: f64,
        /// Where to write (standard output when left out).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The default threshold of `warn detect`: on the demo city it holds the false-alarm rate near
/// 0.5 % of cell-days (docs/GOVERNANCE.md).
pub const DEFAULT_THRESHOLD: f64 = 3.0;

/// `jiesu audit …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum AuditCmd {
    /// Score true message–reply pairs against replies shuffled within the same topic; the last
    /// line is one JSON object with the AUC.
    Eval {
        /// Pairs: a CSV with `message` (or `title` and `detail`) and `reply` columns.
        #[arg(long)]
        pairs: PathBuf,
        /// Topics the messages are grouped into for the shuffle.
        #[arg(long, default_value_t = 7)]
        topics: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Score pairs built by someone else: reads `id,message,reply`, writes `id,score` (higher =
    /// more likely to answer the message).
    Score {
        #[arg(long)]
        pairs: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn writer(out: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

/// `jiesu warn …`.
pub fn run_warn(cmd: WarnCmd, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        WarnCmd::Eval {
            db,
            seed,
            false_alarm_rate,
            outbreaks,
            sizes,
            min_cell_mean,
            ears_min_sigma,
        } => {
            if !(0.0..0.5).contains(&false_alarm_rate) || false_alarm_rate <= 0.0 {
                bail!("--false-alarm-rate must be between 0 and 0.5 (got {false_alarm_rate}) / 误报率须在 0 与 0.5 之间");
            }
            let store = crate::open_existing(&db)?;
            let t0 = std::time::Instant::now();
            let facts = crate::analytics_cmds::load_facts(store.as_ref(), now)?;
            let tree = CategoryTree::new(store.categories()?);
            let (dates, cells, totals) =
                jiesu_governance::cells::cell_series(&facts, &tree, None, None);
            let cfg = EvalConfig {
                false_alarm_rate,
                outbreaks,
                seed,
                ..EvalConfig::default()
            };
            let mut cfg = cfg;
            if let Some(k) = sizes {
                cfg.size_multipliers = k;
            }
            if let Some(s) = ears_min_sigma {
                cfg.ears_min_sigma = s;
            }
            if let Some(m) = min_cell_mean {
                cfg.min_cell_mean = m;
            }
            if dates.len() < cfg.training_days + 60 {
                bail!(
                    "{} has {} days of history; the evaluation needs at least {} (generate --months 8 or more) / 历史不足",
                    db.display(),
                    dates.len(),
                    cfg.training_days + 60
                );
            }
            let zone = store.city_zone()?;
            let cal = jiesu_routing::engine::DeadlineEngine::city_default(zone, now).calendar;
            let kinds: Vec<DayKind> = dates.iter().map(|d| DayKind::of(&cal, *d)).collect();
            let input = EvalInput {
                cells,
                kinds,
                totals,
            };
            eprintln!(
                "{} cells over {} days ({} … {}), facts read in {:.1} s",
                input.cells.len(),
                dates.len(),
                dates[0],
                dates[dates.len() - 1],
                t0.elapsed().as_secs_f64()
            );
            let t1 = std::time::Instant::now();
            let r = warn_eval::evaluate(&input, &cfg);
            eprintln!(
                "evaluated {} outbreaks on {} cells ({}) over {} outbreak-free cell-days in {:.1} s",
                r.outbreaks,
                r.cells.iter().map(|c| c.1).sum::<usize>(),
                r.cells
                    .iter()
                    .map(|(l, n)| format!("{l} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.cell_days,
                t1.elapsed().as_secs_f64()
            );
            for (name, m) in [
                ("ours", &r.ours),
                ("EARS C1", &r.ears_c1),
                ("EARS C2", &r.ears_c2),
                ("EARS C3", &r.ears_c3),
            ] {
                println!(
                    "{name:8} pod {:.3}  median delay {} d ({})  threshold {:.3}  false alarms {:.4}  {}",
                    m.pod,
                    m.median_delay_days
                        .map(|d| format!("{d:.1}"))
                        .unwrap_or_else(|| "–".into()),
                    m.median_delay_by
                        .iter()
                        .map(|(k, v)| format!("{k}:{v:.1}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    m.threshold,
                    m.false_alarm_rate,
                    m.pod_by
                        .iter()
                        .map(|(k, v)| format!("{k}:{v:.2}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        WarnCmd::Detect {
            series,
            threshold,
            out,
        } => detect(&series, threshold, out.as_deref()),
    }
}

fn detect(path: &Path, threshold: f64, out: Option<&Path>) -> Result<()> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rd.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .with_context(|| {
                format!(
                    "{}: no column `{name}` (need cell,date,count) / 缺少列 {name}",
                    path.display()
                )
            })
    };
    let (ci, di, ni) = (col("cell")?, col("date")?, col("count")?);
    let mut rows: Vec<(String, NaiveDate, u32)> = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.with_context(|| format!("{}: line {line} is not valid CSV", path.display()))?;
        let date = NaiveDate::parse_from_str(rec.get(di).unwrap_or("").trim(), "%Y-%m-%d")
            .with_context(|| {
                format!(
                    "{}: line {line}: date `{}` is not YYYY-MM-DD / 日期格式错误",
                    path.display(),
                    rec.get(di).unwrap_or("")
                )
            })?;
        let count: u32 = rec.get(ni).unwrap_or("").trim().parse().with_context(|| {
            format!(
                "{}: line {line}: count `{}` is not a whole number ≥ 0 / 计数须为非负整数",
                path.display(),
                rec.get(ni).unwrap_or("")
            )
        })?;
        rows.push((rec.get(ci).unwrap_or("").to_string(), date, count));
    }
    let Some(first) = rows.iter().map(|r| r.1).min() else {
        bail!("{}: no rows / 没有数据", path.display());
    };
    let last = rows.iter().map(|r| r.1).max().unwrap_or(first);
    let days = (last - first).num_days() as usize + 1;
    if days > 366 * 50 {
        bail!(
            "{}: dates span {days} days (more than 50 years) / 日期跨度过大",
            path.display()
        );
    }
    let mut cells: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut counts: Vec<Vec<u32>> = Vec::new();
    for (cell, date, n) in &rows {
        let c = *index.entry(cell.clone()).or_insert_with(|| {
            cells.push(cell.clone());
            counts.push(vec![0; days]);
            cells.len() - 1
        });
        counts[c][(*date - first).num_days() as usize] += n;
    }
    let dates: Vec<NaiveDate> = (0..days)
        .map(|i| first + chrono::Duration::days(i as i64))
        .collect();
    // no calendar is known for an outside series: weekdays only
    let kinds: Vec<DayKind> = dates.iter().map(|d| DayKind::plain(*d)).collect();
    let totals: Vec<f64> = (0..days)
        .map(|t| counts.iter().map(|c| f64::from(c[t])).sum())
        .collect();
    let detector = Detector {
        params: DetectorParams::default(),
        factors: DayFactors::estimate(&totals, &kinds, 0..days),
    };
    let mut w = writer(out)?;
    writeln!(w, "cell,date,score,alarm")?;
    let mut alarms = 0usize;
    for (c, name) in cells.iter().enumerate() {
        let s = detector.scores(&counts[c], &kinds);
        let quoted = if name.contains([',', '"', '\n']) {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            name.clone()
        };
        for t in 0..days {
            let alarm = s[t] >= threshold && s[t] > 0.0;
            alarms += usize::from(alarm);
            writeln!(w, "{quoted},{},{:.4},{}", dates[t], s[t], u8::from(alarm))?;
        }
    }
    w.flush()?;
    eprintln!(
        "{} cells × {days} days scored; {alarms} alarms at threshold {threshold} (the first {} days of each cell have no baseline yet and score 0)",
        cells.len(),
        detector.warmup() - 1
    );
    Ok(())
}

fn read_pairs(path: &Path, analyzer: &jiesu_text::analyzer::Analyzer) -> Result<Vec<Pair>> {
    let mut rd = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rd.headers()?.clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
    };
    let id = find("id").or_else(|| find("message_id"));
    let message = find("message");
    let (title, detail) = (find("title"), find("detail"));
    let Some(reply) = find("reply") else {
        bail!(
            "{}: no `reply` column (need id,message,reply) / 缺少 reply 列",
            path.display()
        );
    };
    if message.is_none() && detail.is_none() {
        bail!(
            "{}: no `message` (or `title`/`detail`) column / 缺少 message 列",
            path.display()
        );
    }
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec =
            rec.with_context(|| format!("{}: line {} is not valid CSV", path.display(), i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let t = get(title);
        let text = match message {
            Some(_) => get(message),
            None => format!("{t}\n{}", get(detail)),
        };
        let r = get(Some(reply));
        out.push(Pair {
            id: id
                .map(|c| get(Some(c)))
                .unwrap_or_else(|| (i + 1).to_string()),
            message: Doc {
                words: analyzer.tokens(&text),
                text,
                title: t,
            },
            reply: Doc {
                words: analyzer.tokens(&r),
                text: r,
                title: String::new(),
            },
        });
    }
    if out.is_empty() {
        bail!("{}: no pairs / 没有数据", path.display());
    }
    Ok(out)
}

/// `jiesu audit …`.
pub fn run_audit(cmd: AuditCmd) -> Result<()> {
    let analyzer = jiesu_text::analyzer::Analyzer::new();
    match cmd {
        AuditCmd::Eval {
            pairs,
            topics,
            seed,
        } => {
            let t0 = std::time::Instant::now();
            let p = read_pairs(&pairs, &analyzer)?;
            if p.len() < 10 {
                bail!(
                    "{}: {} pairs; the evaluation needs at least 10",
                    pairs.display(),
                    p.len()
                );
            }
            let r = audit::evaluate_pairs(&p, topics, seed);
            eprintln!(
                "{} pairs in {} topics, scored in {:.1} s",
                r.pairs,
                r.topics,
                t0.elapsed().as_secs_f64()
            );
            println!(
                "AUC {:.3} against replies shuffled within the topic, {:.3} against the most similar message's reply; a threshold keeping 95 % of true replies flags {:.1} % of shuffled ones; {} boilerplate replies",
                r.auc,
                r.auc_nearest,
                100.0 * r.flagged_at_95,
                r.boilerplate
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        AuditCmd::Score { pairs, out } => {
            let p = read_pairs(&pairs, &analyzer)?;
            let s = audit::score_pairs(&p);
            let mut w = writer(out.as_deref())?;
            let mut csvw = csv::Writer::from_writer(&mut w);
            csvw.write_record(["id", "score"])?;
            for (pair, score) in p.iter().zip(s) {
                csvw.write_record([pair.id.as_str(), &format!("{score:.4}")])?;
            }
            csvw.flush()?;
            drop(csvw);
            w.flush()?;
            Ok(())
        }
    }
}

/// `jiesu risk …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum RiskCmd {
    /// Precision and recall of the emergency detector on the labelled real messages (the shipped
    /// labels, the texts read from the shared data); the last line is one JSON object.
    Eval {
        /// The message files (CSV with `message_id`, `title`, `detail`); by default the two files
        /// of `tipdm2020_gov_messages_votes_replies` in the shared data.
        #[arg(long)]
        messages: Vec<PathBuf>,
        /// Labels (`message_id,label[,sample]`); by default the shipped set.
        #[arg(long)]
        labels: Option<PathBuf>,
    },
    /// What the detector finds in one text (JSON; `null` when nothing).
    Check {
        /// The request's text.
        text: String,
        /// Its title.
        #[arg(long, default_value = "")]
        title: String,
    },
}

/// `jiesu risk …`.
pub fn run_risk(cmd: RiskCmd) -> Result<()> {
    use jiesu_governance::risk::{self, RiskKind};
    match cmd {
        RiskCmd::Check { text, title } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&risk::detect(&title, &text))?
            );
            Ok(())
        }
        RiskCmd::Eval { messages, labels } => {
            let labels: Vec<(String, Option<RiskKind>, String)> = match labels {
                None => risk::eval_labels(),
                Some(p) => {
                    let mut rd = csv::ReaderBuilder::new()
                        .comment(Some(b'#'))
                        .flexible(true)
                        .from_path(&p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                    let mut out = Vec::new();
                    for (i, rec) in rd.records().enumerate() {
                        let rec = rec.with_context(|| {
                            format!("{}: line {} is not valid CSV", p.display(), i + 2)
                        })?;
                        let label = rec.get(1).unwrap_or("").trim();
                        let kind = RiskKind::parse(label);
                        if kind.is_none() && label != "none" {
                            bail!("{}: line {}: unknown label `{label}`", p.display(), i + 2);
                        }
                        out.push((
                            rec.get(0).unwrap_or("").trim().to_string(),
                            kind,
                            rec.get(2).unwrap_or("").trim().to_string(),
                        ));
                    }
                    out
                }
            };
            let files = if messages.is_empty() {
                jiesu_text::data::tipdm_raw_files()
            } else {
                messages
            };
            let mut texts: HashMap<String, (String, String)> = HashMap::new();
            for f in &files {
                let mut rd = csv::ReaderBuilder::new()
                    .from_path(f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                let headers = rd.headers()?.clone();
                let col = |n: &str| headers.iter().position(|h| h == n);
                let (Some(id), Some(title), Some(detail)) =
                    (col("message_id"), col("title"), col("detail"))
                else {
                    bail!(
                        "{}: needs message_id, title and detail columns",
                        f.display()
                    );
                };
                for rec in rd.records() {
                    let rec = rec?;
                    texts.insert(
                        rec.get(id).unwrap_or("").to_string(),
                        (
                            rec.get(title).unwrap_or("").to_string(),
                            rec.get(detail).unwrap_or("").to_string(),
                        ),
                    );
                }
            }
            // development: the labels the rules were refined on; held out: labelled after
            let mut pairs = Vec::new();
            let mut held = Vec::new();
            let mut dev = Vec::new();
            let mut missing = 0;
            for (id, label, sample) in &labels {
                let Some((title, detail)) = texts.get(id) else {
                    missing += 1;
                    continue;
                };
                let found = risk::detect(title, detail);
                let got = found.as_ref().map(|f| f.kind);
                if got != *label {
                    let signs = found
                        .map(|f| {
                            f.signs
                                .iter()
                                .map(|s| format!("{}「{}」", s.phrase, s.clause))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    eprintln!(
                        "miss {id} ({sample}): labelled {} found {} {signs}",
                        label.map(|k| k.as_str()).unwrap_or("none"),
                        got.map(|k| k.as_str()).unwrap_or("none"),
                    );
                }
                pairs.push((*label, got));
                if sample.starts_with("held") {
                    held.push((*label, got));
                } else {
                    dev.push((*label, got));
                }
            }
            if pairs.is_empty() {
                bail!("none of the labelled messages is in the message files");
            }
            let e = risk::evaluate(&pairs);
            let pct = |x: Option<f64>| {
                x.map(|v| format!("{:.1} %", 100.0 * v))
                    .unwrap_or_else(|| "–".into())
            };
            let line = |name: &str, e: &risk::RiskEval| {
                println!(
                    "{name}: {} messages ({} emergencies): any emergency precision {} recall {}, false alarms {} of non-emergencies",
                    e.messages,
                    e.emergencies,
                    pct(e.overall.precision),
                    pct(e.overall.recall),
                    pct(e.false_alarm_rate)
                );
            };
            if missing > 0 {
                println!("{missing} labels without a message in the files");
            }
            line("all", &e);
            for (k, pr) in &e.per_kind {
                println!(
                    "  {:<16} precision {:>7} recall {:>7}  (TP {} FP {} FN {})",
                    k.as_str(),
                    pct(pr.precision),
                    pct(pr.recall),
                    pr.true_positives,
                    pr.false_positives,
                    pr.false_negatives
                );
            }
            let (dev, held) = (risk::evaluate(&dev), risk::evaluate(&held));
            line("development (rules refined on it)", &dev);
            line("held out (labelled after the rules were frozen)", &held);
            let mut v = serde_json::to_value(&e)?;
            v["development"] = serde_json::to_value(&dev)?;
            v["held_out"] = serde_json::to_value(&held)?;
            println!("{}", serde_json::to_string(&v)?);
            Ok(())
        }
    }
}
