//! 事实列 — one column of a fact partition: its own vector while a month is being built, or read in
//! place from bytes someone else holds (a file the store has mapped: `jiesu_store::fact_spill`),
//! so a city's whole history need not live in the server's own memory. The queries see a slice
//! either way (`Deref<Target = [T]>`). No IO here: the bytes come behind [`ColumnBytes`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

/// Bytes that shared columns read in place, and a way to let their memory go between uses.
pub trait ColumnBytes: Send + Sync {
    /// The bytes (aligned to 8 at their start).
    fn bytes(&self) -> &[u8];
    /// Lets the memory holding the bytes go; they are still readable and are brought back on the
    /// next read (for a mapped file: its pages leave this process, the page cache keeps them).
    fn release(&self);
}

/// A fact column. `T` is a plain integer (`u8`, `u16`, `u32`, `i64`).
pub enum Column<T> {
    /// Held in its own vector (being built, or never moved out).
    Owned(Vec<T>),
    /// Read in place: `len` values from byte `offset` of `bytes`.
    Shared {
        /// Where the values are.
        bytes: Arc<dyn ColumnBytes>,
        /// Byte offset of the first value (a multiple of the value's size).
        offset: usize,
        /// Number of values.
        len: usize,
        /// The value type.
        _t: PhantomData<T>,
    },
}

impl<T: bytemuck::Pod> Column<T> {
    /// An empty column with room for `n` values.
    pub fn with_capacity(n: usize) -> Self {
        Column::Owned(Vec::with_capacity(n))
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        self
    }

    /// Appends a value (a shared column is copied into its own vector first).
    pub fn push(&mut self, v: T) {
        self.to_mut().push(v);
    }

    /// The column as its own vector, copied out of the shared bytes if need be.
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let Column::Shared { .. } = self {
            *self = Column::Owned(self.as_slice().to_vec());
        }
        match self {
            Column::Owned(v) => v,
            Column::Shared { .. } => unreachable!("made owned above"),
        }
    }

    /// Bytes of this process's heap the column holds (0 when shared).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Column::Owned(v) => v.capacity() * std::mem::size_of::<T>(),
            Column::Shared { .. } => 0,
        }
    }

    /// The values as bytes (native byte order), to be written where a shared column will read
    /// them.
    pub fn raw_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self.as_slice())
    }

    /// The shared bytes this column reads, if any.
    pub fn shared(&self) -> Option<&Arc<dyn ColumnBytes>> {
        match self {
            Column::Owned(_) => None,
            Column::Shared { bytes, .. } => Some(bytes),
        }
    }
}

impl<T: bytemuck::Pod> Deref for Column<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Column::Owned(v) => v,
            Column::Shared {
                bytes, offset, len, ..
            } => {
                let end = offset + len * std::mem::size_of::<T>();
                // the layout was checked when the column was made (`FactPartition::share`)
                bytemuck::cast_slice(&bytes.bytes()[*offset..end])
            }
        }
    }
}

impl<T> Default for Column<T> {
    fn default() -> Self {
        Column::Owned(Vec::new())
    }
}

impl<T: Clone> Clone for Column<T> {
    fn clone(&self) -> Self {
        match self {
            Column::Owned(v) => Column::Owned(v.clone()),
            Column::Shared {
                bytes, offset, len, ..
            } => Column::Shared {
                bytes: bytes.clone(),
                offset: *offset,
                len: *len,
                _t: PhantomData,
            },
        }
    }
}

impl<T> From<Vec<T>> for Column<T> {
    fn from(v: Vec<T>) -> Self {
        Column::Owned(v)
    }
}

impl<T: bytemuck::Pod + fmt::Debug> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: bytemuck::Pod + PartialEq> PartialEq for Column<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: bytemuck::Pod + PartialEq> PartialEq<Vec<T>> for Column<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: bytemuck::Pod + serde::Serialize> serde::Serialize for Column<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de, T: bytemuck::Pod + serde::Deserialize<'de>> serde::Deserialize<'de> for Column<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(Column::Owned)
    }
}

impl<'a, T: bytemuck::Pod> IntoIterator for &'a Column<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}
