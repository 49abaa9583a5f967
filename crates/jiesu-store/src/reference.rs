//! Reference data (基础数据): the units and the category tree, the database's settings (the
//! city's time zone among them) and where files derived from the database live.

use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use jiesu_domain::category::Category;
use jiesu_domain::org::Unit;
use jiesu_domain::CityZone;
use std::path::Path;

/// Units, categories and settings.
pub trait ReferenceStore: Send + Sync {
    /// Replaces every unit and category in one transaction.
    fn replace_reference(&self, units: &[Unit], categories: &[Category]) -> Result<()>;
    fn units(&self) -> Result<Vec<Unit>>;
    fn categories(&self) -> Result<Vec<Category>>;
    /// How many tickets were created per category in `[from, to)` (UTC instants), most used
    /// first — the use counts of category search (`GET /api/v1/categories/search`).
    fn category_use_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>>;
    /// A setting (`demo_city`, `notify_cursor`, `time_zone` …).
    fn meta(&self, key: &str) -> Result<Option<String>>;
    /// Sets a setting (durable on return).
    fn set_meta(&self, key: &str, value: &str) -> Result<()>;
    /// The database's location: files derived from it (the facts cache, classifier models,
    /// attachments) live beside it, at this path with a suffix.
    fn path(&self) -> &Path;

    /// The city's time zone (the `time_zone` setting; `Asia/Shanghai` when it was never set).
    /// A stored name that is not an IANA zone is an error, never a silent default.
    fn city_zone(&self) -> Result<CityZone> {
        match self.meta(CityZone::SETTING_KEY)? {
            None => Ok(CityZone::default()),
            Some(name) => CityZone::parse(&name).map_err(|e| StoreError::Invalid {
                field: CityZone::SETTING_KEY.into(),
                message: format!("the stored setting is wrong: {e}"),
                message_zh: format!(
                    "数据库中的时区设置无效：{name}（应为 IANA 时区名，如 Asia/Shanghai）"
                ),
            }),
        }
    }

    /// Sets the city's time zone.
    fn set_city_zone(&self, zone: CityZone) -> Result<()> {
        self.set_meta(CityZone::SETTING_KEY, zone.name())
    }
}
