//! # jiesu-import
//!
//! 历史数据导入 — another system's CSV export becomes tickets with their history, by a TOML
//! column mapping (docs/IMPORT.md). [`mapping`] checks the whole file and maps each row without IO;
//! [`import`] builds each row's history through the intake's one check (`Intake::parse`) and the
//! domain's commands (`command::execute`: create → dispatch → sign → result) and writes the
//! histories with their source keys in one transaction (`ImportStore::import_sourced`), so a
//! re-run imports nothing twice. `jiesu import csv` and the admin's upload
//! (`POST /api/v1/admin/imports`) both call [`run`]; neither has an import path of its own.

pub mod mapping;

use crate::mapping::{MappedRow, Mapping, NotMapped, Prepared, Rejection, Stage};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::intake::{Filer, IntakeContext, IntakeForm, RequesterForm};
use jiesu_domain::org::OrgTree;
use jiesu_domain::ticket::{AssignmentRole, Intake};
use jiesu_domain::{ActorRef, Event, Role, TicketState};
use jiesu_store::{prelude::*, SourcedTicket};
use serde::Serialize;
use std::collections::BTreeMap;

/// The mappings shipped with Jiesu (name, TOML), offered by the admin's upload page.
pub const EXAMPLES: &[(&str, &str)] = &[(
    "nyc311",
    include_str!("../../../docs/examples/nyc311-mapping.toml"),
)];

/// Why an import did not happen (nothing was written).
#[derive(Debug)]
pub enum ImportError {
    /// The mapping file cannot be read or is inconsistent.
    Mapping(String),
    /// The export is rejected whole (encoding, quotes, columns, dates), each problem with its line.
    Rejected(Rejection),
    /// Reading the city's reference data or writing the tickets failed.
    Failed(anyhow::Error),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Mapping(e) => write!(f, "mapping: {e}"),
            ImportError::Rejected(r) => write!(f, "{r}"),
            ImportError::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads the mapping, checks and maps the whole export, and (unless `dry_run`) writes its new
/// rows as tickets in one transaction. `file` names the export in the report.
pub fn run(
    store: &dyn Store,
    mapping_toml: &str,
    bytes: &[u8],
    file: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> std::result::Result<Report, ImportError> {
    let m = Mapping::from_toml(mapping_toml).map_err(ImportError::Mapping)?;
    let prepared = mapping::prepare(&m, bytes).map_err(ImportError::Rejected)?;
    import(store, &m, prepared, file, dry_run, now).map_err(ImportError::Failed)
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

/// The system actors of an import.
struct Actors {
    agent: ActorRef,
    dispatcher: ActorRef,
}

/// Builds and (unless `dry_run`) writes the tickets of a checked and mapped export.
pub fn import(
    store: &dyn Store,
    m: &Mapping,
    p: Prepared,
    file: &str,
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
        file: file.to_string(),
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
        lat: row.position.map(|p| p.0),
        lng: row.position.map(|p| p.1),
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
