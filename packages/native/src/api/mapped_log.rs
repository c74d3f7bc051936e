//! Values read out of a log's mapped segments (memory the caller mapped through its
//! `Io` and hands in, as an array per call or bound once, see `BoundReads`): checked
//! against the CRC-32C in front of each value, which is seeded with the key's CRC-32C,
//! and copied out. Nothing here touches a file.

use std::cell::Cell;

use super::raw_value::RawValue;

/// Where a log's segments are found: segment `i`, when mapped, holds the log's bytes
/// from `i * segment_bytes` on (at most `segment_bytes` of them).
pub trait Segments {
  fn segment(&self, index: u32) -> Option<&[u8]>;
}

/// The segments as a JS array handed in for one call (a hole: not mapped).
impl Segments for RawValue {
  fn segment(&self, index: u32) -> Option<&[u8]> {
    self.uint8_element(index)
  }
}

/// A log's mapped segments and their size, with the segment looked up last: a batch's
/// values lie mostly in one segment, and looking one up in a JS array costs two N-API
/// calls (which were most of a range walk's value reads).
pub struct MappedLog<'a, S: Segments> {
  segments: &'a S,
  segment_bytes: u64,
  last: Cell<Option<(u32, &'a [u8])>>,
}

impl<'a, S: Segments> MappedLog<'a, S> {
  pub fn new(segments: &'a S, segment_bytes: u32) -> Self {
    MappedLog {
      segments,
      segment_bytes: segment_bytes as u64,
      last: Cell::new(None),
    }
  }

  /// Segment `index`, from the one looked up last when it is the same. The segments do
  /// not change while a `MappedLog` exists (it lives for one call).
  fn segment(&self, index: u32) -> Option<&'a [u8]> {
    if let Some((last, segment)) = self.last.get() {
      if last == index {
        return Some(segment);
      }
    }
    let segment = self.segments.segment(index)?;
    self.last.set(Some((index, segment)));
    Some(segment)
  }

  /// Copies the value at log `position` (its CRC-32C, u32 LE, then `length` bytes) into
  /// `into` when it lies in one mapped segment, fits, and matches its CRC seeded with
  /// `key_crc`; returns its length, or None (nothing promised about `into`).
  pub fn verified_copy(
    &self,
    position: u64,
    length: usize,
    key_crc: u32,
    into: &mut [u8],
  ) -> Option<usize> {
    if length > into.len() || self.segment_bytes == 0 {
      return None;
    }
    let index = u32::try_from(position / self.segment_bytes).ok()?;
    let start = (position % self.segment_bytes) as usize;
    let segment = self.segment(index)?;
    let field = segment.get(start..start.checked_add(4 + length)?)?;
    let stored = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
    let value = &field[4..];
    if ::crc32c::crc32c_append(key_crc, value) != stored {
      return None;
    }
    into[..length].copy_from_slice(value);
    Some(length)
  }
}
