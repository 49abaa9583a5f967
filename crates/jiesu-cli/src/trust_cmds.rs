//! `jiesu verify` (the event log's integrity) and `jiesu keys` (the personal-data key file).

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use jiesu_store::crypt::Keyring;
use jiesu_store::prelude::*;
use jiesu_store::{KeySource, SqliteStore};
use std::path::{Path, PathBuf};

/// Checks the event log of `db` from the file alone; an error (non-zero exit) names the first
/// bad event.
pub fn verify(db: &Path) -> Result<()> {
    if !db.exists() {
        bail!("database {} does not exist", db.display());
    }
    let report =
        jiesu_store::verify_file(db).with_context(|| format!("cannot read {}", db.display()))?;
    let mut problems: Vec<String> = Vec::new();
    if report.ok() {
        println!(
            "verified {} events of {} tickets in {}: every hash chain, log position and ticket row holds\n已校验 {} 条事件、{} 张工单：哈希链、日志位置与工单记录均完好",
            report.events,
            report.tickets,
            db.display(),
            report.events,
            report.tickets
        );
    } else {
        println!(
            "the event log of {} does NOT verify ({} events of {} tickets read); the first bad event:\n事件日志未通过校验，第一处问题：",
            db.display(),
            report.events,
            report.tickets
        );
        for p in &report.problems {
            println!("  {p}");
        }
        problems.extend(report.problems.iter().map(|p| format!("event log: {p}")));
    }
    // the signed checkpoints and the stored subtree hashes, recomputed from the same leaves
    let ledger = jiesu_store::verify_checkpoints_file(db)
        .with_context(|| format!("cannot read the checkpoints of {}", db.display()))?;
    if ledger.ok() {
        println!(
            "verified {} signed checkpoint(s) and {} stored subtree hashes (public key from {})\n已校验 {} 个签名检查点与 {} 个子树哈希",
            ledger.checkpoints, ledger.nodes, ledger.key_source, ledger.checkpoints, ledger.nodes
        );
    } else {
        println!("the signed checkpoints do NOT verify:\n签名检查点未通过校验：");
        for p in &ledger.problems {
            println!("  {p}");
        }
        problems.extend(ledger.problems.iter().map(|p| format!("checkpoints: {p}")));
    }
    if let Some(first) = problems.first() {
        bail!("{} problem(s), first: {first}", problems.len());
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Write a new key file (for production: keep it outside the database's directory and point
    /// JIESU_KEY_FILE at it before the database is created).
    New {
        /// Where to write it (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Rotate the master key: add a new current key to the key file, then re-wrap every data key
    /// under it in short batches while the server keeps running (it re-reads the file).
    Rotate {
        #[arg(long)]
        db: PathBuf,
        /// Data keys re-wrapped per write transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        batch: u32,
        /// Add no new key: only re-wrap the data keys still under an older master key (tickets
        /// taken in by a server before it re-read the file).
        #[arg(long)]
        no_new_key: bool,
    },
    /// Drop the old master keys from the key file once no data key uses them any more.
    Prune {
        #[arg(long)]
        db: PathBuf,
    },
    /// How many data keys each master key wraps.
    Status {
        #[arg(long)]
        db: PathBuf,
    },
}

/// The key file the store of `db` uses (rotation needs a file, not `JIESU_KEYS` content).
fn key_file(db: &Path) -> Result<PathBuf> {
    match KeySource::Env.path_for(db) {
        Some(p) if p.exists() => Ok(p),
        Some(p) => bail!("there is no key file at {}: nothing to rotate", p.display()),
        None => bail!(
            "the keys come from the JIESU_KEYS variable, which cannot be rewritten: write them to a file (JIESU_KEY_FILE) to rotate\n密钥来自环境变量 JIESU_KEYS，无法就地轮换：请改用密钥文件（JIESU_KEY_FILE）"
        ),
    }
}

fn open(db: &Path) -> Result<SqliteStore> {
    if !db.exists() {
        bail!("database {} does not exist", db.display());
    }
    SqliteStore::open(db).with_context(|| format!("cannot open {}", db.display()))
}

pub fn run(cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::New { out } => {
            if out.exists() {
                bail!("{} exists; a key file is never overwritten", out.display());
            }
            Keyring::generate().save(&out)?;
            println!(
                "wrote a new key file to {} (mode 0600)\n已生成新的密钥文件",
                out.display()
            );
            Ok(())
        }
        KeysCmd::Rotate {
            db,
            batch,
            no_new_key,
        } => {
            let path = key_file(&db)?;
            let old = Keyring::load(&path)?;
            let new = if no_new_key {
                old
            } else {
                let new = old.with_new_master();
                new.save(&path)?;
                println!(
                    "added master key {} to {} (the current one; {} stay for unwrapping)",
                    new.current_id(),
                    path.display(),
                    old.key_ids().join(", ")
                );
                new
            };
            let store = open(&db)?;
            let (_, usage) = store.data_key_usage()?;
            let total: u64 = usage.iter().map(|u| u.1).sum();
            let bar = indicatif::ProgressBar::new(total);
            let mut done = 0u64;
            loop {
                let n = store.rewrap_data_keys(batch)?;
                if n == 0 {
                    break;
                }
                done += n;
                bar.inc(n);
            }
            bar.finish_and_clear();
            println!(
                "re-wrapped {done} data keys under {}; remove the old keys with `jiesu keys prune --db {}` once every server runs with the new file\n已用新主密钥重新封装 {done} 个数据密钥",
                new.current_id(),
                db.display()
            );
            Ok(())
        }
        KeysCmd::Prune { db } => {
            let path = key_file(&db)?;
            let ring = Keyring::load(&path)?;
            let store = open(&db)?;
            let (_, usage) = store.data_key_usage()?;
            let stale: Vec<String> = usage
                .iter()
                .filter(|(k, n)| k != ring.current_id() && *n > 0)
                .map(|(k, n)| format!("{k} ({n})"))
                .collect();
            if !stale.is_empty() {
                bail!(
                    "data keys still wrapped by old master keys: {}; run `jiesu keys rotate --no-new-key --db {}` first\n仍有数据密钥由旧主密钥封装，请先运行 jiesu keys rotate --no-new-key",
                    stale.join(", "),
                    db.display()
                );
            }
            ring.current_only().save(&path)?;
            println!("the key file keeps only {} now", ring.current_id());
            Ok(())
        }
        KeysCmd::Status { db } => {
            let store = open(&db)?;
            let (current, usage) = store.data_key_usage()?;
            println!("current master key: {current}");
            for (k, n) in usage {
                println!(
                    "  {k}: {n} data keys{}",
                    if k == current { " (current)" } else { "" }
                );
            }
            Ok(())
        }
    }
}
