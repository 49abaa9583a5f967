//! Paging of long lists (分页): the `page` and `page_size` query parameters, checked the same way
//! on every list route that pages (a bad value is a 422 naming the parameter, in English and
//! Chinese), and the answer's `total`, `page` and `page_size`. A page beyond the end is an empty
//! page with the total, so a client can step back.

use crate::error::{ApiError, ApiResult};
use serde_json::{json, Value};

/// The largest page a list route serves.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The page a caller asked for: `page` from 1, `page_size` from 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl Paging {
    /// Reads `page` and `page_size` as sent (absent or empty: page 1 of `default_size`).
    pub fn parse(
        page: Option<&str>,
        page_size: Option<&str>,
        default_size: u32,
    ) -> ApiResult<Paging> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let page = match given(page) {
            None => 1,
            Some(s) => s.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                ApiError::invalid(
                    "page",
                    format!("page must be a whole number from 1, not '{s}'"),
                    format!("页码应为从 1 开始的整数，而不是“{s}”"),
                )
            })?,
        };
        let page_size = match given(page_size) {
            None => default_size.clamp(1, MAX_PAGE_SIZE),
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "page_size",
                        format!(
                            "page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, not '{s}'"
                        ),
                        format!("每页条数应为 1 到 {MAX_PAGE_SIZE} 之间的整数，而不是“{s}”"),
                    )
                })?,
        };
        Ok(Paging { page, page_size })
    }

    /// How many items come before this page.
    pub fn offset(&self) -> usize {
        (self.page as usize - 1).saturating_mul(self.page_size as usize)
    }

    /// This page of a list held in memory.
    pub fn slice<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset())
            .take(self.page_size as usize)
            .collect()
    }

    /// The paging members of an answer: `{total, page, page_size}`.
    pub fn answer(&self, total: u64) -> Value {
        json!({"total": total, "page": self.page, "page_size": self.page_size})
    }

    /// The answer `body` (an object) with `answer`'s members (an object).
    pub fn with_body(&self, mut body: Value, total: u64) -> Value {
        if let (Value::Object(b), Value::Object(a)) = (&mut body, self.answer(total)) {
            b.extend(a);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_or_empty_parameters_mean_the_first_page_of_the_default_size() {
        assert_eq!(
            Paging::parse(None, None, 50).unwrap(),
            Paging {
                page: 1,
                page_size: 50
            }
        );
        assert_eq!(
            Paging::parse(Some(""), Some(" "), 20).unwrap(),
            Paging {
                page: 1,
                page_size: 20
            }
        );
        assert_eq!(
            Paging::parse(Some("3"), Some("10"), 50).unwrap().offset(),
            20
        );
    }

    #[test]
    fn a_page_below_one_or_a_size_outside_the_range_is_refused_naming_the_parameter() {
        for (page, size, field) in [
            (Some("0"), None, "page"),
            (Some("-1"), None, "page"),
            (Some("two"), None, "page"),
            (None, Some("0"), "page_size"),
            (None, Some("501"), "page_size"),
            (None, Some("1e3"), "page_size"),
        ] {
            let e = Paging::parse(page, size, 50).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.field.as_deref(), Some(field));
            assert!(!e.detail_zh.is_empty() && !e.detail.is_empty());
        }
    }

    #[test]
    fn a_page_beyond_the_end_is_empty() {
        let p = Paging::parse(Some("9"), Some("5"), 50).unwrap();
        assert!(p.slice(0..12).is_empty());
        assert_eq!(
            Paging::parse(Some("3"), Some("5"), 50)
                .unwrap()
                .slice(0..12),
            vec![10, 11]
        );
    }
}
