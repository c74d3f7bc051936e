//! An index from key bytes to where each key's current value lives, for wal-kv: a
//! hash table over key bytes with the keys in one arena, fixed-size entries
//! (position, value length, seq), and an ordered view for ranges that is kept lazily
//! (see `order`). Pure computation over memory: no file is touched here.
//!
//! Memory per key: one 40-byte `Entry` (holding the key itself when it is at most 16
//! bytes, which spares a get the cache miss of reading it from the arena), the bytes of
//! a longer key in the arena, and 8 bytes per bucket at a load factor between 3/8 and
//! 3/4; the ordered view, once asked for, adds 4 bytes per key.

mod checkpoint;
mod hash;
pub(crate) mod huge_pages;
mod order;
mod prefault;
mod record;
mod refresh;

pub use checkpoint::{CheckpointLoad, EntriesStop, EntrySink};
pub use record::{Captures, LiveCopyRefusal, LiveCopyTarget, RecordLimits};

/// Slot numbers are u32 and a bucket stores `slot + 1`, so at most this many entries.
pub const ENTRIES_MAX: usize = u32::MAX as usize - 1;
/// Buckets are at most 2^32 (a bucket's home is the top `bits` of the 32-bit tag).
const BUCKET_BITS_MAX: u32 = 32;
const BUCKET_BITS_MIN: u32 = 4;
/// Grow when more than 3/4 of the buckets are in use.
const LOAD_NUMERATOR: usize = 3;
const LOAD_DENOMINATOR: usize = 4;
/// The arena is compacted once garbage passes both the live key bytes and this.
const ARENA_GARBAGE_MIN: usize = 1 << 20;
/// Keys of at most this many bytes live in their entry; longer ones in the arena.
const INLINE_KEY_BYTES_MAX: usize = 16;
/// An arena offset (the first 8 bytes of an entry's key field) fits in the key field.
const _: () = assert!(INLINE_KEY_BYTES_MAX >= 8);
/// `Entry::live` bits: the slot holds a key; and the parity of the log its value is in.
const LIVE: u16 = 1;
const LOG_PARITY: u16 = 2;

/// One key's current value: `position` is the log offset of its value CRC, followed by
/// `value_length` value bytes, written with `seq`.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Entry {
  pub position: u64,
  pub seq: u64,
  /// The key when it is at most INLINE_KEY_BYTES_MAX bytes; else its offset in the
  /// arena, a u64 LE in the first 8 bytes.
  key_field: [u8; INLINE_KEY_BYTES_MAX],
  pub value_length: u32,
  key_length: u16,
  /// 0 when free; else LIVE, plus LOG_PARITY when the value is in a log of the other
  /// parity than the table's: while a compaction moves values, the log before it.
  live: u16,
}

/// The entry's size is part of the memory per key the module comment states.
const _: () = assert!(std::mem::size_of::<Entry>() == 40);

impl Entry {
  fn key_in_arena(&self) -> bool {
    self.key_length as usize > INLINE_KEY_BYTES_MAX
  }

  fn arena_offset(&self) -> usize {
    let mut word = [0u8; 8];
    word.copy_from_slice(&self.key_field[..8]);
    u64::from_le_bytes(word) as usize
  }

  /// The bytes this entry's key holds in the arena (none when it is inline).
  fn arena_bytes(&self) -> usize {
    if self.key_in_arena() {
      self.key_length as usize
    } else {
      0
    }
  }
}

/// The key field of a key kept in the arena at `offset`.
fn arena_key_field(offset: usize) -> [u8; INLINE_KEY_BYTES_MAX] {
  let mut field = [0u8; INLINE_KEY_BYTES_MAX];
  field[..8].copy_from_slice(&(offset as u64).to_le_bytes());
  field
}

pub struct KeyTable {
  /// A checkpoint load in progress. Declared first, so that a table dropped in the
  /// middle of one stops the load's prefault thread before its arrays are freed.
  load: Option<checkpoint::LoadState>,
  seed: u64,
  /// 0 = empty; else `tag << 32 | (slot + 1)`, where `tag` is the top 32 bits of the hash.
  buckets: Vec<u64>,
  bits: u32,
  live: usize,
  entries: Vec<Entry>,
  free: Vec<u32>,
  arena: Vec<u8>,
  arena_garbage: usize,
  /// Log bytes holding overwritten puts and deletes (what compaction would reclaim).
  pub dead_bytes: u64,
  order: order::Order,
  /// The LOG_PARITY bit of values in the current log (flipped by `switch_log`).
  log_parity: u16,
}

impl Default for KeyTable {
  fn default() -> Self {
    Self::new()
  }
}

impl KeyTable {
  pub fn new() -> Self {
    KeyTable {
      load: None,
      seed: hash::random_seed(),
      buckets: vec![0; 1 << BUCKET_BITS_MIN],
      bits: BUCKET_BITS_MIN,
      live: 0,
      entries: Vec::new(),
      free: Vec::new(),
      arena: Vec::new(),
      arena_garbage: 0,
      dead_bytes: 0,
      order: order::Order::default(),
      log_parity: 0,
    }
  }

  pub fn key_count(&self) -> usize {
    self.live
  }

  /// Bytes held by the table's own allocations (capacity, not length).
  pub fn memory_bytes(&self) -> usize {
    self.buckets.capacity() * 8
      + self.entries.capacity() * std::mem::size_of::<Entry>()
      + self.free.capacity() * 4
      + self.arena.capacity()
      + self.order.memory_bytes()
  }

  pub fn key(&self, slot: u32) -> &[u8] {
    let entry = &self.entries[slot as usize];
    let length = entry.key_length as usize;
    if !entry.key_in_arena() {
      return &entry.key_field[..length];
    }
    let start = entry.arena_offset();
    &self.arena[start..start + length]
  }

  /// Whether `slot` holds a key now (an ordered view may still name a removed one).
  pub fn is_live(&self, slot: u32) -> bool {
    self.entries[slot as usize].live != 0
  }

  /// Whether the ordered view exists (it may lag behind the table; see `order`).
  pub fn order_built(&self) -> bool {
    self.order.is_built()
  }

  pub fn entry(&self, slot: u32) -> &Entry {
    &self.entries[slot as usize]
  }

  /// Whether the value of `slot` is still in the log before the current one (a
  /// compaction switched logs and has not moved it yet).
  pub fn in_previous_log(&self, slot: u32) -> bool {
    self.entries[slot as usize].live & LOG_PARITY != self.log_parity
  }

  /// A compaction switched logs: every value is now in the previous log until it is
  /// written again or moved by `relocate`. Constant time.
  pub fn switch_log(&mut self) {
    self.log_parity ^= LOG_PARITY;
  }

  /// Makes room for `additional` more keys without growing on the way.
  pub fn reserve(&mut self, additional: usize) {
    let wanted = self.live.saturating_add(additional);
    self
      .entries
      .reserve(wanted.saturating_sub(self.entries.len()));
    huge_pages::advise(&self.entries);
    // Straight to the size wanted: doubling step by step would allocate, and scan, every
    // size on the way (at 10M keys, 128 MB of buckets more before a checkpoint loads).
    let mut bits = self.bits;
    while bits < BUCKET_BITS_MAX && wanted * LOAD_DENOMINATOR > (1usize << bits) * LOAD_NUMERATOR {
      bits += 1;
    }
    if bits != self.bits {
      self.rehash(bits);
    }
  }

  pub fn find(&self, key: &[u8]) -> Option<u32> {
    let found = self.probe(key, hash::hash(self.seed, key));
    found.1
  }

  /// The hash of `key` for `find_hashed`, with its home bucket asked for from memory
  /// already: a caller with other work to do before the lookup overlaps that cache
  /// miss with it.
  pub fn hash_and_prefetch(&self, key: &[u8]) -> u64 {
    let hashed = hash::hash(self.seed, key);
    prefetch(&self.buckets[self.home(hashed >> 32)]);
    hashed
  }

  /// `find` of a key whose hash `hash_and_prefetch` gave.
  pub fn find_hashed(&self, key: &[u8], hashed: u64) -> Option<u32> {
    self.probe(key, hashed).1
  }

  /// The bucket where `key` is, or the empty bucket where it would go, and its slot.
  fn probe(&self, key: &[u8], hashed: u64) -> (usize, Option<u32>) {
    let tag = hashed >> 32;
    let mask = self.buckets.len() - 1;
    let mut at = self.home(tag);
    loop {
      let bucket = self.buckets[at];
      if bucket == 0 {
        return (at, None);
      }
      if bucket >> 32 == tag {
        let slot = (bucket as u32) - 1;
        if self.key(slot) == key {
          return (at, Some(slot));
        }
      }
      at = (at + 1) & mask;
    }
  }

  fn home(&self, tag: u64) -> usize {
    (tag >> (32 - self.bits)) as usize
  }

  /// Sets the value of `key`; returns the value length it replaced, if any. (Records
  /// apply their operations through the `_hashed` forms.)
  #[cfg(test)]
  pub fn upsert(&mut self, key: &[u8], position: u64, value_length: u32, seq: u64) -> Option<u32> {
    self.upsert_hashed(key, self.hash_of(key), position, value_length, seq)
  }

  /// The table's hash of `key`, for the `_hashed` operations.
  pub fn hash_of(&self, key: &[u8]) -> u64 {
    hash::hash(self.seed, key)
  }

  /// Asks for the entry that the home bucket of a key hashed to `hashed` names, when
  /// its tag matches (the key's entry, most likely), without waiting for it. Call it
  /// once that bucket has arrived (`hash_and_prefetch` asked for it some time before).
  pub fn prefetch_entry(&self, hashed: u64) {
    let bucket = self.buckets[self.home(hashed >> 32)];
    if bucket != 0 && bucket >> 32 == hashed >> 32 {
      prefetch(&self.entries[(bucket as u32 - 1) as usize]);
    }
  }

  /// `upsert` of a key whose hash `hash_of` gave.
  pub fn upsert_hashed(
    &mut self,
    key: &[u8],
    hashed: u64,
    position: u64,
    value_length: u32,
    seq: u64,
  ) -> Option<u32> {
    let (at, found) = self.probe(key, hashed);
    if let Some(slot) = found {
      let entry = &mut self.entries[slot as usize];
      let previous = entry.value_length;
      entry.live = LIVE | self.log_parity;
      entry.position = position;
      entry.value_length = value_length;
      entry.seq = seq;
      return Some(previous);
    }
    let slot = self.allocate(key, position, value_length, seq);
    self.buckets[at] = (hashed >> 32) << 32 | (slot as u64 + 1);
    self.live += 1;
    if let Some(dead) = self.order.inserted(slot) {
      self.release(&dead);
    }
    if self.live * LOAD_DENOMINATOR > self.buckets.len() * LOAD_NUMERATOR
      && self.bits < BUCKET_BITS_MAX
    {
      self.rehash(self.bits + 1);
    }
    None
  }

  /// Removes `key`; returns its value length if it was there.
  #[cfg(test)]
  pub fn remove(&mut self, key: &[u8]) -> Option<u32> {
    self.remove_hashed(key, self.hash_of(key))
  }

  /// `remove` of a key whose hash `hash_of` gave.
  pub fn remove_hashed(&mut self, key: &[u8], hashed: u64) -> Option<u32> {
    let (at, found) = self.probe(key, hashed);
    let slot = found?;
    self.unlink_bucket(at);
    self.live -= 1;
    let entry = &mut self.entries[slot as usize];
    entry.live = 0;
    let removed = entry.value_length;
    // While an ordered view exists, its array still names this slot: the slot is freed
    // when the view drops it (see order.rs), never reused before.
    match self.order.removed(slot, self.live) {
      order::Released::Now => self.release(&[slot]),
      order::Released::Later => {}
      order::Released::All(slots) => self.release(&slots),
    }
    Some(removed)
  }

  fn release(&mut self, slots: &[u32]) {
    for &slot in slots {
      self.arena_garbage += self.entries[slot as usize].arena_bytes();
      self.free.push(slot);
    }
    self.maybe_compact_arena();
  }

  /// Backward-shift deletion: no tombstones, probe sequences stay short.
  fn unlink_bucket(&mut self, mut hole: usize) {
    let mask = self.buckets.len() - 1;
    let mut at = (hole + 1) & mask;
    loop {
      let bucket = self.buckets[at];
      if bucket == 0 {
        break;
      }
      let home = self.home(bucket >> 32);
      // The entry may move into the hole when its home is not inside (hole, at].
      if (at.wrapping_sub(home) & mask) >= (at.wrapping_sub(hole) & mask) {
        self.buckets[hole] = bucket;
        hole = at;
      }
      at = (at + 1) & mask;
    }
    self.buckets[hole] = 0;
  }

  fn allocate(&mut self, key: &[u8], position: u64, value_length: u32, seq: u64) -> u32 {
    let key_field = self.store_key(key);
    let entry = Entry {
      position,
      seq,
      key_field,
      value_length,
      key_length: key.len() as u16,
      live: LIVE | self.log_parity,
    };
    if let Some(slot) = self.reusable_free_slot() {
      self.free.pop();
      self.entries[slot as usize] = entry;
      return slot;
    }
    assert!(self.entries.len() < ENTRIES_MAX, "key table full");
    let capacity = self.entries.capacity();
    self.entries.push(entry);
    if self.entries.capacity() != capacity {
      huge_pages::advise(&self.entries);
    }
    (self.entries.len() - 1) as u32
  }

  /// The key field of a new entry for `key`: the key itself when short enough; else the
  /// offset where it is appended to the arena, or of the arena bytes of the freed slot
  /// about to be reused when the key fits there (fixed-size keys then never make garbage).
  fn store_key(&mut self, key: &[u8]) -> [u8; INLINE_KEY_BYTES_MAX] {
    if key.len() <= INLINE_KEY_BYTES_MAX {
      let mut field = [0u8; INLINE_KEY_BYTES_MAX];
      field[..key.len()].copy_from_slice(key);
      return field;
    }
    if let Some(slot) = self.reusable_free_slot() {
      let old = self.entries[slot as usize];
      if key.len() <= old.arena_bytes() {
        let start = old.arena_offset();
        self.arena[start..start + key.len()].copy_from_slice(key);
        self.arena_garbage -= key.len();
        return old.key_field;
      }
    }
    let offset = self.arena.len();
    self.arena.extend_from_slice(key);
    arena_key_field(offset)
  }

  /// The freed slot the next new key takes, unless a first build of the ordered view is
  /// walking the slots (see `refresh`): then new keys take new slots.
  fn reusable_free_slot(&self) -> Option<u32> {
    if self
      .order
      .refresh
      .as_ref()
      .is_some_and(|refresh| refresh.walks_slots())
    {
      return None;
    }
    self.free.last().copied()
  }

  fn place(&mut self, tag: u64, slot: u32) {
    let mask = self.buckets.len() - 1;
    let mut at = self.home(tag);
    while self.buckets[at] != 0 {
      at = (at + 1) & mask;
    }
    self.buckets[at] = tag << 32 | (slot as u64 + 1);
  }

  fn rehash(&mut self, bits: u32) {
    let old = std::mem::replace(&mut self.buckets, vec![0; 1 << bits]);
    huge_pages::advise(&self.buckets);
    self.bits = bits;
    for bucket in old {
      if bucket != 0 {
        self.place(bucket >> 32, (bucket as u32) - 1);
      }
    }
  }

  /// Rewrites the arena with only the keys of slots in use, once garbage dominates.
  fn maybe_compact_arena(&mut self) {
    if self.arena_garbage < ARENA_GARBAGE_MIN || self.arena_garbage < self.arena.len() / 2 {
      return;
    }
    let mut arena = Vec::with_capacity(self.arena.len() - self.arena_garbage);
    for entry in self.entries.iter_mut() {
      // Freed slots and slots an ordered view still names (removed, not yet released)
      // need no key any more.
      if entry.live == 0 {
        entry.key_length = 0;
        entry.key_field = [0; INLINE_KEY_BYTES_MAX];
        continue;
      }
      if !entry.key_in_arena() {
        continue;
      }
      let start = entry.arena_offset();
      let end = start + entry.key_length as usize;
      entry.key_field = arena_key_field(arena.len());
      arena.extend_from_slice(&self.arena[start..end]);
    }
    self.arena = arena;
    self.arena_garbage = 0;
  }

  /// Moves a key's value from the previous log to the current one (compaction): same
  /// key, same seq, new place, but only while `slot` still holds the value at `from` of
  /// the previous log. A key written since (its value now elsewhere), or removed (its
  /// slot free or reused), is left as it is: a position of a log holds one value only.
  pub fn relocate(&mut self, slot: u32, from: u64, to: u64) -> bool {
    let current = LIVE | self.log_parity;
    match self.entries.get_mut(slot as usize) {
      Some(entry) if entry.live != 0 && entry.live != current && entry.position == from => {
        entry.position = to;
        entry.live = current;
        true
      }
      _ => false,
    }
  }
}

/// Asks for the cache line of `item` without waiting for it.
fn prefetch<T>(item: &T) {
  #[cfg(target_arch = "x86_64")]
  // SAFETY: a prefetch is a hint; it reads nothing and cannot fault.
  unsafe {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    _mm_prefetch::<_MM_HINT_T0>(item as *const T as *const i8);
  }
}

/// Log bytes one operation takes: header (type, key length, value length, seq), key,
/// and for a put the value CRC and the value.
pub fn operation_bytes(key_length: usize, value_length: Option<u32>) -> u64 {
  15 + key_length as u64 + value_length.map_or(0, |length| 4 + length as u64)
}

#[cfg(test)]
mod tests;
