//! wal-kv log records, applied to the table in one call per record: the write path
//! seals a record the caller encoded (value CRCs and the frame CRC) and applies it, in
//! one call or in two (so that the caller can apply it while the log is synced); replay validates a record read back (its frame CRC already checked) and applies it.
//!
//! Record payload (log format version 3): count u32, place u32, then per operation type
//! u8 (1 put, 2 delete), key length u16, value length u32, seq u64, key, and for a put
//! the value CRC-32C u32 (of the key, then the value) and the value. Integers
//! little-endian. `place` is the CRC-32C of the frame's log offset (u64) and the log's
//! generation (u32): the frame CRC covers it, so a whole frame the disk wrote at another
//! offset, or a frame copied from another generation, fails replay. The frame around it:
//! magic u32 BE, payload length u32 LE, payload, CRC-32C u32 LE over all that precedes it.

use super::{operation_bytes, KeyTable};
use std::collections::HashMap;

const OPERATION_PUT: u8 = 1;
const OPERATION_DELETE: u8 = 2;
/// Count u32 and place u32.
const RECORD_HEADER_BYTES: usize = 8;
const PLACE_AT: usize = 4;
const OPERATION_HEADER_BYTES: usize = 15;
const VALUE_CRC_BYTES: usize = 4;
const FRAME_HEADER_BYTES: usize = 8;
const FRAME_TRAILER_BYTES: usize = 4;
/// Seqs are JS numbers: safe integers.
const SEQ_MAX: u64 = (1 << 53) - 1;

/// How many operations ahead `apply_all` asks for buckets from memory.
const PREFETCH_AHEAD: usize = 8;
/// Fields per captured entry: where its key is (`key_base` + its offset in the
/// payload), then as `find` reports an entry (position, value length, seq, key CRC-32C,
/// key length, in the previous log).
pub const CAPTURE_FIELDS: usize = 7;

/// Where `commit_record` reports the entries a record replaces or removes that read
/// views opened at or before `seq_max` still see (0: no view is open, nothing reported).
pub struct Captures<'a> {
  pub seq_max: u64,
  /// Added to a key's offset in the payload: where the caller finds the payload.
  pub key_base: usize,
  pub out: &'a mut [f64],
  pub count: usize,
}

/// Bounds every length read from a record is checked against before it is used.
#[derive(Clone, Copy)]
pub struct RecordLimits {
  pub key_bytes_max: usize,
  pub value_bytes_max: u32,
}

/// One operation of a record; offsets are into the payload.
#[derive(Clone, Copy)]
struct Operation {
  kind: u8,
  key_start: usize,
  key_end: usize,
  value_length: u32,
  seq: u64,
}

impl Operation {
  /// Offset of the value CRC (a put's value follows it).
  fn crc_at(&self) -> usize {
    self.key_end
  }

  fn key<'a>(&self, payload: &'a [u8]) -> &'a [u8] {
    &payload[self.key_start..self.key_end]
  }
}

/// Looks a record's keys up ahead of their turn. A batch's keys are random places in a
/// table far larger than the caches, so each would wait for its bucket (and, for a key
/// present, its entry) from memory: both are asked for a few operations ahead, and the
/// waits overlap the work on the operations between.
struct Lookahead<'a> {
  payload: &'a [u8],
  operations: &'a [Operation],
  hashes: [u64; PREFETCH_AHEAD],
}

impl<'a> Lookahead<'a> {
  fn new(table: &KeyTable, payload: &'a [u8], operations: &'a [Operation]) -> Self {
    let mut hashes = [0u64; PREFETCH_AHEAD];
    for (operation, hashed) in operations.iter().zip(hashes.iter_mut()) {
      *hashed = table.hash_and_prefetch(operation.key(payload));
    }
    Lookahead {
      payload,
      operations,
      hashes,
    }
  }

  /// The hash of operation `index`'s key (asked for in order), once the bucket of the key
  /// `PREFETCH_AHEAD` on and the entry of the one half-way there are asked for.
  fn hash(&mut self, table: &KeyTable, index: usize) -> u64 {
    let hashed = self.hashes[index % PREFETCH_AHEAD];
    let ahead = index + PREFETCH_AHEAD;
    if let Some(operation) = self.operations.get(ahead) {
      self.hashes[ahead % PREFETCH_AHEAD] = table.hash_and_prefetch(operation.key(self.payload));
    }
    // Half-way there, the bucket has arrived: ask for the entry it names, if any.
    let halfway = index + PREFETCH_AHEAD / 2;
    if halfway < self.operations.len() {
      table.prefetch_entry(self.hashes[halfway % PREFETCH_AHEAD]);
    }
    hashed
  }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
  u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
  u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// What a record frame at `frame_offset` of log generation `generation` carries as its place.
pub fn place_of(frame_offset: u64, generation: u32) -> u32 {
  let mut bytes = [0u8; 12];
  bytes[..8].copy_from_slice(&frame_offset.to_le_bytes());
  bytes[8..].copy_from_slice(&generation.to_le_bytes());
  crc32c::crc32c(&bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
  let mut word = [0u8; 8];
  word.copy_from_slice(&bytes[at..at + 8]);
  u64::from_le_bytes(word)
}

/// Walks the operations of `payload`, checking every field before it is used; calls
/// `visit` for each. Errors say what is wrong, as "record … <reason>" would read.
fn parse(
  payload: &[u8],
  limits: RecordLimits,
  mut visit: impl FnMut(&Operation) -> Result<(), String>,
) -> Result<(), String> {
  if payload.len() < RECORD_HEADER_BYTES {
    return Err("is shorter than its header".into());
  }
  let count = u32_at(payload, 0);
  let mut offset = RECORD_HEADER_BYTES;
  for index in 0..count {
    if offset + OPERATION_HEADER_BYTES > payload.len() {
      return Err(format!("ends inside operation {index}"));
    }
    let kind = payload[offset];
    let key_length = u16_at(payload, offset + 1) as usize;
    let value_length = u32_at(payload, offset + 3);
    let seq = u64_at(payload, offset + 7);
    if kind != OPERATION_PUT && kind != OPERATION_DELETE {
      return Err(format!("has unknown operation type {kind}"));
    }
    if key_length == 0 || key_length > limits.key_bytes_max {
      return Err(format!("has a key length of {key_length}"));
    }
    if value_length > limits.value_bytes_max || (kind == OPERATION_DELETE && value_length != 0) {
      return Err(format!("has a value length of {value_length}"));
    }
    if seq > SEQ_MAX {
      return Err("has a seq beyond 2^53".into());
    }
    let key_start = offset + OPERATION_HEADER_BYTES;
    let key_end = key_start + key_length;
    let end = key_end
      + if kind == OPERATION_PUT {
        VALUE_CRC_BYTES + value_length as usize
      } else {
        0
      };
    if end > payload.len() {
      return Err(format!("operation {index} runs past the record"));
    }
    visit(&Operation {
      kind,
      key_start,
      key_end,
      value_length,
      seq,
    })?;
    offset = end;
  }
  if offset != payload.len() {
    return Err(format!(
      "has {} bytes after its last operation",
      payload.len() - offset
    ));
  }
  Ok(())
}

impl KeyTable {
  fn apply(&mut self, payload: &[u8], payload_offset: u64, operation: &Operation) {
    let key = &payload[operation.key_start..operation.key_end];
    self.apply_hashed(payload, payload_offset, operation, self.hash_of(key));
  }

  fn apply_hashed(
    &mut self,
    payload: &[u8],
    payload_offset: u64,
    operation: &Operation,
    hashed: u64,
  ) {
    let key = &payload[operation.key_start..operation.key_end];
    if operation.kind == OPERATION_PUT {
      let position = payload_offset + operation.crc_at() as u64;
      if let Some(previous) =
        self.upsert_hashed(key, hashed, position, operation.value_length, operation.seq)
      {
        self.dead_bytes += operation_bytes(key.len(), Some(previous));
      }
    } else {
      if let Some(previous) = self.remove_hashed(key, hashed) {
        self.dead_bytes += operation_bytes(key.len(), Some(previous));
      }
      // The delete record itself is garbage for compaction, which writes live puts only.
      self.dead_bytes += operation_bytes(key.len(), None);
    }
  }

  /// Applies the operations of a sealed record in order, their keys looked up ahead
  /// (`Lookahead`). With read views open (`captures.seq_max` > 0), the entry each
  /// operation replaces or removes is reported first when it was written at or before
  /// that seq.
  fn apply_all(
    &mut self,
    payload: &[u8],
    payload_offset: u64,
    operations: &[Operation],
    captures: &mut Captures,
  ) {
    let mut lookahead = Lookahead::new(self, payload, operations);
    for (index, operation) in operations.iter().enumerate() {
      let hashed = lookahead.hash(self, index);
      if captures.seq_max > 0 {
        self.capture(
          operation.key(payload),
          hashed,
          operation.key_start,
          captures,
        );
      }
      self.apply_hashed(payload, payload_offset, operation, hashed);
    }
  }

  fn capture(&self, key: &[u8], hashed: u64, key_start: usize, captures: &mut Captures) {
    let Some(slot) = self.find_hashed(key, hashed) else {
      return;
    };
    let entry = self.entry(slot);
    if entry.seq > captures.seq_max {
      return;
    }
    let at = captures.count * CAPTURE_FIELDS;
    captures.out[at] = (captures.key_base + key_start) as f64;
    captures.out[at + 1..at + CAPTURE_FIELDS].copy_from_slice(&[
      entry.position as f64,
      entry.value_length as f64,
      entry.seq as f64,
      crc32c::crc32c(key) as f64,
      key.len() as f64,
      if self.in_previous_log(slot) { 1.0 } else { 0.0 },
    ]);
    captures.count += 1;
  }

  /// Replays one record whose frame CRC checked out; its payload starts at log offset
  /// `payload_offset` of log generation `generation`; its place must be that one. Seqs
  /// must increase strictly from `previous_seq`. Returns the last seq. On an error the
  /// table is half-updated: the caller discards it.
  pub fn replay_record(
    &mut self,
    payload: &[u8],
    payload_offset: u64,
    generation: u32,
    previous_seq: u64,
    limits: RecordLimits,
  ) -> Result<u64, String> {
    let frame_offset = payload_offset.wrapping_sub(FRAME_HEADER_BYTES as u64);
    if payload.len() >= RECORD_HEADER_BYTES
      && u32_at(payload, PLACE_AT) != place_of(frame_offset, generation)
    {
      return Err(format!(
        "was not written at offset {frame_offset} of log generation {generation} (a misplaced or copied frame)"
      ));
    }
    let mut last = previous_seq;
    parse(payload, limits, |operation| {
      if operation.seq <= last {
        return Err(format!("has seq {} after {}", operation.seq, last));
      }
      last = operation.seq;
      self.apply(payload, payload_offset, operation);
      Ok(())
    })?;
    Ok(last)
  }

  /// The key count after `operations` were applied in order, without applying them.
  fn count_after(&self, payload: &[u8], operations: &[Operation]) -> usize {
    let mut count = self.live;
    let mut touched: HashMap<&[u8], bool> = HashMap::with_capacity(operations.len());
    for operation in operations {
      let key = &payload[operation.key_start..operation.key_end];
      let present = touched
        .get(key)
        .copied()
        .unwrap_or_else(|| self.find(key).is_some());
      let put = operation.kind == OPERATION_PUT;
      if put && !present {
        count += 1;
      } else if !put && present {
        count -= 1;
      }
      touched.insert(key, put);
    }
    count
  }

  /// The write path in one call: `seal_record`, then `apply_sealed_record` (the record
  /// is parsed once for both). Returns whether it sealed and applied the record.
  pub fn commit_record(
    &mut self,
    frame: &mut [u8],
    frame_offset: u64,
    generation: u32,
    keys_max: usize,
    limits: RecordLimits,
    captures: &mut Captures,
  ) -> Result<bool, String> {
    let operations = parse_frame(frame, limits)?;
    if captures.seq_max > 0 && captures.out.len() < CAPTURE_FIELDS * operations.len() {
      return Err("captured holds fewer than 7 fields per operation".into());
    }
    if !self.seal_operations(frame, &operations, frame_offset, generation, keys_max) {
      return Ok(false);
    }
    self.apply_frame(frame, frame_offset, &operations, captures);
    Ok(true)
  }

  /// The first half of the write path: `frame` holds one record frame the caller encoded
  /// at log offset `frame_offset` of log generation `generation`, with the place, value
  /// CRC and frame CRC slots still to fill. Unless the record would leave more than
  /// `keys_max` keys (and more than now), fills them in, leaving the table as it is;
  /// returns whether it did. The caller's encoding is checked like a record read back.
  /// The key count is checked against the table as it is now: a record sealed earlier
  /// must be applied (`apply_sealed_record`) before the next is sealed.
  pub fn seal_record(
    &self,
    frame: &mut [u8],
    frame_offset: u64,
    generation: u32,
    keys_max: usize,
    limits: RecordLimits,
  ) -> Result<bool, String> {
    let operations = parse_frame(frame, limits)?;
    Ok(self.seal_operations(frame, &operations, frame_offset, generation, keys_max))
  }

  /// The second half of the write path: applies the record `seal_record` sealed in
  /// `frame` at `frame_offset`, whose bytes have not changed since. Parsed again (every
  /// field bounded) rather than trusted; its CRCs are not checked again, they are ours.
  pub fn apply_sealed_record(
    &mut self,
    frame: &[u8],
    frame_offset: u64,
    limits: RecordLimits,
    captures: &mut Captures,
  ) -> Result<(), String> {
    let operations = parse_frame(frame, limits)?;
    if captures.seq_max > 0 && captures.out.len() < CAPTURE_FIELDS * operations.len() {
      return Err("captured holds fewer than 7 fields per operation".into());
    }
    self.apply_frame(frame, frame_offset, &operations, captures);
    Ok(())
  }

  /// Fills in the place, value CRCs and frame CRC of a parsed frame, unless the record
  /// would leave more than `keys_max` keys and more than now; returns whether it did.
  fn seal_operations(
    &self,
    frame: &mut [u8],
    operations: &[Operation],
    frame_offset: u64,
    generation: u32,
    keys_max: usize,
  ) -> bool {
    let payload_end = frame.len() - FRAME_TRAILER_BYTES;
    let puts = operations
      .iter()
      .filter(|operation| operation.kind == OPERATION_PUT)
      .count();
    if self.live + puts > keys_max {
      let after = self.count_after(&frame[FRAME_HEADER_BYTES..payload_end], operations);
      if after > keys_max && after > self.live {
        return false;
      }
    }
    let payload = &mut frame[FRAME_HEADER_BYTES..payload_end];
    for operation in operations
      .iter()
      .filter(|operation| operation.kind == OPERATION_PUT)
    {
      let value_start = operation.crc_at() + VALUE_CRC_BYTES;
      let key_crc = crc32c::crc32c(&payload[operation.key_start..operation.key_end]);
      let crc = crc32c::crc32c_append(
        key_crc,
        &payload[value_start..value_start + operation.value_length as usize],
      );
      payload[operation.crc_at()..value_start].copy_from_slice(&crc.to_le_bytes());
    }
    let place = place_of(frame_offset, generation).to_le_bytes();
    payload[PLACE_AT..RECORD_HEADER_BYTES].copy_from_slice(&place);
    let frame_crc = crc32c::crc32c(&frame[..payload_end]);
    frame[payload_end..].copy_from_slice(&frame_crc.to_le_bytes());
    true
  }

  fn apply_frame(
    &mut self,
    frame: &[u8],
    frame_offset: u64,
    operations: &[Operation],
    captures: &mut Captures,
  ) {
    let payload = &frame[FRAME_HEADER_BYTES..frame.len() - FRAME_TRAILER_BYTES];
    let payload_offset = frame_offset + FRAME_HEADER_BYTES as u64;
    self.apply_all(payload, payload_offset, operations, captures);
  }
}

/// Fields `live_puts` reports per live put: where the operation starts in the payload,
/// where its key ends (its value CRC starts), where it ends, and its key's slot.
pub const LIVE_PUT_FIELDS: usize = 4;

/// Where `copy_live_puts` writes: the bytes of the copied puts, back to back, into
/// `target` from `target_at` on (`target[0]` is at log position `target_position` of
/// the new log), and per copied put a move from `moves_at` on: its key's slot, where its
/// value CRC was in the old log and where it is in the new one.
pub struct LiveCopyTarget<'a> {
  pub target: &'a mut [u8],
  pub target_at: usize,
  pub target_position: u64,
  pub slots: &'a mut [u32],
  pub from: &'a mut [f64],
  pub to: &'a mut [f64],
  pub moves_at: usize,
}

/// What one `copy_live_puts` call did: the record's puts `[first, next)` were looked at
/// (of `puts` in all); `copied` of them, `bytes` in all, were live and copied.
#[derive(Debug, PartialEq, Eq)]
pub struct LiveCopy {
  pub puts: usize,
  pub next: usize,
  pub copied: usize,
  pub bytes: usize,
}

/// Why `copy_live_puts` changed nothing: the record read back does not check out (damage
/// on disk: the caller reports it as such), or the call itself was wrong (the caller's
/// bug, never to be taken for damage).
#[derive(Debug, PartialEq, Eq)]
pub enum LiveCopyRefusal {
  Damaged(String),
  Call(String),
}

impl KeyTable {
  /// Which puts of a record read back for compaction (its frame CRC checked, its payload
  /// at log offset `payload_offset`) still hold their key's value: the entry of the key
  /// names this put's place. Writes `LIVE_PUT_FIELDS` per such put, in log order, into
  /// `out` and returns how many. Every field is bounded as at replay. One call per record
  /// instead of a lookup per put from JavaScript, the keys looked up ahead (`Lookahead`).
  pub fn live_puts(
    &self,
    payload: &[u8],
    payload_offset: u64,
    limits: RecordLimits,
    out: &mut [u32],
  ) -> Result<usize, String> {
    let puts = record_puts(payload, limits)?;
    if out.len() < LIVE_PUT_FIELDS * puts.len() {
      return Err(format!(
        "out holds fewer than {LIVE_PUT_FIELDS} fields per put ({} puts)",
        puts.len()
      ));
    }
    let mut count = 0;
    self.each_live_put(payload, payload_offset, &puts, |put, slot| {
      let end = put.crc_at() + VALUE_CRC_BYTES + put.value_length as usize;
      // Offsets inside a payload of at most 2^28 bytes fit in u32.
      out[count * LIVE_PUT_FIELDS..(count + 1) * LIVE_PUT_FIELDS].copy_from_slice(&[
        (put.key_start - OPERATION_HEADER_BYTES) as u32,
        put.crc_at() as u32,
        end as u32,
        slot,
      ]);
      count += 1;
    });
    Ok(count)
  }

  /// Compaction's copy of a record read back (as for `live_puts`): looks at its puts from
  /// the `first`th on, at most `puts_max` of them, and copies each that still holds its
  /// key's value, as it is, into `into` (see `LiveCopyTarget`). The caller bounds a call's
  /// work by `puts_max` and calls again from `next` until it reaches `puts`. Nothing is
  /// written unless every copied put and move fits.
  pub fn copy_live_puts(
    &self,
    payload: &[u8],
    payload_offset: u64,
    limits: RecordLimits,
    first: usize,
    puts_max: usize,
    into: LiveCopyTarget,
  ) -> Result<LiveCopy, LiveCopyRefusal> {
    if puts_max == 0 {
      // A call that looks at no put would never reach the record's end.
      return Err(LiveCopyRefusal::Call("putsMax must be at least 1".into()));
    }
    // The whole record is checked on every call, but only this call's puts are kept: a
    // record of a million puts taken in many calls must not be copied out each time.
    let mut puts = 0;
    let mut window = Vec::with_capacity(puts_max.min(WINDOW_CAPACITY_MAX));
    parse(payload, limits, |operation| {
      if operation.kind == OPERATION_PUT {
        if puts >= first && puts - first < puts_max {
          window.push(*operation);
        }
        puts += 1;
      }
      Ok(())
    })
    .map_err(LiveCopyRefusal::Damaged)?;
    let next = first.min(puts) + window.len();
    let mut live = Vec::new();
    self.each_live_put(payload, payload_offset, &window, |put, slot| {
      live.push((*put, slot));
    });
    let bytes: usize = live.iter().map(|(put, _)| put_bytes(put)).sum();
    let moves = into.moves_at + live.len();
    if into.target_at + bytes > into.target.len()
      || moves > into.slots.len()
      || moves > into.from.len()
      || moves > into.to.len()
    {
      return Err(LiveCopyRefusal::Call(format!(
        "the target holds fewer than {bytes} bytes or {} moves",
        live.len()
      )));
    }
    let mut at = into.target_at;
    for (index, (put, slot)) in live.iter().enumerate() {
      let start = put.key_start - OPERATION_HEADER_BYTES;
      let length = put_bytes(put);
      into.target[at..at + length].copy_from_slice(&payload[start..start + length]);
      let moved = into.moves_at + index;
      into.slots[moved] = *slot;
      into.from[moved] = (payload_offset + put.crc_at() as u64) as f64;
      into.to[moved] = (into.target_position + (at + put.crc_at() - start) as u64) as f64;
      at += length;
    }
    Ok(LiveCopy {
      puts,
      next,
      copied: live.len(),
      bytes,
    })
  }

  /// Calls `visit` with each of `puts` (of the record `payload` at log offset
  /// `payload_offset`) whose key's entry names this put's place, and the key's slot.
  fn each_live_put(
    &self,
    payload: &[u8],
    payload_offset: u64,
    puts: &[Operation],
    mut visit: impl FnMut(&Operation, u32),
  ) {
    let mut lookahead = Lookahead::new(self, payload, puts);
    for (index, put) in puts.iter().enumerate() {
      let hashed = lookahead.hash(self, index);
      let Some(slot) = self.find_hashed(put.key(payload), hashed) else {
        continue;
      };
      if self.entry(slot).position == payload_offset + put.crc_at() as u64 {
        visit(put, slot);
      }
    }
  }
}

/// Puts a `copy_live_puts` call reserves room for up front (a caller's `puts_max` is not trusted as a size).
const WINDOW_CAPACITY_MAX: usize = 1 << 16;

/// The puts of a record, every field bounded as at replay.
fn record_puts(payload: &[u8], limits: RecordLimits) -> Result<Vec<Operation>, String> {
  let mut puts = Vec::new();
  parse(payload, limits, |operation| {
    if operation.kind == OPERATION_PUT {
      puts.push(*operation);
    }
    Ok(())
  })?;
  Ok(puts)
}

/// Log bytes of a put: from its operation header to the end of its value.
fn put_bytes(put: &Operation) -> usize {
  put.crc_at() + VALUE_CRC_BYTES + put.value_length as usize
    - (put.key_start - OPERATION_HEADER_BYTES)
}

/// The operations of the record frame `frame` (its length field checked against its
/// size, every operation bounded by `parse`).
fn parse_frame(frame: &[u8], limits: RecordLimits) -> Result<Vec<Operation>, String> {
  if frame.len() < FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES
    || u32_at(frame, 4) as usize != frame.len() - FRAME_HEADER_BYTES - FRAME_TRAILER_BYTES
  {
    return Err("frame length does not match its header".into());
  }
  let mut operations = Vec::new();
  parse(
    &frame[FRAME_HEADER_BYTES..frame.len() - FRAME_TRAILER_BYTES],
    limits,
    |operation| {
      operations.push(*operation);
      Ok(())
    },
  )?;
  Ok(operations)
}
