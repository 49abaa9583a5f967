//! The city's time zone (城市时区): one setting that decides every local day and month boundary —
//! scoring periods, knowledge-base validity, ticket numbers, "today" on dashboards, the generator's
//! working days. Jiesu is for any city: the zone is an IANA name stored in the database's settings
//! (`jiesu init --tz`), `Asia/Shanghai` by default. Instants are always stored in UTC; only the
//! boundaries between days and months are local.
//!
//! Conversions are exact across daylight-saving changes: a local midnight that does not exist (a
//! spring-forward gap) starts the day at the first local instant after the gap; an ambiguous one
//! (fall-back) at the earlier of the two.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A city's time zone (an IANA name such as `Asia/Shanghai` or `Europe/Paris`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CityZone(chrono_tz::Tz);

/// A time-zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: use an IANA name such as Asia/Shanghai or Europe/Paris (未知时区)"
)]
pub struct UnknownZone(pub String);

impl Default for CityZone {
    fn default() -> Self {
        CityZone(chrono_tz::Asia::Shanghai)
    }
}

impl CityZone {
    /// The default zone's name (the shipped reference city, Beijing, is on China Standard Time).
    pub const DEFAULT_NAME: &'static str = "Asia/Shanghai";
    /// The key of the setting in the database's settings table.
    pub const SETTING_KEY: &'static str = "time_zone";

    /// Parses an IANA zone name (exact spelling, e.g. `Asia/Shanghai`).
    pub fn parse(name: &str) -> Result<Self, UnknownZone> {
        name.trim()
            .parse::<chrono_tz::Tz>()
            .map(CityZone)
            .map_err(|_| UnknownZone(name.to_owned()))
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The local wall-clock time of an instant.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }

    /// The local calendar date of an instant.
    pub fn date(&self, at: DateTime<Utc>) -> NaiveDate {
        self.local(at).date()
    }

    /// The local (year, month) of an instant.
    pub fn year_month(&self, at: DateTime<Utc>) -> (i32, u32) {
        let d = self.date(at);
        (d.year(), d.month())
    }

    /// The instant of a local wall-clock time: the earlier one when it is ambiguous, the first
    /// instant after the gap when it does not exist.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        // A gap is at most a few hours long; step forward a minute at a time past it.
        for _ in 0..(24 * 60) {
            if let Some(t) = self.0.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            probe += Duration::minutes(1);
        }
        // Not reachable for real zones; fall back to the offset in force a day later.
        let off = self
            .0
            .offset_from_utc_datetime(&(local + Duration::days(1)))
            .fix();
        (local - Duration::seconds(off.local_minus_utc() as i64)).and_utc()
    }

    /// The first instant of a local day.
    pub fn start_of_day(&self, d: NaiveDate) -> DateTime<Utc> {
        self.instant(d.and_time(NaiveTime::MIN))
    }

    /// The instants `[start, end)` of a local day.
    pub fn day_bounds(&self, d: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let next = d.succ_opt().unwrap_or(d);
        (self.start_of_day(d), self.start_of_day(next))
    }

    /// The first instant of a local month (`month` 1–12; out-of-range months are clamped).
    pub fn start_of_month(&self, year: i32, month: u32) -> DateTime<Utc> {
        let d = NaiveDate::from_ymd_opt(year, month.clamp(1, 12), 1).unwrap_or(NaiveDate::MIN);
        self.start_of_day(d)
    }

    /// The instants `[start, end)` of a local month.
    pub fn month_bounds(&self, year: i32, month: u32) -> (DateTime<Utc>, DateTime<Utc>) {
        let (ny, nm) = if month >= 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        (
            self.start_of_month(year, month),
            self.start_of_month(ny, nm),
        )
    }

    /// The zone's offset from UTC in seconds at an instant (e.g. 28,800 for Asia/Shanghai).
    pub fn offset_seconds(&self, at: DateTime<Utc>) -> i32 {
        self.0
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// Whether the zone's offset changes within the year of `at` (daylight saving time).
    pub fn observes_dst_around(&self, at: DateTime<Utc>) -> bool {
        let base = self.offset_seconds(at);
        (1..=12).any(|k| self.offset_seconds(at + Duration::days(30 * k)) != base)
    }
}

/// 工单编号 — the public ticket number: the city-local date of intake and the id, e.g.
/// `2026112800000123`. The one definition used by the store and the generator.
pub fn public_number(id: i64, created_at: DateTime<Utc>, zone: CityZone) -> String {
    format!("{}{:08}", zone.date(created_at).format("%Y%m%d"), id)
}

impl std::fmt::Display for CityZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CityZone {
    type Err = UnknownZone;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CityZone::parse(s)
    }
}

impl Serialize for CityZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for CityZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        CityZone::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_default_zone_is_china_standard_time() {
        let z = CityZone::default();
        assert_eq!(z.name(), "Asia/Shanghai");
        assert_eq!(z.offset_seconds(utc("2026-07-01T00:00:00Z")), 8 * 3600);
        assert!(!z.observes_dst_around(utc("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn half_past_midnight_city_time_on_the_first_is_in_the_new_month() {
        let z = CityZone::default();
        // 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Beijing.
        assert_eq!(z.year_month(utc("2026-11-30T16:30:00Z")), (2026, 12));
        // 2026-11-30 15:30 UTC is 2026-11-30 23:30: still November, the last hour of the month.
        assert_eq!(z.year_month(utc("2026-11-30T15:30:00Z")), (2026, 11));
        let (a, b) = z.month_bounds(2026, 11);
        assert_eq!(a, utc("2026-10-31T16:00:00Z"));
        assert_eq!(b, utc("2026-11-30T16:00:00Z"));
        let (a, b) = z.month_bounds(2026, 12);
        assert_eq!(
            (a, b),
            (utc("2026-11-30T16:00:00Z"), utc("2026-12-31T16:00:00Z"))
        );
    }

    #[test]
    fn days_follow_daylight_saving_in_a_city_that_observes_it() {
        let z = CityZone::parse("Europe/Paris").unwrap();
        // 2026-03-29: clocks go from 02:00 to 03:00; the day is 23 hours long.
        let (a, b) = z.day_bounds(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
        assert_eq!(a, utc("2026-03-28T23:00:00Z"));
        assert_eq!(b, utc("2026-03-29T22:00:00Z"));
        assert!(z.observes_dst_around(a));
        // A local time inside the gap maps to the first instant after it.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(z.instant(gap), utc("2026-03-29T01:00:00Z"));
        // 2026-10-25: 03:00 → 02:00; 02:30 is ambiguous and maps to the earlier instant.
        let amb = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(z.instant(amb), utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn the_ticket_number_carries_the_city_date_of_intake() {
        let z = CityZone::default();
        // 23:30 on 30 November in Beijing, then 00:30 on 1 December.
        assert_eq!(
            public_number(123, utc("2026-11-30T15:30:00Z"), z),
            "2026113000000123"
        );
        assert_eq!(
            public_number(124, utc("2026-11-30T16:30:00Z"), z),
            "2026120100000124"
        );
        let ny = CityZone::parse("America/New_York").unwrap();
        assert_eq!(
            public_number(7, utc("2026-12-01T03:00:00Z"), ny),
            "2026113000000007"
        );
    }

    #[test]
    fn an_unknown_zone_name_is_refused_in_words() {
        let e = CityZone::parse("Beijing/Time").unwrap_err();
        assert!(e.to_string().contains("IANA"));
        assert_eq!(
            CityZone::parse(" America/New_York ").unwrap().name(),
            "America/New_York"
        );
    }

    #[test]
    fn a_zone_round_trips_through_json_as_its_name() {
        let z = CityZone::parse("America/New_York").unwrap();
        let j = serde_json::to_string(&z).unwrap();
        assert_eq!(j, "\"America/New_York\"");
        assert_eq!(serde_json::from_str::<CityZone>(&j).unwrap(), z);
        assert!(serde_json::from_str::<CityZone>("\"Mars/Olympus\"").is_err());
    }
}
