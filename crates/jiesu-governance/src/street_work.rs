//! 治理类街乡镇的工作 — what is done about a street once it is pre-warned (未进先治) or listed:
//! the interview of its leaders (约谈), its problem list (问题清单) and project list (项目清单)
//! with owners, due dates and progress, and the monitoring of its volume and rates by day, week
//! and month from the data platform's facts (while listed, and for the policy's tracking period
//! after exit). Pure: the checks of what is filed and the series; the server stores and serves.

use chrono::{Datelike, Duration, NaiveDate};
use jiesu_analytics::TicketFacts;
use jiesu_domain::ticket::{Resolution, Satisfaction};
use serde::{Deserialize, Serialize};

/// The kind of a street's work item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 问题清单 — a problem found (in the interview, in the tickets) to be solved.
    Problem,
    /// 项目清单 — a project "claimed" by a department to fix the street's infrastructure.
    Project,
}

impl ItemKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Problem => "problem",
            ItemKind::Project => "project",
        }
    }
    /// From the wire name.
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "problem" => Some(ItemKind::Problem),
            "project" => Some(ItemKind::Project),
            _ => None,
        }
    }
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemKind::Problem => "问题",
            ItemKind::Project => "项目",
        }
    }
}

/// An item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// 未开始
    Open,
    /// 推进中
    InProgress,
    /// 已完成
    Done,
}

impl ItemStatus {
    /// Every status, in order.
    pub const ALL: [ItemStatus; 3] = [ItemStatus::Open, ItemStatus::InProgress, ItemStatus::Done];
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Done => "done",
        }
    }
    /// From the wire name.
    pub fn parse(s: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemStatus::Open => "未开始",
            ItemStatus::InProgress => "推进中",
            ItemStatus::Done => "已完成",
        }
    }
}

/// A refusal of what was filed: the field and why, in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The field.
    pub field: &'static str,
    /// Why (English).
    pub en: String,
    /// Why (Chinese).
    pub zh: String,
}

fn refuse(field: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Refused {
    Refused {
        field,
        en: en.into(),
        zh: zh.into(),
    }
}

fn text(field: &'static str, v: &str, max: usize, zh: &str) -> Result<String, Refused> {
    let t = v.trim();
    if t.is_empty() {
        return Err(refuse(
            field,
            format!("{field} is required"),
            format!("请填写{zh}"),
        ));
    }
    if t.chars().count() > max {
        return Err(refuse(
            field,
            format!("{field} is longer than {max} characters"),
            format!("{zh}不能超过 {max} 字"),
        ));
    }
    Ok(t.to_string())
}

/// 约谈 — an interview of a street's leaders, as filed: when, who attended, what was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interview {
    /// The day it was held.
    pub held_on: NaiveDate,
    /// Who attended (names and posts), at least one.
    pub attendees: Vec<String>,
    /// What was found and asked of the street.
    pub findings: String,
}

/// Checks an interview filed at `today` (city day): not in the future, 1–30 attendees of at most
/// 100 characters, findings of 1–5,000 characters. Answers it trimmed.
pub fn check_interview(i: &Interview, today: NaiveDate) -> Result<Interview, Refused> {
    if i.held_on > today {
        return Err(refuse(
            "held_on",
            format!("the interview's day {} is in the future", i.held_on),
            format!("约谈日期 {} 晚于今天", i.held_on),
        ));
    }
    let attendees: Vec<String> = i
        .attendees
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if attendees.is_empty() || attendees.len() > 30 {
        return Err(refuse(
            "attendees",
            "name 1 to 30 attendees",
            "请填写参加人员（1–30 人）",
        ));
    }
    if attendees.iter().any(|a| a.chars().count() > 100) {
        return Err(refuse(
            "attendees",
            "an attendee is longer than 100 characters",
            "参加人员每项不能超过 100 字",
        ));
    }
    Ok(Interview {
        held_on: i.held_on,
        attendees,
        findings: text("findings", &i.findings, 5000, "约谈发现的问题和要求")?,
    })
}

/// A problem or project as filed or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Problem or project.
    pub kind: ItemKind,
    /// What it is.
    pub title: String,
    /// Who owns it (a unit or department and a person).
    pub owner: String,
    /// When it is due.
    pub due: NaiveDate,
    /// Where it stands.
    pub status: ItemStatus,
    /// Progress in words (what was done last).
    pub progress: String,
}

/// Checks an item: a title of 1–200 characters, an owner of 1–100, progress of at most 2,000.
pub fn check_item(i: &Item) -> Result<Item, Refused> {
    let progress = i.progress.trim().to_string();
    if progress.chars().count() > 2000 {
        return Err(refuse(
            "progress",
            "progress is longer than 2000 characters",
            "进展不能超过 2000 字",
        ));
    }
    Ok(Item {
        kind: i.kind,
        title: text("title", &i.title, 200, "名称")?,
        owner: text("owner", &i.owner, 100, "责任单位或责任人")?,
        due: i.due,
        status: i.status,
        progress,
    })
}

/// The share of a list done and overdue at `today`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ListProgress {
    /// Items.
    pub total: u32,
    /// Done.
    pub done: u32,
    /// Not done and past their due day.
    pub overdue: u32,
    /// done / total (`None` for an empty list).
    pub done_rate: Option<f64>,
}

/// Progress of a list of (status, due) at `today`.
pub fn progress(items: &[(ItemStatus, NaiveDate)], today: NaiveDate) -> ListProgress {
    let total = items.len() as u32;
    let done = items.iter().filter(|i| i.0 == ItemStatus::Done).count() as u32;
    let overdue = items
        .iter()
        .filter(|i| i.0 != ItemStatus::Done && i.1 < today)
        .count() as u32;
    ListProgress {
        total,
        done,
        overdue,
        done_rate: (total > 0).then(|| f64::from(done) / f64::from(total)),
    }
}

/// How a street's series is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// 日 — city days.
    Day,
    /// 周 — weeks from Monday.
    Week,
    /// 月 — calendar months.
    Month,
}

/// One period of a street's monitoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorPoint {
    /// The period's first day.
    pub from: NaiveDate,
    /// Requests created in the street in the period.
    pub volume: u32,
    /// Called back with a resolution.
    pub rated: u32,
    /// Called back as resolved (已解决).
    pub resolved: u32,
    /// Called back with a satisfaction.
    pub judged: u32,
    /// Satisfied or basically satisfied.
    pub satisfied: u32,
    /// Dispatched requests.
    pub dispatched: u32,
    /// Dispatched requests responded to in time.
    pub responded_in_time: u32,
    /// resolved / rated (解决率).
    pub resolution_rate: Option<f64>,
    /// satisfied / judged (满意率).
    pub satisfaction_rate: Option<f64>,
    /// responded in time / dispatched (响应率).
    pub response_rate: Option<f64>,
}

/// The start of the period holding `d`.
pub fn period_start(grain: Grain, d: NaiveDate) -> NaiveDate {
    match grain {
        Grain::Day => d,
        Grain::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        Grain::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_start(grain: Grain, d: NaiveDate) -> NaiveDate {
    match grain {
        Grain::Day => d + Duration::days(1),
        Grain::Week => d + Duration::days(7),
        Grain::Month => {
            let (y, m) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
        }
    }
}

fn rate(n: u32, d: u32) -> Option<f64> {
    (d > 0).then(|| (f64::from(n) / f64::from(d) * 1000.0).round() / 1000.0)
}

/// A street's volume and rates per period, for the `periods` periods ending with the one that
/// holds `today` (oldest first; periods without requests are zero). Counted by the tickets'
/// creation day; rates over the tickets of the period that have a callback (or were dispatched).
pub fn monitor(
    facts: &TicketFacts,
    street: &str,
    grain: Grain,
    today: NaiveDate,
    periods: usize,
) -> Vec<MonitorPoint> {
    let mut starts = vec![period_start(grain, today)];
    while starts.len() < periods.max(1) {
        let first = starts[0];
        starts.insert(0, period_start(grain, first - Duration::days(1)));
    }
    let mut out: Vec<MonitorPoint> = starts
        .iter()
        .map(|s| MonitorPoint {
            from: *s,
            volume: 0,
            rated: 0,
            resolved: 0,
            judged: 0,
            satisfied: 0,
            dispatched: 0,
            responded_in_time: 0,
            resolution_rate: None,
            satisfaction_rate: None,
            response_rate: None,
        })
        .collect();
    let Some(sid) = facts.places.id(street) else {
        return out;
    };
    let first = starts[0];
    let end = next_start(grain, *starts.last().unwrap_or(&today));
    use jiesu_analytics::facts::flag;
    for p in facts.partitions.values() {
        let Some(m) = p.month else { continue };
        if m.next().first_day() <= first || m.first_day() >= end {
            continue;
        }
        for i in 0..p.len() {
            if p.street[i] != sid {
                continue;
            }
            let day = m.first_day() + Duration::days(i64::from(p.day[i]) - 1);
            if day < first || day >= end {
                continue;
            }
            let k = starts.partition_point(|s| *s <= day) - 1;
            let o = &mut out[k];
            o.volume += 1;
            let f = p.flags[i];
            if f & flag::DISPATCHED != 0 {
                o.dispatched += 1;
                if f & flag::RESPONDED_IN_TIME != 0 {
                    o.responded_in_time += 1;
                }
            }
            let (_, resolution, satisfaction) = TicketFacts::callback(p.callback[i]);
            if let Some(r) = resolution {
                o.rated += 1;
                if r == Resolution::Resolved {
                    o.resolved += 1;
                }
            }
            if let Some(s) = satisfaction {
                o.judged += 1;
                if s != Satisfaction::Unsatisfied {
                    o.satisfied += 1;
                }
            }
        }
    }
    for o in &mut out {
        o.resolution_rate = rate(o.resolved, o.rated);
        o.satisfaction_rate = rate(o.satisfied, o.judged);
        o.response_rate = rate(o.responded_in_time, o.dispatched);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_analytics::LocalMonth;
    use jiesu_analytics::TicketFact;
    use jiesu_domain::state::Status;
    use jiesu_domain::ticket::{Channel, RequestType};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn fact(id: i64, day: &str, street: &str, res: Option<Resolution>) -> TicketFact {
        TicketFact {
            ticket_id: id,
            created_date: d(day),
            created_hour: 9,
            channel: Channel::Phone,
            request_type: RequestType::Complaint,
            category_code: "01".into(),
            district_code: "110102".into(),
            street_code: street.into(),
            community_code: String::new(),
            lead_unit: street.into(),
            lead_unit_kind: None,
            tier: None,
            status: Status::Closed,
            dispatched: true,
            answered_directly: false,
            enterprise: false,
            overdue: false,
            returned: false,
            reopened: false,
            responded_in_time: id % 2 == 0,
            contacted: res.map(|_| true),
            resolution: res,
            satisfaction: res.map(|r| {
                if r == Resolution::Resolved {
                    Satisfaction::Satisfied
                } else {
                    Satisfaction::Unsatisfied
                }
            }),
            secs_to_sign: None,
            secs_to_respond: None,
            secs_to_finish: None,
            requester_hash: None,
        }
    }

    fn facts(rows: &[TicketFact]) -> TicketFacts {
        let mut f = TicketFacts::new();
        for r in rows {
            f.push(LocalMonth::of(r.created_date), r).unwrap();
        }
        f
    }

    #[test]
    fn monitoring_counts_a_streets_requests_and_rates_per_day_week_and_month() {
        let f = facts(&[
            fact(1, "2026-11-02", "s1", Some(Resolution::Resolved)),
            fact(2, "2026-11-02", "s1", Some(Resolution::Unresolved)),
            fact(3, "2026-11-03", "s1", None),
            fact(4, "2026-11-10", "s1", Some(Resolution::Resolved)),
            fact(5, "2026-11-10", "s2", Some(Resolution::Resolved)),
            fact(6, "2026-10-30", "s1", Some(Resolution::Resolved)),
        ]);
        let days = monitor(&f, "s1", Grain::Day, d("2026-11-10"), 10);
        assert_eq!(days.len(), 10);
        assert_eq!(days[0].from, d("2026-11-01"));
        assert_eq!(days[1].volume, 2);
        assert_eq!(days[1].resolution_rate, Some(0.5));
        assert_eq!(days[2].volume, 1);
        assert_eq!(days[2].resolution_rate, None);
        assert_eq!(
            days[9].volume, 1,
            "the other street's request is not counted"
        );
        let weeks = monitor(&f, "s1", Grain::Week, d("2026-11-10"), 3);
        // weeks from Monday: 10-26, 11-02, 11-09
        assert_eq!(
            weeks.iter().map(|w| (w.from, w.volume)).collect::<Vec<_>>(),
            vec![
                (d("2026-10-26"), 1),
                (d("2026-11-02"), 3),
                (d("2026-11-09"), 1)
            ]
        );
        assert_eq!(weeks[1].response_rate, Some(0.333));
        let months = monitor(&f, "s1", Grain::Month, d("2026-11-10"), 2);
        assert_eq!(months[0].from, d("2026-10-01"));
        assert_eq!((months[0].volume, months[1].volume), (1, 4));
        assert_eq!(months[1].resolution_rate, Some(0.667));
        assert_eq!(months[1].satisfaction_rate, Some(0.667));
        assert!(monitor(&f, "nowhere", Grain::Month, d("2026-11-10"), 2)
            .iter()
            .all(|m| m.volume == 0));
    }

    #[test]
    fn an_interview_in_the_future_or_without_attendees_is_refused() {
        let i = Interview {
            held_on: d("2026-11-11"),
            attendees: vec!["张主任".into()],
            findings: "群租房问题突出".into(),
        };
        assert_eq!(
            check_interview(&i, d("2026-11-10")).unwrap_err().field,
            "held_on"
        );
        let mut j = i.clone();
        j.held_on = d("2026-11-10");
        j.attendees = vec!["  ".into()];
        assert_eq!(
            check_interview(&j, d("2026-11-10")).unwrap_err().field,
            "attendees"
        );
        j.attendees = vec![" 张主任 ".into(), "李书记".into()];
        let ok = check_interview(&j, d("2026-11-10")).unwrap();
        assert_eq!(ok.attendees, vec!["张主任", "李书记"]);
        j.findings = " ".into();
        assert_eq!(
            check_interview(&j, d("2026-11-10")).unwrap_err().field,
            "findings"
        );
    }

    #[test]
    fn an_item_needs_a_title_and_an_owner_and_progress_counts_done_and_overdue() {
        let it = Item {
            kind: ItemKind::Project,
            title: "  ".into(),
            owner: "区市政市容委".into(),
            due: d("2026-12-31"),
            status: ItemStatus::Open,
            progress: String::new(),
        };
        assert_eq!(check_item(&it).unwrap_err().field, "title");
        let mut it2 = it.clone();
        it2.title = "广外南街道路改造".into();
        it2.owner = String::new();
        assert_eq!(check_item(&it2).unwrap_err().field, "owner");
        let p = progress(
            &[
                (ItemStatus::Done, d("2026-10-01")),
                (ItemStatus::InProgress, d("2026-10-01")),
                (ItemStatus::Open, d("2026-12-01")),
            ],
            d("2026-11-10"),
        );
        assert_eq!((p.total, p.done, p.overdue), (3, 1, 1));
        assert!((p.done_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(progress(&[], d("2026-11-10")).done_rate, None);
        assert_eq!(
            ItemStatus::parse("in_progress"),
            Some(ItemStatus::InProgress)
        );
        assert_eq!(ItemKind::parse("x"), None);
    }
}
