//! Checkpoint entries (format version 3 of wal-kv's `.snap` files): chunks of entries in
//! key byte order, each chunk kind u8 (2) · count u32 · per entry key length u16, value
//! length u32, position u64, seq u64 (22 bytes) · then the keys of all its entries back to
//! back. Keys increase strictly across the whole checkpoint, so loading needs no
//! duplicate check and hands the ordered view over as it is: a load appends each chunk
//! to the arena and the entry array in one pass, and the buckets are filled once at the
//! end, in bucket order (the keys' tags radix-sorted), so that filling them walks memory
//! forward instead of missing the cache once per key.

use super::{hash, KeyTable, RecordLimits};
use std::ops::Bound;

const ENTRY_FIXED_BYTES: usize = 22;
const CHUNK_HEADER_BYTES: usize = 5;
const KIND_ENTRIES: u8 = 2;

/// What every entry of the checkpoint being loaded is checked against.
#[derive(Clone, Copy)]
pub struct CheckpointLoad {
  pub entry_count: usize,
  /// Entries must point at or after this log offset (past the log header) …
  pub position_min: u64,
  /// … and their value must end at or before this one (the log position covered).
  pub position_end: u64,
  pub seq_max: u64,
  pub limits: RecordLimits,
}

pub struct LoadState {
  load: CheckpointLoad,
  last: Option<u32>,
  /// `tag << 32 | slot` of every loaded key, placed into buckets by `finish_load`.
  tagged: Vec<u64>,
}

/// Sorts by the high 32 bits (the tag) with an LSD radix sort, 8 bits per pass.
fn radix_sort_by_tag(values: &mut Vec<u64>) {
  let mut scratch = vec![0u64; values.len()];
  for pass in 0..4 {
    let shift = 32 + pass * 8;
    let mut counts = [0usize; 257];
    for &value in values.iter() {
      counts[((value >> shift) & 0xff) as usize + 1] += 1;
    }
    for digit in 0..256 {
      counts[digit + 1] += counts[digit];
    }
    for &value in values.iter() {
      let digit = ((value >> shift) & 0xff) as usize;
      scratch[counts[digit]] = value;
      counts[digit] += 1;
    }
    std::mem::swap(values, &mut scratch);
  }
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
  out.extend_from_slice(&value.to_le_bytes());
}

impl KeyTable {
  /// Every entry as checkpoint chunks of about `chunk_bytes` each (at least one entry).
  pub fn checkpoint_chunks(&mut self, chunk_bytes: usize) -> Vec<Vec<u8>> {
    self.refresh_order();
    let mut chunks = Vec::new();
    let mut slots: Vec<u32> = Vec::new();
    let mut bytes = CHUNK_HEADER_BYTES;
    let mut batches: Vec<(Vec<u32>, usize)> = Vec::new();
    self.visit_range(Bound::Unbounded, Bound::Unbounded, false, |slot| {
      let entry_bytes = ENTRY_FIXED_BYTES + self.entry(slot).key_length as usize;
      if !slots.is_empty() && bytes + entry_bytes > chunk_bytes {
        batches.push((std::mem::take(&mut slots), bytes));
        bytes = CHUNK_HEADER_BYTES;
      }
      slots.push(slot);
      bytes += entry_bytes;
      true
    });
    if !slots.is_empty() {
      batches.push((slots, bytes));
    }
    for (slots, bytes) in batches {
      chunks.push(self.encode_chunk(&slots, bytes));
    }
    chunks
  }

  fn encode_chunk(&self, slots: &[u32], bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes);
    out.push(KIND_ENTRIES);
    out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
    for &slot in slots {
      let entry = self.entry(slot);
      out.extend_from_slice(&entry.key_length.to_le_bytes());
      out.extend_from_slice(&entry.value_length.to_le_bytes());
      put_u64(&mut out, entry.position);
      put_u64(&mut out, entry.seq);
    }
    for &slot in slots {
      out.extend_from_slice(self.key(slot));
    }
    debug_assert_eq!(out.len(), bytes);
    out
  }

  /// Starts loading a checkpoint into this (empty) table.
  pub fn begin_load(&mut self, load: CheckpointLoad) -> Result<(), String> {
    if self.live != 0 || !self.entries.is_empty() {
      return Err("a checkpoint loads into an empty table only".into());
    }
    self.reserve(load.entry_count);
    self.load = Some(LoadState {
      load,
      last: None,
      tagged: Vec::with_capacity(load.entry_count),
    });
    Ok(())
  }

  /// Adds the entries of one chunk, checking every field before it is used.
  pub fn load_chunk(&mut self, payload: &[u8]) -> Result<(), String> {
    let Some(mut state) = self.load.take() else {
      return Err("no checkpoint load in progress".into());
    };
    let result = self.load_entries(payload, &mut state);
    self.load = Some(state);
    result
  }

  fn load_entries(&mut self, payload: &[u8], state: &mut LoadState) -> Result<(), String> {
    let load = state.load;
    if payload.len() < CHUNK_HEADER_BYTES || payload[0] != KIND_ENTRIES {
      return Err("expected an entries frame".into());
    }
    let count = u32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]) as usize;
    let keys_start = CHUNK_HEADER_BYTES + count * ENTRY_FIXED_BYTES;
    if keys_start > payload.len() {
      return Err(format!("entries frame too short for {count} entries"));
    }
    if self.live + count > load.entry_count {
      return Err("more entries than its header counts".into());
    }
    let mut key_offset = keys_start;
    for index in 0..count {
      let at = CHUNK_HEADER_BYTES + index * ENTRY_FIXED_BYTES;
      let field = |offset: usize, width: usize| {
        let mut word = [0u8; 8];
        word[..width].copy_from_slice(&payload[at + offset..at + offset + width]);
        u64::from_le_bytes(word)
      };
      let (key_length, value_length, position, seq) =
        (field(0, 2) as usize, field(2, 4), field(6, 8), field(14, 8));
      if key_length == 0
        || key_length > load.limits.key_bytes_max
        || key_offset + key_length > payload.len()
      {
        return Err(format!("bad key length {key_length}"));
      }
      if value_length > load.limits.value_bytes_max as u64 || seq > load.seq_max {
        return Err("bad entry field".into());
      }
      if position < load.position_min
        || position
          .checked_add(4 + value_length)
          .is_none_or(|end| end > load.position_end)
      {
        return Err("entry points outside the covered log".into());
      }
      let key = &payload[key_offset..key_offset + key_length];
      if let Some(previous) = state.last {
        if self.key(previous) >= key {
          return Err("keys are not in strictly increasing order".into());
        }
      }
      key_offset += key_length;
      let slot = self.allocate(key, position, value_length as u32, seq);
      self.live += 1;
      state
        .tagged
        .push((hash::hash(self.seed, key) >> 32) << 32 | slot as u64);
      state.last = Some(slot);
    }
    if key_offset != payload.len() {
      return Err("bytes after the last key".into());
    }
    Ok(())
  }

  /// Ends a load: every counted entry must be there. The keys came in order, so the
  /// ordered view is the slots as they were filled.
  pub fn finish_load(&mut self) -> Result<(), String> {
    let Some(mut state) = self.load.take() else {
      return Err("no checkpoint load in progress".into());
    };
    if self.live != state.load.entry_count {
      return Err("incomplete".into());
    }
    radix_sort_by_tag(&mut state.tagged);
    for tagged in state.tagged {
      self.place(tagged >> 32, tagged as u32);
    }
    self.order.adopt_sorted((0..self.live as u32).collect());
    Ok(())
  }
}
