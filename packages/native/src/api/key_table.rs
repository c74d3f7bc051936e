//! `KeyTable`: wal-kv's in-memory index as a JS class (see `crate::key_table`). Every
//! call is computation over memory handed in by the caller; nothing here touches a
//! file, so a store's disk access still goes only through its `Io`.

use napi::bindgen_prelude::{Buffer, Float64ArraySlice, Uint32ArraySlice, Uint8ArraySlice};
use napi::{Error, Status};
use napi_derive::napi;
use std::ops::Bound;

use super::bound_reads::BoundReads;
use crate::key_table::{self, Captures, CheckpointLoad, EntriesStop, EntrySink, RecordLimits};

/// Fields `find` and `range` write per entry into their `out` array: value position,
/// value length, seq, the key's CRC-32C (the seed of its value's CRC), key length, and
/// 1 when the value is still in the log before the current one (see `switchLog`), else 0.
pub(super) const FIELDS_PER_ENTRY: usize = 6;
/// Magic and length before a record frame's payload.
const FRAME_HEADER_BYTES: usize = 8;

pub(super) fn fields(table: &key_table::KeyTable, slot: u32) -> [f64; FIELDS_PER_ENTRY] {
  let entry = table.entry(slot);
  let key = table.key(slot);
  [
    entry.position as f64,
    entry.value_length as f64,
    entry.seq as f64,
    crc32c::crc32c(key) as f64,
    key.len() as f64,
    if table.in_previous_log(slot) {
      1.0
    } else {
      0.0
    },
  ]
}

/// What `KeyTable.copyLivePuts` did: the record has `puts` puts, those before `next`
/// were looked at, and `copied` of them (`bytes` in all) were copied.
#[napi(object)]
pub struct LiveCopyReport {
  pub puts: u32,
  pub next: u32,
  pub copied: u32,
  pub bytes: u32,
}

/// The codes `KeyTable.copyLivePuts` throws with. Its caller reports `RecordDamaged` as
/// damage on disk; anything else (`InvalidArg`: a wrong call) is a bug, and is not.
pub enum CopyStatus {
  RecordDamaged,
  InvalidArg,
}

impl AsRef<str> for CopyStatus {
  fn as_ref(&self) -> &str {
    match self {
      CopyStatus::RecordDamaged => "RecordDamaged",
      CopyStatus::InvalidArg => "InvalidArg",
    }
  }
}

impl From<key_table::LiveCopyRefusal> for Error<CopyStatus> {
  fn from(refusal: key_table::LiveCopyRefusal) -> Self {
    match refusal {
      key_table::LiveCopyRefusal::Damaged(reason) => Error::new(CopyStatus::RecordDamaged, reason),
      key_table::LiveCopyRefusal::Call(reason) => Error::new(CopyStatus::InvalidArg, reason),
    }
  }
}

/// An `InvalidArg` error of `copyLivePuts` (a wrong call, never damage).
fn bad_copy_call(error: Error) -> Error<CopyStatus> {
  Error::new(CopyStatus::InvalidArg, error.reason.clone())
}

pub(super) fn invalid(reason: impl Into<String>) -> Error {
  Error::new(Status::InvalidArg, reason.into())
}

/// A JS number that must be a non-negative safe integer.
fn whole(value: f64, name: &str) -> napi::Result<u64> {
  if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0 {
    Ok(value as u64)
  } else {
    Err(invalid(format!(
      "{name} must be a safe non-negative integer"
    )))
  }
}

fn bound(key: Option<&[u8]>, inclusive: bool) -> Bound<&[u8]> {
  match key {
    None => Bound::Unbounded,
    Some(key) if inclusive => Bound::Included(key),
    Some(key) => Bound::Excluded(key),
  }
}

/// The frame to seal (`buffer[start..end]`), its log offset and the key limit, checked.
fn sealing_arguments<'a>(
  buffer: &'a mut Uint8ArraySlice,
  start: u32,
  end: u32,
  frame_offset: f64,
  keys_max: f64,
) -> napi::Result<(&'a mut [u8], u64, usize)> {
  let frame_offset = whole(frame_offset, "frameOffset")?;
  let keys_max = whole(keys_max, "keysMax")? as usize;
  // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
  let buffer = unsafe { buffer.as_mut() };
  let frame = buffer
    .get_mut(start as usize..end as usize)
    .ok_or_else(|| invalid("frame range is outside the buffer"))?;
  Ok((frame, frame_offset, keys_max))
}

/// Runs `commit` with the `Captures` of a record at `buffer[start..]`: into `captured`
/// when views are open (`seq_max` above 0), else into nothing; writes their count into
/// `captured[0]`.
fn with_captures<T>(
  seq_max: u64,
  start: u32,
  mut captured: Option<Float64ArraySlice>,
  commit: impl FnOnce(&mut Captures) -> Result<T, String>,
) -> napi::Result<T> {
  let mut no_captures = [0.0f64; 1];
  let out = match captured.as_mut() {
    // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
    Some(captured) => unsafe { captured.as_mut() },
    None if seq_max == 0 => &mut no_captures[..],
    None => return Err(invalid("captureSeq needs a captured array")),
  };
  let (count, out) = out
    .split_first_mut()
    .ok_or_else(|| invalid("captured holds no count field"))?;
  let mut captures = Captures {
    seq_max,
    key_base: start as usize + FRAME_HEADER_BYTES,
    out,
    count: 0,
  };
  let result = commit(&mut captures).map_err(invalid)?;
  *count = captures.count as f64;
  Ok(result)
}

#[napi]
pub struct KeyTable {
  pub(super) table: key_table::KeyTable,
  pub(super) limits: RecordLimits,
  /// The arrays `boundReader`'s function works with (see `bound_reads`).
  pub(super) reads: BoundReads,
}

#[napi]
impl KeyTable {
  /// An empty table; records and checkpoints are checked against these bounds.
  #[napi(constructor)]
  pub fn new(key_bytes_max: u32, value_bytes_max: u32) -> Self {
    KeyTable {
      table: key_table::KeyTable::new(),
      limits: RecordLimits {
        key_bytes_max: key_bytes_max as usize,
        value_bytes_max,
      },
      reads: BoundReads::default(),
    }
  }

  #[napi(getter)]
  pub fn size(&self) -> f64 {
    self.table.key_count() as f64
  }

  #[napi(getter)]
  pub fn dead_bytes(&self) -> f64 {
    self.table.dead_bytes as f64
  }

  #[napi(setter)]
  pub fn set_dead_bytes(&mut self, value: f64) -> napi::Result<()> {
    self.table.dead_bytes = whole(value, "deadBytes")?;
    Ok(())
  }

  /// Bytes the table holds (allocated capacity).
  #[napi]
  pub fn memory_bytes(&self) -> f64 {
    self.table.memory_bytes() as f64
  }

  /// Looks up `key[0..keyLength]`; writes its fields (see FIELDS_PER_ENTRY) into `out`
  /// and returns the slot, or -1.
  #[napi]
  pub fn find(&self, key: &[u8], key_length: u32, out: Float64ArraySlice) -> napi::Result<i32> {
    let key = key
      .get(..key_length as usize)
      .ok_or_else(|| invalid("keyLength is past the key buffer"))?;
    self.find_into(key, out)
  }

  /// `find` of a string key by its UTF-8 bytes (the store's byte form of a string key),
  /// with no buffer to fill on the JS side first. Returns the slot, -1 when absent, or -2
  /// when the key is empty or longer than the table's key bound (for the caller to report).
  #[napi]
  pub fn find_string(&self, key: String, out: Float64ArraySlice) -> napi::Result<i32> {
    let key = key.as_bytes();
    if key.is_empty() || key.len() > self.limits.key_bytes_max {
      return Ok(-2);
    }
    self.find_into(key, out)
  }

  fn find_into(&self, key: &[u8], mut out: Float64ArraySlice) -> napi::Result<i32> {
    let Some(slot) = self.table.find(key) else {
      return Ok(-1);
    };
    // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
    let out = unsafe { out.as_mut() };
    if out.len() < FIELDS_PER_ENTRY {
      return Err(invalid("out holds fewer than 6 fields"));
    }
    out[..FIELDS_PER_ENTRY].copy_from_slice(&fields(&self.table, slot));
    Ok(slot as i32)
  }

  /// Seals the record frame at `buffer[start..end]` (log offset `frameOffset` of log
  /// generation `generation`): fills in its place, value CRCs and frame CRC and applies
  /// it, unless it would leave more than `keysMax` keys (and more than now): then nothing
  /// changes and it returns false. `sealRecord` then `applySealedRecord` in one call.
  ///
  /// With read views open, `captureSeq` is the newest view's seq: each entry the record
  /// replaces or removes that was written at or before it is reported in `captured`,
  /// before it changes: `captured[0]` is their count, then per entry the offset of its
  /// key in `buffer` and its fields (see FIELDS_PER_ENTRY). `captured` must hold 1 + 7
  /// fields per operation.
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn commit_record(
    &mut self,
    mut buffer: Uint8ArraySlice,
    start: u32,
    end: u32,
    frame_offset: f64,
    keys_max: f64,
    generation: u32,
    capture_seq: Option<f64>,
    captured: Option<Float64ArraySlice>,
  ) -> napi::Result<bool> {
    let seq_max = whole(capture_seq.unwrap_or(0.0), "captureSeq")?;
    let (frame, frame_offset, keys_max) =
      sealing_arguments(&mut buffer, start, end, frame_offset, keys_max)?;
    let limits = self.limits;
    let table = &mut self.table;
    with_captures(seq_max, start, captured, |captures| {
      table.commit_record(frame, frame_offset, generation, keys_max, limits, captures)
    })
  }

  /// The first half of `commitRecord`: fills in the place, value CRCs and frame CRC of
  /// the record frame at `buffer[start..end]` without changing the table, unless the
  /// record would leave more than `keysMax` keys (and more than now): then it returns
  /// false. The key count is checked against the table as it is: apply a sealed record
  /// (`applySealedRecord`) before sealing the next.
  #[napi]
  pub fn seal_record(
    &self,
    mut buffer: Uint8ArraySlice,
    start: u32,
    end: u32,
    frame_offset: f64,
    keys_max: f64,
    generation: u32,
  ) -> napi::Result<bool> {
    let (frame, frame_offset, keys_max) =
      sealing_arguments(&mut buffer, start, end, frame_offset, keys_max)?;
    self
      .table
      .seal_record(frame, frame_offset, generation, keys_max, self.limits)
      .map_err(invalid)
  }

  /// The second half of `commitRecord`: applies the record `sealRecord` sealed at
  /// `buffer[start..end]`, log offset `frameOffset` (its bytes unchanged since).
  #[napi]
  pub fn apply_sealed_record(
    &mut self,
    buffer: &[u8],
    start: u32,
    end: u32,
    frame_offset: f64,
  ) -> napi::Result<()> {
    let frame_offset = whole(frame_offset, "frameOffset")?;
    let frame = buffer
      .get(start as usize..end as usize)
      .ok_or_else(|| invalid("frame range is outside the buffer"))?;
    let limits = self.limits;
    let table = &mut self.table;
    with_captures(0, start, None, |captures| {
      table.apply_sealed_record(frame, frame_offset, limits, captures)
    })
  }

  /// Applies a record read back from the log (frame CRC checked) whose payload starts at
  /// log offset `payloadOffset` of log generation `generation` (its place must say so);
  /// seqs must increase from `previousSeq`. Returns the last
  /// seq; throws (code `InvalidArg`, the reason as message) for impossible contents.
  #[napi]
  pub fn replay_record(
    &mut self,
    payload: &[u8],
    payload_offset: f64,
    previous_seq: f64,
    generation: u32,
  ) -> napi::Result<f64> {
    let payload_offset = whole(payload_offset, "payloadOffset")?;
    let previous_seq = whole(previous_seq, "previousSeq")?;
    let last = self
      .table
      .replay_record(
        payload,
        payload_offset,
        generation,
        previous_seq,
        self.limits,
      )
      .map_err(invalid)?;
    Ok(last as f64)
  }

  /// For compaction: which puts of a record read back (frame CRC checked) whose payload
  /// is at log offset `payloadOffset` still hold their key's value (the key's entry names
  /// this put). Per such put, in log order, four numbers go into `out`: where the
  /// operation starts in `payload`, where its key ends, where it ends, and the key's slot.
  /// Returns how many; `out` must hold four per put the record may have (a put takes at
  /// least 20 bytes). Throws (code `InvalidArg`, the reason as message) for impossible
  /// contents, with every length bounded as at replay.
  #[napi]
  pub fn live_puts(
    &self,
    payload: &[u8],
    payload_offset: f64,
    mut out: Uint32ArraySlice,
  ) -> napi::Result<u32> {
    let payload_offset = whole(payload_offset, "payloadOffset")?;
    if u32::try_from(payload.len()).is_err() {
      return Err(invalid("payload is larger than a record"));
    }
    // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
    let out = unsafe { out.as_mut() };
    let count = self
      .table
      .live_puts(payload, payload_offset, self.limits, out)
      .map_err(invalid)?;
    Ok(count as u32)
  }

  /// For compaction: looks at the puts of a record read back (as for `livePuts`) from the
  /// `first`th on, at most `putsMax` of them, and copies each that still holds its key's
  /// value, as it is, into `target` from `targetAt` on, back to back (`target[0]` is at
  /// log position `targetPosition` of the new log); per copied put, from `movesAt` on,
  /// its key's slot, where its value was and where it is now go into `slots`, `from` and
  /// `to` (the arguments of `relocate`). Returns the record's put count, the index of the
  /// next put to look at, and how many puts and bytes were copied. Throws, changing
  /// nothing: code `RecordDamaged` for impossible contents (every length bounded as at
  /// replay), `InvalidArg` for a wrong call (the copied puts or moves would not fit,
  /// `putsMax` is 0, a position is not a safe integer).
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn copy_live_puts(
    &self,
    payload: &[u8],
    payload_offset: f64,
    first: u32,
    puts_max: u32,
    mut target: Uint8ArraySlice,
    target_at: u32,
    target_position: f64,
    mut slots: Uint32ArraySlice,
    mut from: Float64ArraySlice,
    mut to: Float64ArraySlice,
    moves_at: u32,
  ) -> napi::Result<LiveCopyReport, CopyStatus> {
    let payload_offset = whole(payload_offset, "payloadOffset").map_err(bad_copy_call)?;
    let target_position = whole(target_position, "targetPosition").map_err(bad_copy_call)?;
    if u32::try_from(payload.len()).is_err() {
      return Err(Error::new(
        CopyStatus::RecordDamaged,
        "is larger than a record",
      ));
    }
    // SAFETY: the views are alive for this call and nothing else runs on the JS thread
    // meanwhile; distinct typed arrays (the caller's chunk arrays and frame buffer).
    let into = unsafe {
      key_table::LiveCopyTarget {
        target: target.as_mut(),
        target_at: target_at as usize,
        target_position,
        slots: slots.as_mut(),
        from: from.as_mut(),
        to: to.as_mut(),
        moves_at: moves_at as usize,
      }
    };
    let copy = self.table.copy_live_puts(
      payload,
      payload_offset,
      self.limits,
      first as usize,
      puts_max as usize,
      into,
    )?;
    // Counts and offsets inside a payload of at most 2^28 bytes fit in u32.
    Ok(LiveCopyReport {
      puts: copy.puts as u32,
      next: copy.next as u32,
      copied: copy.copied as u32,
      bytes: copy.bytes as u32,
    })
  }

  /// Up to `limit` entries in key byte order (descending with `reverse`) between the
  /// bounds (`null`: open), or fewer when `keys` fills: per entry its fields (see
  /// FIELDS_PER_ENTRY) go into `out`, the keys back to back into `keys`. Returns the count.
  ///
  /// With `catchUp` false (default true) the ordered view is walked as it was last
  /// brought up to date, without merging the keys added since (that merge is linear in
  /// the key count): keys added since are missing and keys removed since are skipped. A
  /// caller that brought it up to date when its walk began, and knows which keys changed
  /// since, walks without paying the merge on every batch.
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn range(
    &mut self,
    lower: Option<&[u8]>,
    lower_inclusive: bool,
    upper: Option<&[u8]>,
    upper_inclusive: bool,
    reverse: bool,
    limit: u32,
    mut out: Float64ArraySlice,
    mut keys: Uint8ArraySlice,
    catch_up: Option<bool>,
  ) -> napi::Result<u32> {
    if catch_up != Some(false) || !self.table.order_built() {
      self.table.refresh_order();
    }
    // SAFETY: the views are alive for this call and nothing else runs on the JS thread meanwhile.
    let (out, keys) = unsafe { (out.as_mut(), keys.as_mut()) };
    let limit = (limit as usize).min(out.len() / FIELDS_PER_ENTRY);
    let (mut count, mut key_bytes) = (0usize, 0usize);
    let table = &self.table;
    table.visit_range(
      bound(lower, lower_inclusive),
      bound(upper, upper_inclusive),
      reverse,
      |slot| {
        // Only a view not brought up to date still names removed keys.
        if !table.is_live(slot) {
          return true;
        }
        let key = table.key(slot);
        if count == limit || key_bytes + key.len() > keys.len() {
          return false;
        }
        out[count * FIELDS_PER_ENTRY..(count + 1) * FIELDS_PER_ENTRY]
          .copy_from_slice(&fields(table, slot));
        keys[key_bytes..key_bytes + key.len()].copy_from_slice(key);
        key_bytes += key.len();
        count += 1;
        true
      },
    );
    Ok(count as u32)
  }

  /// Brings the ordered view for ranges up to date by about `budget` keys' worth of
  /// work (in steps of about a millisecond), so that a caller on the event loop can do
  /// it between other work; true once it is up to date. The table may change between
  /// calls; ranges walked without catching up see the view as it was until the last
  /// step, and a range that catches up finishes the refresh at once.
  #[napi]
  pub fn refresh_order_step(&mut self, budget: u32) -> bool {
    self.table.refresh_order_step(budget as usize)
  }

  /// Every entry as checkpoint chunk payloads (format in `key_table::checkpoint`).
  #[napi]
  pub fn checkpoint_chunks(&mut self, chunk_bytes: u32) -> Vec<Buffer> {
    self
      .table
      .checkpoint_chunks(chunk_bytes as usize)
      .into_iter()
      .map(Buffer::from)
      .collect()
  }

  /// Writes the entries of a checkpoint taken at `seqMax` whose keys lie strictly
  /// between `after` and `before` (null: unbounded), in key order, in checkpoint chunk
  /// encoding: fixed fields into `fixed` from `fixedAt`, keys into `keys` from `keysAt`,
  /// in at most `room` bytes of both and `visits` slots walked (see
  /// `key_table::checkpoint`). `out` gets the entries written, their key bytes, and why
  /// it stopped: 0 every entry below `before` is written, 1 the next does not fit, 2 the
  /// visits ran out. Walks the ordered view as it stands (brought up to date by the caller).
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn checkpoint_entries(
    &mut self,
    after: Option<&[u8]>,
    before: Option<&[u8]>,
    seq_max: f64,
    visits: u32,
    room: u32,
    mut fixed: Uint8ArraySlice,
    fixed_at: u32,
    mut keys: Uint8ArraySlice,
    keys_at: u32,
    mut out: Float64ArraySlice,
  ) -> napi::Result<()> {
    let seq_max = whole(seq_max, "seqMax")?;
    if !self.table.order_built() {
      self.table.refresh_order();
    }
    // SAFETY: the views are alive for this call and nothing else runs on the JS thread meanwhile.
    let (fixed, keys, out) = unsafe { (fixed.as_mut(), keys.as_mut(), out.as_mut()) };
    if out.len() < 3 || fixed_at as usize > fixed.len() || keys_at as usize > keys.len() {
      return Err(invalid(
        "out needs 3 fields, and fixedAt and keysAt must lie inside their buffers",
      ));
    }
    let sink = EntrySink {
      fixed: &mut fixed[fixed_at as usize..],
      keys: &mut keys[keys_at as usize..],
      room: room as usize,
      visits: visits as usize,
    };
    let written = self.table.checkpoint_entries(after, before, seq_max, sink);
    out[0] = written.count as f64;
    out[1] = written.key_bytes as f64;
    out[2] = match written.stop {
      EntriesStop::ReachedBound => 0.0,
      EntriesStop::Full => 1.0,
      EntriesStop::Budget => 2.0,
    };
    Ok(())
  }

  /// Starts loading a checkpoint of `fileBytes` bytes into this empty table (`entryCount`
  /// already bounded by the caller; refused when the file is too small to hold it).
  #[napi]
  pub fn begin_load(
    &mut self,
    entry_count: f64,
    file_bytes: f64,
    position_min: f64,
    position_end: f64,
    seq_max: f64,
  ) -> napi::Result<()> {
    let load = CheckpointLoad {
      entry_count: whole(entry_count, "entryCount")? as usize,
      file_bytes: whole(file_bytes, "fileBytes")?,
      position_min: whole(position_min, "positionMin")?,
      position_end: whole(position_end, "positionEnd")?,
      seq_max: whole(seq_max, "seqMax")?,
      limits: self.limits,
    };
    self.table.begin_load(load).map_err(invalid)
  }

  /// Adds one chunk of a checkpoint; throws (`InvalidArg`, the reason) when it does not check out.
  #[napi]
  pub fn load_chunk(&mut self, payload: &[u8]) -> napi::Result<()> {
    self.table.load_chunk(payload).map_err(invalid)
  }

  #[napi]
  pub fn finish_load(&mut self) -> napi::Result<()> {
    self.table.finish_load().map_err(invalid)
  }

  /// A compaction switched logs: every value is now in the previous log (reported by
  /// `find` and `range`) until it is written again or moved by `relocate`. Constant time.
  #[napi]
  pub fn switch_log(&mut self) {
    self.table.switch_log();
  }

  /// Moves values from the previous log to the current one (compaction): `slots[i]` goes
  /// from log position `from[i]` to `to[i]` when its value is still at `from[i]` of the
  /// previous log; a key written or removed since is left as it is. Returns how many moved.
  #[napi]
  pub fn relocate(&mut self, slots: &[u32], from: &[f64], to: &[f64]) -> napi::Result<f64> {
    if slots.len() != from.len() || slots.len() != to.len() {
      return Err(invalid("slots, from and to differ in length"));
    }
    let mut moved = 0usize;
    for i in 0..slots.len() {
      if self
        .table
        .relocate(slots[i], whole(from[i], "from")?, whole(to[i], "to")?)
      {
        moved += 1;
      }
    }
    Ok(moved as f64)
  }
}
