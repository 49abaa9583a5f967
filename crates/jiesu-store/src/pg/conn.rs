//! One PostgreSQL connection with a statement cache, and the values bound to and read from it.
//!
//! The storage modules are written in the same portable SQL as the SQLite backend's (`?1`-style
//! placeholders are turned into PostgreSQL's `$1` once, when a statement is first prepared), and
//! the same loosely typed values: [`Pv`] binds an integer, text, real or blob to whatever column
//! type the statement expects (PostgreSQL's binary protocol is strict — an `i64` cannot be bound to
//! an `INTEGER` column — and the SQLite modules' rows, see `sqlite::encode`, are built as such
//! values). Written by hand because neither `postgres` nor `postgres-types` offers a dynamically
//! typed parameter.

use crate::{Result, StoreError};
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use postgres::{Client, Row, Statement};
use rusqlite::types::Value;
use std::collections::HashMap;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError::Db(format!(
                "{}: {}{}",
                db.code().code(),
                db.message(),
                db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
            )),
            None => StoreError::Db(e.to_string()),
        }
    }
}

/// A parameter of any SQL type, bound as the type the statement's column or placeholder has.
#[derive(Debug, Clone)]
pub(crate) struct Pv(pub Value);

impl ToSql for Pv {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                _ => i.to_string().as_str().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => f.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(s) => match *ty {
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
                Type::FLOAT8 => s.parse::<f64>()?.to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::JSONB => {
                    // JSONB's binary format: a version byte, then the text
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Value::Blob(b) => b.as_slice().to_sql(&Type::BYTEA, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Turns a Rust value into a [`Pv`] (see [`pv!`](crate::pv)).
pub(crate) trait IntoPv {
    fn into_pv(self) -> Pv;
}

macro_rules! into_pv_int {
    ($($t:ty),*) => {$(
        impl IntoPv for $t {
            fn into_pv(self) -> Pv { Pv(Value::Integer(self as i64)) }
        }
        impl IntoPv for &$t {
            fn into_pv(self) -> Pv { Pv(Value::Integer(*self as i64)) }
        }
    )*};
}
into_pv_int!(i64, i32, u32, u64, usize, u8, i16, u16);

impl IntoPv for bool {
    fn into_pv(self) -> Pv {
        Pv(Value::Integer(self as i64))
    }
}
impl IntoPv for &bool {
    fn into_pv(self) -> Pv {
        Pv(Value::Integer(*self as i64))
    }
}
impl IntoPv for f64 {
    fn into_pv(self) -> Pv {
        Pv(Value::Real(self))
    }
}
impl IntoPv for &f64 {
    fn into_pv(self) -> Pv {
        Pv(Value::Real(*self))
    }
}
impl IntoPv for &str {
    fn into_pv(self) -> Pv {
        Pv(Value::Text(self.to_string()))
    }
}
impl IntoPv for String {
    fn into_pv(self) -> Pv {
        Pv(Value::Text(self))
    }
}
impl IntoPv for &String {
    fn into_pv(self) -> Pv {
        Pv(Value::Text(self.clone()))
    }
}
impl IntoPv for Vec<u8> {
    fn into_pv(self) -> Pv {
        Pv(Value::Blob(self))
    }
}
impl IntoPv for &Vec<u8> {
    fn into_pv(self) -> Pv {
        Pv(Value::Blob(self.clone()))
    }
}
impl IntoPv for &[u8] {
    fn into_pv(self) -> Pv {
        Pv(Value::Blob(self.to_vec()))
    }
}
impl IntoPv for Value {
    fn into_pv(self) -> Pv {
        Pv(self)
    }
}
impl IntoPv for &Value {
    fn into_pv(self) -> Pv {
        Pv(self.clone())
    }
}
impl IntoPv for Pv {
    fn into_pv(self) -> Pv {
        self
    }
}
impl<T: IntoPv> IntoPv for Option<T> {
    fn into_pv(self) -> Pv {
        self.map_or(Pv(Value::Null), IntoPv::into_pv)
    }
}
impl<T: IntoPv + Clone> IntoPv for &Option<T> {
    fn into_pv(self) -> Pv {
        self.clone().map_or(Pv(Value::Null), IntoPv::into_pv)
    }
}

/// The parameters of a statement: `pv![a, b, c]` (each turned into a [`Pv`]).
#[macro_export]
#[doc(hidden)]
macro_rules! pv {
    () => { [] as [$crate::pg::conn::Pv; 0] };
    ($($x:expr),+ $(,)?) => {
        [$($crate::pg::conn::IntoPv::into_pv($x)),+]
    };
}

/// A column read as whatever it is (integer, real, text, blob or NULL).
pub(crate) struct Fv(pub Value);

impl<'a> FromSql<'a> for Fv {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Fv(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)? as i64),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)? as i64),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)? as i64),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)? as i64),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)? as f64),
            Type::BYTEA => Value::Blob(<Vec<u8>>::from_sql(ty, raw)?),
            Type::NUMERIC => {
                return Err(
                    "a NUMERIC column: cast it in SQL (::BIGINT or ::DOUBLE PRECISION)".into(),
                )
            }
            _ => Value::Text(<String>::from_sql(ty, raw)?),
        }))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Fv(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Typed reads of a row's columns, as loose as SQLite's: an integer column reads as `i64`, `u32`,
/// `bool`; a text column as `String`; NULL as `None`.
pub(crate) trait RowExt {
    fn val(&self, i: usize) -> Result<Value>;
    fn get_i64(&self, i: usize) -> Result<i64> {
        match self.val(i)? {
            Value::Integer(n) => Ok(n),
            Value::Real(f) => Ok(f as i64),
            Value::Text(s) => s
                .parse()
                .map_err(|_| StoreError::Db(format!("column {i}: {s:?} is not an integer"))),
            v => Err(StoreError::Db(format!(
                "column {i}: {v:?} is not an integer"
            ))),
        }
    }
    fn get_opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.val(i)? {
            Value::Null => Ok(None),
            _ => self.get_i64(i).map(Some),
        }
    }
    fn get_u32(&self, i: usize) -> Result<u32> {
        let n = self.get_i64(i)?;
        u32::try_from(n).map_err(|_| StoreError::Db(format!("column {i}: {n} out of range")))
    }
    fn get_bool(&self, i: usize) -> Result<bool> {
        Ok(self.get_i64(i)? != 0)
    }
    fn get_f64(&self, i: usize) -> Result<f64> {
        match self.val(i)? {
            Value::Integer(n) => Ok(n as f64),
            Value::Real(f) => Ok(f),
            v => Err(StoreError::Db(format!("column {i}: {v:?} is not a number"))),
        }
    }
    fn get_str(&self, i: usize) -> Result<String> {
        match self.val(i)? {
            Value::Text(s) => Ok(s),
            Value::Integer(n) => Ok(n.to_string()),
            Value::Real(f) => Ok(f.to_string()),
            v => Err(StoreError::Db(format!("column {i}: {v:?} is not text"))),
        }
    }
    fn get_opt_str(&self, i: usize) -> Result<Option<String>> {
        match self.val(i)? {
            Value::Null => Ok(None),
            _ => self.get_str(i).map(Some),
        }
    }
    fn get_blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.val(i)? {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            v => Err(StoreError::Db(format!("column {i}: {v:?} is not a blob"))),
        }
    }
    fn get_opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        match self.val(i)? {
            Value::Null => Ok(None),
            _ => self.get_blob(i).map(Some),
        }
    }
}

impl RowExt for Row {
    fn val(&self, i: usize) -> Result<Value> {
        self.try_get::<_, Fv>(i)
            .map(|f| f.0)
            .map_err(StoreError::from)
    }
}

/// `?1`, `?2` … become `$1`, `$2` …; everything else is left as written.
/// `?N` → `?{N + by}` outside quoted literals (for statements joined by `Conn::exec_many`).
pub(crate) fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(c);
        if c == '?' && !quoted && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            let n: usize = n.parse().unwrap_or(0);
            out.push_str(&(n + by).to_string());
        }
    }
    out
}

pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A connection with its prepared statements.
pub(crate) struct Conn {
    pub(crate) client: Client,
    cache: HashMap<String, Statement>,
    /// On the writer's connection, inside one group: the next ticket id and log position, known
    /// after the first read of the group (the writer is the only one who writes them), so a
    /// group of new tickets reads `MAX(…)` once; `None` when unknown (a new group, a rolled-back
    /// job, a bulk import).
    pub(crate) next_id: Option<i64>,
    pub(crate) next_pos: Option<i64>,
    /// The city's zone, read once per group.
    pub(crate) zone: Option<jiesu_domain::CityZone>,
    /// A job's savepoint not yet released: released with the next job's `SAVEPOINT` in one
    /// round trip (or by the group's `COMMIT`).
    pub(crate) savepoint_open: bool,
    /// The event log's monthly partitions known to exist (`YYYY-MM`).
    pub(crate) partitions: std::collections::HashSet<String>,
}

fn refs(p: &[Pv]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Conn {
    pub(crate) fn new(client: Client) -> Conn {
        Conn {
            client,
            cache: HashMap::new(),
            next_id: None,
            next_pos: None,
            zone: None,
            savepoint_open: false,
            partitions: Default::default(),
        }
    }

    fn stmt(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&translate(sql))?;
        if self.cache.len() > 512 {
            self.cache.clear();
        }
        self.cache.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs statements without parameters (DDL, `BEGIN`, `COMMIT` …).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    /// Executes one statement; the number of rows it changed.
    pub(crate) fn exec(&mut self, sql: &str, p: &[Pv]) -> Result<u64> {
        let s = self.stmt(sql)?;
        Ok(self.client.execute(&s, &refs(p))?)
    }

    /// Runs several writes as one statement, one round trip: each becomes a data-modifying
    /// `WITH` query of one `WITH … SELECT 1`, its `?N` placeholders shifted past the earlier ones'.
    /// They share one snapshot and none sees another's rows, so they must be independent (inserts
    /// of different rows; foreign keys are checked at the statement's end, after all of them).
    /// The writer's round trips are its cost per ticket: a new ticket's rows go in one.
    pub(crate) fn exec_many(&mut self, stmts: &[(&str, Vec<Pv>)]) -> Result<()> {
        match stmts {
            [] => return Ok(()),
            [(sql, p)] => return self.exec(sql, p).map(|_| ()),
            _ => {}
        }
        let mut sql = String::from("WITH ");
        let mut params: Vec<Pv> = Vec::new();
        for (i, (s, p)) in stmts.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "w{i} AS ({})",
                shift_placeholders(s, params.len())
            ));
            params.extend(p.iter().cloned());
        }
        sql.push_str(" SELECT 1");
        self.query(&sql, &params).map(|_| ())
    }

    pub(crate) fn query(&mut self, sql: &str, p: &[Pv]) -> Result<Vec<Row>> {
        let s = self.stmt(sql)?;
        Ok(self.client.query(&s, &refs(p))?)
    }

    pub(crate) fn query_opt(&mut self, sql: &str, p: &[Pv]) -> Result<Option<Row>> {
        let s = self.stmt(sql)?;
        Ok(self.client.query_opt(&s, &refs(p))?)
    }

    pub(crate) fn query_one(&mut self, sql: &str, p: &[Pv]) -> Result<Row> {
        let s = self.stmt(sql)?;
        Ok(self.client.query_one(&s, &refs(p))?)
    }

    /// Streams the rows of a large result to `f` without holding them all.
    pub(crate) fn for_each(
        &mut self,
        sql: &str,
        p: &[Pv],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        use postgres::fallible_iterator::FallibleIterator;
        let s = self.stmt(sql)?;
        let mut it = self.client.query_raw(&s, p.iter())?;
        let mut n = 0;
        while let Some(row) = it.next()? {
            f(&row)?;
            n += 1;
        }
        Ok(n)
    }

    /// Loads many rows of one shape with `COPY … FROM STDIN` (text format).
    pub(crate) fn copy_in(&mut self, table_cols: &str, rows: &[Vec<Value>]) -> Result<()> {
        use std::io::Write;
        let mut w = self
            .client
            .copy_in(&format!("COPY {table_cols} FROM STDIN"))?;
        let mut line = String::new();
        for r in rows {
            line.clear();
            for (i, v) in r.iter().enumerate() {
                if i > 0 {
                    line.push('\t');
                }
                copy_field(&mut line, v);
            }
            line.push('\n');
            w.write_all(line.as_bytes())
                .map_err(|e| StoreError::Db(format!("COPY: {e}")))?;
        }
        w.finish()?;
        Ok(())
    }
}

/// One field of PostgreSQL's COPY text format.
fn copy_field(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("\\N"),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Real(f) => out.push_str(&f.to_string()),
        Value::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Value::Blob(b) => {
            out.push_str("\\\\x");
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_placeholders_become_dollar_ones_outside_quotes() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b=?1 AND c='?2' AND d IN (?2,?10)"),
            "SELECT a FROM t WHERE b=$1 AND c='?2' AND d IN ($2,$10)"
        );
    }

    #[test]
    fn copy_text_escapes_tabs_newlines_and_backslashes() {
        let mut s = String::new();
        copy_field(&mut s, &Value::Text("a\tb\nc\\d".into()));
        assert_eq!(s, "a\\tb\\nc\\\\d");
        let mut b = String::new();
        copy_field(&mut b, &Value::Blob(vec![0, 255]));
        assert_eq!(b, "\\\\x00ff");
    }
}
