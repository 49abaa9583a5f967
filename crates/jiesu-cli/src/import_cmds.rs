//! `jiesu import csv`: another system's export as tickets with their history. The mapping and
//! the file's checks are `import_map`'s (pure); here each mapped row goes through the intake's
//! one check (`Intake::parse`) and the domain's commands (`command::execute`: create → dispatch →
//! sign → result), and the histories are written with their source keys in one transaction
//! (`ImportStore::import_sourced`), so a re-run imports nothing twice.

use crate::import_map::{self, MappedRow, Mapping, NotMapped, Prepared, Stage};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use clap::Subcommand;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::intake::{Filer, IntakeContext, IntakeForm, RequesterForm};
use jiesu_domain::org::OrgTree;
use jiesu_domain::ticket::{AssignmentRole, Intake};
use jiesu_domain::{ActorRef, Event, Role, TicketState};
use jiesu_store::{prelude::*, SourcedTicket};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import a CSV export with a mapping file (docs/IMPORT.md): every row becomes a ticket with
    /// its history; rows already imported from the same source are skipped. A bad file is
    /// rejected whole, with line numbers.
    Csv {
        #[arg(long)]
        db: PathBuf,
        /// The mapping (TOML), e.g. docs/examples/nyc311-mapping.toml.
        #[arg(long)]
        mapping: PathBuf,
        /// Check and map everything, print the report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub file: String,
    pub encoding: String,
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows imported before (same source and key): skipped.
    pub already_imported: u64,
    /// New rows mapped with every field from its table or column.
    pub mapped_fully: u64,
    /// New rows where some field fell back (see `fallbacks`).
    pub mapped_partly: u64,
    /// Rows not imported, with their line and reason.
    pub not_mapped: u64,
    /// Tickets written (0 on a dry run).
    pub imported: u64,
    /// "field: reason" → rows (over the new rows).
    pub fallbacks: BTreeMap<String, u64>,
    /// field → source value → rows, for values no table maps (over the new rows).
    pub unmapped_values: BTreeMap<String, BTreeMap<String, u64>>,
    pub not_mapped_rows: Vec<NotMapped>,
    /// The first and last ticket id written.
    pub ticket_ids: Option<(i64, i64)>,
}

pub fn run(cmd: ImportCmd, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        ImportCmd::Csv {
            db,
            mapping,
            dry_run,
            json,
            file,
        } => {
            let text = std::fs::read_to_string(&mapping)
                .with_context(|| format!("cannot read the mapping {}", mapping.display()))?;
            let m = Mapping::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("mapping {}: {e}", mapping.display()))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let prepared = match import_map::prepare(&m, &bytes) {
                Ok(p) => p,
                Err(rej) => bail!("{}: {rej}", file.display()),
            };
            let store = crate::open_existing(&db)?;
            let report = import(&*store, &m, prepared, &file, dry_run, now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(())
        }
    }
}

fn print_report(r: &Report) {
    println!(
        "{} ({}, source {}){}",
        r.file,
        r.encoding,
        r.source,
        if r.dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    println!(
        "  rows {}: already imported {}, mapped fully {}, partly {}, not {}; tickets written {}",
        r.rows, r.already_imported, r.mapped_fully, r.mapped_partly, r.not_mapped, r.imported
    );
    if let Some((a, b)) = r.ticket_ids {
        println!("  ticket ids {a}–{b}");
    }
    if !r.fallbacks.is_empty() {
        println!("  fell back (rows):");
        for (k, n) in &r.fallbacks {
            println!("    {n:>6}  {k}");
        }
    }
    for (field, values) in &r.unmapped_values {
        let mut v: Vec<(&String, &u64)> = values.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = v
            .iter()
            .take(15)
            .map(|(k, n)| format!("{k:?} {n}"))
            .collect();
        let more = if v.len() > 15 {
            format!(" … {} more", v.len() - 15)
        } else {
            String::new()
        };
        println!(
            "  {field}: {} value(s) not in the table: {}{more}",
            v.len(),
            shown.join(", ")
        );
    }
    for n in r.not_mapped_rows.iter().take(50) {
        println!(
            "  line {} (key {:?}): not imported: {}",
            n.line, n.key, n.reason
        );
    }
}

/// The system actors of an import.
struct Actors {
    agent: ActorRef,
    dispatcher: ActorRef,
}

fn import(
    store: &dyn Store,
    m: &Mapping,
    p: Prepared,
    file: &std::path::Path,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<Report> {
    let org = OrgTree::new(store.units()?);
    let categories = CategoryTree::new(store.categories()?);
    let zone = store.city_zone()?;
    let engine = jiesu_routing::DeadlineEngine::city_default(zone, now);
    let done = store.imported_keys(&m.source)?;
    let mut id = store.next_ticket_id()?;
    let user = format!("import:{}", m.source);
    let actors = Actors {
        agent: ActorRef {
            user: user.clone(),
            role: Role::Agent,
            unit: None,
        },
        dispatcher: ActorRef {
            user,
            role: Role::Dispatcher,
            unit: None,
        },
    };
    let mut r = Report {
        source: m.source.clone(),
        file: file.display().to_string(),
        encoding: p.encoding.to_string(),
        dry_run,
        rows: (p.rows.len() + p.not_mapped.len()) as u64,
        already_imported: 0,
        mapped_fully: 0,
        mapped_partly: 0,
        not_mapped: 0,
        imported: 0,
        fallbacks: BTreeMap::new(),
        unmapped_values: BTreeMap::new(),
        not_mapped_rows: Vec::new(),
        ticket_ids: None,
    };
    let mut not_mapped: Vec<NotMapped> = p
        .not_mapped
        .into_iter()
        .filter(|n| {
            let seen = done.contains(&n.key);
            r.already_imported += seen as u64;
            !seen
        })
        .collect();
    let mut batch = Vec::new();
    let first_id = id;
    for row in p.rows {
        if done.contains(&row.key) {
            r.already_imported += 1;
            continue;
        }
        match build(&row, id, &org, &categories, zone, &engine, &actors) {
            Ok((st, events)) => {
                id += 1;
                if row.fallbacks.is_empty() {
                    r.mapped_fully += 1;
                } else {
                    r.mapped_partly += 1;
                    let mut seen = std::collections::BTreeSet::new();
                    for (f, why) in &row.fallbacks {
                        let k = format!("{f}: {why}");
                        if seen.insert(k.clone()) {
                            *r.fallbacks.entry(k).or_default() += 1;
                        }
                    }
                }
                for (f, v) in &row.unmapped {
                    *r.unmapped_values
                        .entry(f.clone())
                        .or_default()
                        .entry(v.clone())
                        .or_default() += 1;
                }
                batch.push(SourcedTicket {
                    key: row.key,
                    state: st,
                    events,
                });
            }
            Err(e) => not_mapped.push(NotMapped {
                line: row.line,
                key: row.key,
                reason: format!("{e:#}"),
            }),
        }
    }
    not_mapped.sort_by_key(|n| n.line);
    r.not_mapped = not_mapped.len() as u64;
    r.not_mapped_rows = not_mapped;
    if !batch.is_empty() {
        r.ticket_ids = Some((first_id, id - 1));
    }
    if !dry_run && !batch.is_empty() {
        let n = batch.len() as u64;
        store
            .import_sourced(&m.source, batch)
            .context("writing the imported tickets (nothing was written)")?;
        r.imported = n;
    }
    Ok(r)
}

/// One row's ticket, through the intake's check and the domain's commands.
fn build(
    row: &MappedRow,
    id: i64,
    org: &OrgTree,
    categories: &CategoryTree,
    zone: jiesu_domain::CityZone,
    engine: &jiesu_routing::DeadlineEngine,
    actors: &Actors,
) -> Result<(TicketState, Vec<Event>)> {
    let form = IntakeForm {
        channel: Some(row.channel.clone()),
        request_type: row.request_type.clone(),
        category_code: row.category.clone(),
        title: row.title.clone(),
        text: row.text.clone(),
        district_code: row.place.district.clone(),
        street_code: row.place.street.clone(),
        community_code: row.place.community.clone(),
        address: row.address.clone(),
        lat: None,
        lng: None,
        requester: RequesterForm {
            name: row.requester_name.clone(),
            phone: row.requester_phone.clone(),
        },
        enterprise: false,
        tier: None,
        praised_unit: None,
    };
    let intake = Intake::parse(
        form,
        &IntakeContext {
            org,
            categories,
            filer: Filer::Staff,
        },
    )
    .map_err(|e| anyhow::anyhow!("intake refused: {e}"))?;
    let at = row.created;
    let number = jiesu_domain::zone::public_number(id, at, zone);
    let first = Event {
        seq: 1,
        at,
        actor: actors.agent.clone(),
        kind: jiesu_domain::command::create(number, intake),
    };
    let mut st = TicketState::created(id, &first)?;
    let mut events = vec![first];
    let mut now = at;
    let mut run = |st: &mut TicketState, t: DateTime<Utc>, actor: &ActorRef, cmd: Command| {
        // each step at least a second after the previous one (sources keep minutes)
        let t = t.max(now + Duration::seconds(1));
        let evs = execute(st, &cmd, actor, t)
            .map_err(|e| anyhow::anyhow!("{} refused: {e}", cmd.action()))?;
        events.extend(evs);
        now = t;
        anyhow::Ok(())
    };
    if row.stage == Stage::New {
        return Ok((st, events));
    }
    let unit = row.unit.clone().expect("a dispatched stage has a unit");
    if org.get(&unit).is_none() {
        bail!("unit {unit} is not in the org tree");
    }
    let tier = jiesu_domain::prepare::default_tier(&st);
    let mut deadlines = engine.deadlines(tier, &unit, &st.intake.category_code, at);
    if let Some(due) = row.due {
        deadlines.finish = due;
        deadlines.sign = deadlines.sign.min(due);
        deadlines.respond = deadlines.respond.min(due);
    }
    run(
        &mut st,
        at,
        &actors.dispatcher,
        Command::Dispatch {
            assignments: vec![AssignmentRequest {
                unit: unit.clone(),
                role: AssignmentRole::Lead,
                tier,
                deadlines,
            }],
            note: Some("导入 imported".into()),
            rule: None,
        },
    )?;
    if row.stage == Stage::Dispatched {
        return Ok((st, events));
    }
    let handler = ActorRef {
        user: actors.agent.user.clone(),
        role: Role::UnitHandler,
        unit: Some(unit.clone()),
    };
    run(&mut st, at, &handler, Command::Sign { unit: unit.clone() })?;
    if row.stage == Stage::Signed {
        return Ok((st, events));
    }
    // the unit's contact with the citizen (响应) precedes a result; the source records neither
    // its time nor the signing's, so both are at the dispatch
    run(
        &mut st,
        at,
        &handler,
        Command::Respond {
            unit: unit.clone(),
            note: Some("导入记录：来源未记录签收与响应时间 (imported: no sign/respond times in the source)".into()),
        },
    )?;
    let closed = row.closed.expect("a finished row has a closed time");
    let text = row
        .result
        .clone()
        .unwrap_or_else(|| "已办结（导入记录未附办理结果）".to_string());
    run(
        &mut st,
        closed,
        &handler,
        Command::SubmitResult {
            unit,
            text,
            evidence: vec![],
        },
    )?;
    Ok((st, events))
}
