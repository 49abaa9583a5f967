//! 突发事件合并 — several similar reports in one place within an hour become one incident,
//! pushed once and updated as more arrive (e.g. a water outage reported by a whole community).
//!
//! **The rule** (`IncidentRule`, default): two reports are *similar* when they are about the
//! same place — the same community (社区), or the same street (街乡镇) when the report names no
//! community — and the same category (the intake's category code). A new report opens an
//! incident when, with it, at least **3** similar reports were created within **60 minutes**
//! (the reports' own creation times, never the clock of the machine); it joins the place ×
//! category's latest incident when that incident's last report is at most 60 minutes older.
//! Pure: the caller finds the recent reports and the latest incident; this decides.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A report as the rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The ticket.
    pub ticket: i64,
    /// When it was created.
    pub at: DateTime<Utc>,
    /// The community's code, or the street's when it names no community.
    pub place: String,
    /// The category code.
    pub category: String,
}

impl Report {
    /// Whether two reports are about the same place and category.
    pub fn similar(&self, other: &Report) -> bool {
        !self.place.is_empty() && self.place == other.place && self.category == other.category
    }
}

/// 合并规则 — the parameters of the incident rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IncidentRule {
    /// The window, in minutes.
    pub window_minutes: i64,
    /// Reports (the new one included) that open an incident.
    pub min_reports: usize,
}

impl Default for IncidentRule {
    fn default() -> Self {
        IncidentRule {
            window_minutes: 60,
            min_reports: 3,
        }
    }
}

/// The latest incident of a place × category, as the caller found it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIncident {
    /// Its alert id.
    pub id: i64,
    /// When its latest report was created.
    pub last_at: DateTime<Utc>,
    /// Its tickets.
    pub tickets: Vec<i64>,
    /// Handled or dismissed: a new report opens a new incident instead of joining it.
    pub closed: bool,
}

/// What to do with a new report.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentDecision {
    /// Nothing: too few similar reports.
    Nothing,
    /// Add the report to this incident.
    Join {
        /// The incident's alert id.
        id: i64,
        /// Its tickets after the report joined (oldest first).
        tickets: Vec<i64>,
    },
    /// Open an incident with these tickets (oldest first, the new one last).
    Open {
        /// The tickets.
        tickets: Vec<i64>,
    },
}

/// Decides what a new report does, given the other reports created up to it (any place; only
/// the similar ones within the window count) and the latest incident of its place × category.
pub fn decide(
    new: &Report,
    recent: &[Report],
    latest: Option<&OpenIncident>,
    rule: &IncidentRule,
) -> IncidentDecision {
    if new.place.is_empty() {
        return IncidentDecision::Nothing;
    }
    let window = Duration::minutes(rule.window_minutes);
    if let Some(inc) = latest {
        if inc.tickets.contains(&new.ticket) {
            return IncidentDecision::Nothing;
        }
        // reports filed at the same moment arrive in any order: one a little older than the
        // incident's latest still joins it (else each would open an incident of its own)
        if !inc.closed && new.at - inc.last_at <= window && inc.last_at - new.at <= window {
            let mut tickets = inc.tickets.clone();
            tickets.push(new.ticket);
            return IncidentDecision::Join {
                id: inc.id,
                tickets,
            };
        }
    }
    let mut members: Vec<&Report> = recent
        .iter()
        .filter(|r| {
            r.ticket != new.ticket
                && new.similar(r)
                && r.at <= new.at
                && new.at - r.at <= window
                && latest.is_none_or(|inc| !inc.tickets.contains(&r.ticket))
        })
        .collect();
    if members.len() + 1 < rule.min_reports {
        return IncidentDecision::Nothing;
    }
    members.sort_by_key(|r| (r.at, r.ticket));
    let mut tickets: Vec<i64> = members.iter().map(|r| r.ticket).collect();
    tickets.push(new.ticket);
    IncidentDecision::Open { tickets }
}

/// The most reports an incident lists. Past that (a storm: a water outage can bring a thousand
/// calls in the hour) each new one would rewrite an ever longer list, so the incident keeps its
/// list and only moves its last report time, at most once a minute (its window then runs from
/// up to a minute earlier).
pub const INCIDENT_TICKETS: usize = 500;

/// What a report joining an incident changes on it: its tickets and last report time, or `None`
/// when nothing changes (the report is listed already, or the list is full and the last report
/// time moved less than a minute ago).
pub fn joined(
    tickets: &[i64],
    last_at: DateTime<Utc>,
    ticket: i64,
    at: DateTime<Utc>,
) -> Option<(Vec<i64>, DateTime<Utc>)> {
    if tickets.contains(&ticket) {
        return None;
    }
    if tickets.len() < INCIDENT_TICKETS {
        let mut v = tickets.to_vec();
        v.push(ticket);
        Some((v, last_at.max(at)))
    } else if at - last_at >= Duration::minutes(1) {
        Some((tickets.to_vec(), at))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn r(ticket: i64, min: i64, place: &str, category: &str) -> Report {
        Report {
            ticket,
            at: at(min),
            place: place.into(),
            category: category.into(),
        }
    }

    #[test]
    fn three_similar_reports_within_an_hour_open_one_incident() {
        let rule = IncidentRule::default();
        let a = r(1, 0, "c1", "water");
        let b = r(2, 20, "c1", "water");
        assert_eq!(
            decide(&b, std::slice::from_ref(&a), None, &rule),
            IncidentDecision::Nothing
        );
        let c = r(3, 50, "c1", "water");
        assert_eq!(
            decide(&c, &[a.clone(), b.clone()], None, &rule),
            IncidentDecision::Open {
                tickets: vec![1, 2, 3]
            }
        );
    }

    #[test]
    fn other_places_categories_and_old_reports_do_not_count() {
        let rule = IncidentRule::default();
        let new = r(9, 100, "c1", "water");
        let others = [
            r(1, 100, "c2", "water"),
            r(2, 90, "c1", "noise"),
            r(3, 30, "c1", "water"),
            r(4, 95, "c1", "water"),
        ];
        assert_eq!(
            decide(&new, &others, None, &rule),
            IncidentDecision::Nothing
        );
    }

    #[test]
    fn a_later_report_joins_within_the_hour_of_the_last_and_not_after() {
        let rule = IncidentRule::default();
        let inc = OpenIncident {
            id: 7,
            last_at: at(50),
            tickets: vec![1, 2, 3],
            closed: false,
        };
        assert_eq!(
            decide(&r(4, 100, "c1", "water"), &[], Some(&inc), &rule),
            IncidentDecision::Join {
                id: 7,
                tickets: vec![1, 2, 3, 4]
            }
        );
        assert_eq!(
            decide(&r(4, 50 + 120, "c1", "water"), &[], Some(&inc), &rule),
            IncidentDecision::Nothing
        );
    }

    #[test]
    fn reports_already_in_an_incident_do_not_open_a_second_one() {
        let rule = IncidentRule::default();
        let inc = OpenIncident {
            id: 7,
            last_at: at(0),
            tickets: vec![1, 2, 3],
            closed: false,
        };
        let recent = [r(2, 0, "c1", "w"), r(3, 0, "c1", "w")];
        assert_eq!(
            decide(&r(5, 200, "c1", "w"), &recent, Some(&inc), &rule),
            IncidentDecision::Nothing
        );
    }

    #[test]
    fn a_report_filed_a_moment_before_the_incidents_latest_still_joins_it() {
        // concurrent intake: the report of 8:09 is decided after the one of 8:10 joined
        let rule = IncidentRule::default();
        let inc = OpenIncident {
            id: 7,
            last_at: at(10),
            tickets: vec![1, 2, 3, 4],
            closed: false,
        };
        assert_eq!(
            decide(&r(5, 9, "c1", "w"), &[], Some(&inc), &rule),
            IncidentDecision::Join {
                id: 7,
                tickets: vec![1, 2, 3, 4, 5]
            }
        );
        // but not one from more than the window before it
        assert_ne!(
            decide(&r(6, 10 - 61, "c1", "w"), &[], Some(&inc), &rule),
            IncidentDecision::Join {
                id: 7,
                tickets: vec![1, 2, 3, 4, 6]
            }
        );
    }

    #[test]
    fn a_closed_incident_is_not_joined_and_its_reports_do_not_count_again() {
        let rule = IncidentRule::default();
        let inc = OpenIncident {
            id: 7,
            last_at: at(10),
            tickets: vec![1, 2, 3],
            closed: true,
        };
        let recent = [
            r(1, 0, "c1", "w"),
            r(2, 5, "c1", "w"),
            r(3, 10, "c1", "w"),
            r(4, 15, "c1", "w"),
        ];
        assert_eq!(
            decide(&r(5, 20, "c1", "w"), &recent[..3], Some(&inc), &rule),
            IncidentDecision::Nothing
        );
        assert_eq!(
            decide(&r(6, 20, "c1", "w"), &recent, Some(&inc), &rule),
            IncidentDecision::Nothing
        );
        let recent2 = [r(4, 15, "c1", "w"), r(5, 20, "c1", "w")];
        assert_eq!(
            decide(&r(6, 25, "c1", "w"), &recent2, Some(&inc), &rule),
            IncidentDecision::Open {
                tickets: vec![4, 5, 6]
            }
        );
    }

    #[test]
    fn a_report_without_a_place_never_merges() {
        let rule = IncidentRule::default();
        let recent = [r(1, 0, "", "w"), r(2, 0, "", "w")];
        assert_eq!(
            decide(&r(3, 1, "", "w"), &recent, None, &rule),
            IncidentDecision::Nothing
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Reports arriving in time order through the rule: each ticket is in at most one
            /// incident, every incident holds at least three similar reports, and each of its
            /// reports came within the window of the one before it.
            #[test]
            fn replayed_reports_form_disjoint_incidents_within_the_window(
                steps in proptest::collection::vec((0i64..40, 0usize..2, 0usize..2), 1..60)
            ) {
                let rule = IncidentRule::default();
                let mut t = 0i64;
                let mut all: Vec<Report> = Vec::new();
                let mut incidents: Vec<(String, String, Vec<i64>, DateTime<Utc>)> = Vec::new();
                for (i, (gap, p, c)) in steps.into_iter().enumerate() {
                    t += gap;
                    let new = r(i as i64, t, ["c1", "c2"][p], ["w", "n"][c]);
                    let latest = incidents
                        .iter()
                        .enumerate()
                        .rev()
                        .find(|(_, x)| x.0 == new.place && x.1 == new.category)
                        .map(|(id, x)| OpenIncident { id: id as i64, last_at: x.3, tickets: x.2.clone(), closed: false });
                    match decide(&new, &all, latest.as_ref(), &rule) {
                        IncidentDecision::Nothing => {}
                        IncidentDecision::Join { id, tickets } => {
                            let inc = &mut incidents[id as usize];
                            prop_assert!(new.at - inc.3 <= Duration::minutes(60));
                            inc.2 = tickets;
                            inc.3 = new.at;
                        }
                        IncidentDecision::Open { tickets } => {
                            prop_assert!(tickets.len() >= 3);
                            incidents.push((new.place.clone(), new.category.clone(), tickets, new.at));
                        }
                    }
                    all.push(new);
                }
                let mut seen = std::collections::HashSet::new();
                for (place, category, tickets, _) in &incidents {
                    prop_assert!(tickets.len() >= 3);
                    for id in tickets {
                        prop_assert!(seen.insert(*id), "ticket {} in two incidents", id);
                        let rep = &all[*id as usize];
                        prop_assert_eq!(&rep.place, place);
                        prop_assert_eq!(&rep.category, category);
                    }
                    for w in tickets.windows(2) {
                        let (a, b) = (&all[w[0] as usize], &all[w[1] as usize]);
                        prop_assert!(b.at >= a.at && b.at - a.at <= Duration::minutes(60));
                    }
                }
            }
        }
    }

    #[test]
    fn a_full_incident_moves_its_last_report_time_at_most_once_a_minute() {
        let t0 = Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).unwrap();
        let full: Vec<i64> = (1..=INCIDENT_TICKETS as i64).collect();
        assert_eq!(joined(&full, t0, 9999, t0 + Duration::seconds(59)), None);
        let (v, at) = joined(&full, t0, 9999, t0 + Duration::seconds(60)).unwrap();
        assert_eq!(
            (v.len(), at),
            (INCIDENT_TICKETS, t0 + Duration::seconds(60))
        );
        // below the cap the report is listed and the last time never goes back
        let (v, at) = joined(&[1, 2], t0, 3, t0 - Duration::minutes(5)).unwrap();
        assert_eq!((v, at), (vec![1, 2, 3], t0));
        assert_eq!(joined(&[1, 2], t0, 2, t0), None, "listed already");
    }
}
