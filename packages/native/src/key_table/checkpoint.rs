//! Checkpoint entries (format version 3 of wal-kv's `.snap` files): chunks of entries in
//! key byte order, each chunk kind u8 (2) · count u32 · per entry key length u16, value
//! length u32, position u64, seq u64 (22 bytes) · then the keys of all its entries back to
//! back. Keys increase strictly across the whole checkpoint, so loading needs no
//! duplicate check and hands the ordered view over as it is: a load appends each chunk
//! to the entry array and its longer keys to the arena (both sized once, up front, from the counts and the
//! file's size) in one pass, and the buckets are filled once at the end, in bucket order
//! (the keys' tags radix-sorted by their top bits), so that filling them walks memory
//! forward instead of missing the cache once per key.
//! Every array the load fills is allocated up front, and a second thread faults it in a
//! little ahead of the load (see `prefault`).

use super::prefault::{Prefault, Region};
use super::{hash, huge_pages, Entry, KeyTable, RecordLimits, INLINE_KEY_BYTES_MAX};
use std::ops::Bound;

const ENTRY_FIXED_BYTES: usize = 22;
const CHUNK_HEADER_BYTES: usize = 5;
const KIND_ENTRIES: u8 = 2;

/// What every entry of the checkpoint being loaded is checked against.
#[derive(Clone, Copy)]
pub struct CheckpointLoad {
  pub entry_count: usize,
  /// Bytes of the checkpoint file: every entry takes at least ENTRY_FIXED_BYTES plus a key
  /// byte of it, which bounds what the counts may make the load reserve.
  pub file_bytes: u64,
  /// Entries must point at or after this log offset (past the log header) …
  pub position_min: u64,
  /// … and their value must end at or before this one (the log position covered).
  pub position_end: u64,
  pub seq_max: u64,
  pub limits: RecordLimits,
}

pub struct LoadState {
  /// Faults in the arrays below and the table's (see `prefault`). Declared first, so
  /// that it is stopped before any of them is freed.
  prefault: Option<Prefault>,
  load: CheckpointLoad,
  last: Option<u32>,
  /// `tag << 32 | slot` of every loaded key, placed into buckets by `finish_load`.
  tagged: Vec<u64>,
  /// The radix sort's other array, as long as `tagged` will be.
  scratch: Vec<u64>,
  /// The ordered view to be: room for every slot.
  sorted: Vec<u32>,
}

/// Bits of the tag the buckets are sorted by before they are filled: a bucket's home is
/// the top bits of its tag, so with the top 16 in order each fill lands within a couple
/// of hundred buckets of the last one (one cache line or a few), and two counting passes
/// of 8 bits do instead of four.
const SORTED_TAG_BITS_MAX: u32 = 16;

/// Sorts by the top `bits` bits of the tag (the high 32 bits of each value), in at most
/// SORTED_TAG_BITS_MAX, with an LSD radix sort of 8 bits per pass.
/// `scratch` holds as many values.
fn radix_sort_by_tag(values: &mut Vec<u64>, scratch: &mut Vec<u64>, bits: u32) {
  debug_assert_eq!(values.len(), scratch.len());
  let passes = bits.min(SORTED_TAG_BITS_MAX).div_ceil(8);
  for pass in 0..passes {
    let shift = 64 - 8 * (passes - pass);
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
    std::mem::swap(values, scratch);
  }
}

/// An entry's fixed fields in a chunk: key length u16, value length u32, position u64, seq u64.
fn fixed_fields(entry: &Entry) -> [u8; ENTRY_FIXED_BYTES] {
  let mut fields = [0u8; ENTRY_FIXED_BYTES];
  fields[0..2].copy_from_slice(&entry.key_length.to_le_bytes());
  fields[2..6].copy_from_slice(&entry.value_length.to_le_bytes());
  fields[6..14].copy_from_slice(&entry.position.to_le_bytes());
  fields[14..22].copy_from_slice(&entry.seq.to_le_bytes());
  fields
}

/// Where `checkpoint_entries` writes one chunk's entries: their fixed fields into
/// `fixed` and their keys into `keys`, from the start of each, using at most `room` bytes
/// of the two together and visiting at most `visits` slots of the ordered view.
pub struct EntrySink<'a> {
  pub fixed: &'a mut [u8],
  pub keys: &'a mut [u8],
  pub room: usize,
  pub visits: usize,
}

/// Why `checkpoint_entries` stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EntriesStop {
  /// Every entry below the upper bound is written.
  ReachedBound,
  /// The next entry does not fit in the room left.
  Full,
  /// The visits were used up first.
  Budget,
}

pub struct EntriesWritten {
  pub count: usize,
  pub key_bytes: usize,
  pub stop: EntriesStop,
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

  /// The entries of a checkpoint taken at `seq_max` whose keys lie strictly between
  /// `after` and `before` (None: unbounded), in key order, in checkpoint chunk encoding
  /// (see the module): the live entries written at or before `seq_max`. A key written
  /// since, or removed, is left out: the caller's read view holds its entry as of then.
  /// Walks the ordered view as it stands (the caller brought it up to date after the
  /// seq was taken, so it holds every key written by then).
  pub fn checkpoint_entries(
    &self,
    after: Option<&[u8]>,
    before: Option<&[u8]>,
    seq_max: u64,
    sink: EntrySink,
  ) -> EntriesWritten {
    let mut written = EntriesWritten {
      count: 0,
      key_bytes: 0,
      stop: EntriesStop::ReachedBound,
    };
    let (mut used, mut visits) = (0usize, 0usize);
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let upper = before.map_or(Bound::Unbounded, Bound::Excluded);
    self.visit_range(lower, upper, false, |slot| {
      if visits == sink.visits {
        written.stop = EntriesStop::Budget;
        return false;
      }
      visits += 1;
      // Only an ordered view not brought up to date since still names a removed key.
      if !self.is_live(slot) || self.entry(slot).seq > seq_max {
        return true;
      }
      let key = self.key(slot);
      let fixed_at = written.count * ENTRY_FIXED_BYTES;
      if used + ENTRY_FIXED_BYTES + key.len() > sink.room
        || fixed_at + ENTRY_FIXED_BYTES > sink.fixed.len()
        || written.key_bytes + key.len() > sink.keys.len()
      {
        written.stop = EntriesStop::Full;
        return false;
      }
      sink.fixed[fixed_at..fixed_at + ENTRY_FIXED_BYTES]
        .copy_from_slice(&fixed_fields(self.entry(slot)));
      sink.keys[written.key_bytes..written.key_bytes + key.len()].copy_from_slice(key);
      written.key_bytes += key.len();
      written.count += 1;
      used += ENTRY_FIXED_BYTES + key.len();
      true
    });
    written
  }

  fn encode_chunk(&self, slots: &[u32], bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes);
    out.push(KIND_ENTRIES);
    out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
    for &slot in slots {
      out.extend_from_slice(&fixed_fields(self.entry(slot)));
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
    let fixed_bytes = (load.entry_count as u64).saturating_mul(ENTRY_FIXED_BYTES as u64);
    if fixed_bytes.saturating_add(load.entry_count as u64) > load.file_bytes {
      return Err(format!(
        "counts {} entries, more than its {} bytes can hold",
        load.entry_count, load.file_bytes
      ));
    }
    self.reserve(load.entry_count);
    // The keys are the file's bytes less the entries' fixed fields (and a few frame
    // headers): growing the arena by doubling instead would copy it over and over. Keys
    // this short on average may all live in their entries, and need no arena at all.
    let key_bytes = load.file_bytes - fixed_bytes;
    if key_bytes > (load.entry_count as u64).saturating_mul(INLINE_KEY_BYTES_MAX as u64) {
      self.arena.reserve(key_bytes as usize);
    }
    let tagged = huge_pages::with_capacity(load.entry_count);
    let scratch = huge_pages::zeroed_u64(load.entry_count);
    let sorted = huge_pages::with_capacity(load.entry_count);
    // In the order the load first touches them: the arrays that chunks fill, at the
    // pace they fill them; then the buckets, the sort's scratch and the ordered view.
    let prefault = Prefault::start(vec![
      vec![
        Region::spare_of(&self.entries),
        Region::spare_of(&tagged),
        Region::spare_of(&self.arena),
      ],
      vec![Region::all_of(&self.buckets)],
      vec![Region::all_of(&scratch)],
      vec![Region::spare_of(&sorted)],
    ]);
    self.load = Some(LoadState {
      prefault,
      load,
      last: None,
      tagged,
      scratch,
      sorted,
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
    radix_sort_by_tag(&mut state.tagged, &mut state.scratch, self.bits);
    for &tagged in &state.tagged {
      self.place(tagged >> 32, tagged as u32);
    }
    let mut sorted = std::mem::take(&mut state.sorted);
    sorted.extend(0..self.live as u32);
    // Stopped (if it is not done) before the arrays it works on are freed or handed on.
    drop(state.prefault.take());
    drop(state);
    self.order.adopt_sorted(sorted);
    release_freed_heap();
    Ok(())
  }
}

/// Hands the heap the load just freed (its tag arrays, 16 bytes a key) back to the
/// system. glibc raises its mmap threshold after freeing a large mapped block, so such
/// arrays come from the heap and stay resident once freed: at 1M keys that was 11 MB
/// of a store's resident memory for as long as it stayed open.
fn release_freed_heap() {
  #[cfg(all(target_os = "linux", target_env = "gnu"))]
  // SAFETY: malloc_trim only returns free heap pages to the kernel.
  unsafe {
    libc::malloc_trim(0);
  }
}
