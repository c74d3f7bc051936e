use super::*;
use std::collections::BTreeMap;
use std::ops::Bound;

/// xorshift: a deterministic stream of test keys without a dependency.
struct Random(u64);

impl Random {
  fn next(&mut self) -> u64 {
    self.0 ^= self.0 << 13;
    self.0 ^= self.0 >> 7;
    self.0 ^= self.0 << 17;
    self.0
  }
}

fn ordered(
  table: &mut KeyTable,
  lower: Bound<&[u8]>,
  upper: Bound<&[u8]>,
  reverse: bool,
) -> Vec<Vec<u8>> {
  table.refresh_order();
  let mut keys = Vec::new();
  table.visit_range(lower, upper, reverse, |slot| {
    keys.push(table.key(slot).to_vec());
    true
  });
  keys
}

#[test]
fn matches_a_btree_map_through_inserts_removes_and_ranges() {
  let mut random = Random(0x9e37_79b9_7f4a_7c15);
  let mut table = KeyTable::new();
  let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
  for step in 0..200_000u64 {
    // Keys on both sides of INLINE_KEY_BYTES_MAX: in their entries and in the arena.
    let length = if random.next() % 2 == 0 {
      1 + (random.next() % 12) as usize
    } else {
      INLINE_KEY_BYTES_MAX - 2 + (random.next() % 6) as usize
    };
    let key: Vec<u8> = (0..length)
      .map(|_| (random.next() % 4) as u8 + b'a')
      .collect();
    if random.next() % 3 == 0 {
      assert_eq!(table.remove(&key).is_some(), model.remove(&key).is_some());
    } else {
      table.upsert(&key, step, 1, step);
      model.insert(key, step);
    }
    if step % 20_000 == 0 {
      let all: Vec<Vec<u8>> = model.keys().cloned().collect();
      assert_eq!(
        ordered(&mut table, Bound::Unbounded, Bound::Unbounded, false),
        all
      );
      let low = b"ab".as_slice();
      let high = b"c".as_slice();
      let expected: Vec<Vec<u8>> = model
        .range::<[u8], _>((Bound::Excluded(low), Bound::Included(high)))
        .rev()
        .map(|(key, _)| key.clone())
        .collect();
      assert_eq!(
        ordered(
          &mut table,
          Bound::Excluded(low),
          Bound::Included(high),
          true
        ),
        expected
      );
    }
  }
  assert_eq!(table.key_count(), model.len());
  for (key, &seq) in &model {
    let slot = table.find(key).expect("present");
    assert_eq!(table.entry(slot).seq, seq);
  }
}

/// What a checkpoint of `entry_count` keys with positions below 2^40 and seqs up to 10,000 is checked against.
fn load_of(entry_count: usize) -> CheckpointLoad {
  let limits = RecordLimits {
    key_bytes_max: 0xffff,
    value_bytes_max: 1 << 26,
  };
  CheckpointLoad {
    entry_count,
    file_bytes: 1 << 30,
    position_min: 1,
    position_end: 1 << 40,
    seq_max: 10_000,
    limits,
  }
}

/// Key `i` of the checkpoint tests: every third one too long to live in its entry.
fn checkpoint_key(i: u64) -> String {
  let key = format!("key:{:08}", (i * 7919) % 10_000);
  if i % 3 == 0 {
    key + ":in-the-arena"
  } else {
    key
  }
}

#[test]
fn checkpoint_round_trip_keeps_every_entry_and_the_order() {
  let mut table = KeyTable::new();
  for i in 0..10_000u64 {
    table.upsert(checkpoint_key(i).as_bytes(), 100 + i, 3, i + 1);
  }
  table.remove(b"key:00000005");
  let chunks = table.checkpoint_chunks(4096);
  assert!(chunks.len() > 1);
  let mut loaded = KeyTable::new();
  loaded.begin_load(load_of(table.key_count())).unwrap();
  for chunk in &chunks {
    loaded.load_chunk(chunk).unwrap();
  }
  loaded.finish_load().unwrap();
  assert_eq!(loaded.key_count(), 9_999);
  assert!(loaded.find(b"key:00000005").is_none());
  // Every key is found in its bucket, with its entry.
  for i in 0..10_000u64 {
    let key = checkpoint_key(i);
    let (Some(original), found) = (table.find(key.as_bytes()), loaded.find(key.as_bytes())) else {
      continue;
    };
    let found = found.expect("a loaded key is found");
    assert_eq!(loaded.entry(found).position, table.entry(original).position);
    assert_eq!(loaded.entry(found).seq, table.entry(original).seq);
  }
  let first = ordered(&mut loaded, Bound::Unbounded, Bound::Unbounded, false);
  assert_eq!(
    first,
    ordered(&mut table, Bound::Unbounded, Bound::Unbounded, false)
  );
  // Out of order: refused.
  let mut refused = KeyTable::new();
  refused.begin_load(load_of(table.key_count())).unwrap();
  assert!(refused.load_chunk(&chunks[1]).is_ok());
  assert!(refused.load_chunk(&chunks[0]).is_err());
}

/// Enough keys that their load's fresh memory passes PREFAULT_BYTES_MIN, so that a
/// second thread faults it in while the chunks load.
#[test]
fn a_load_with_its_memory_faulted_in_beside_it_keeps_every_entry() {
  let keys = 400_000u64;
  let key = |i: u64| {
    let key = format!("prefault:{:09}", (i * 7919) % keys);
    if i % 4 == 0 {
      key + ":in-the-arena"
    } else {
      key
    }
  };
  let mut table = KeyTable::new();
  for i in 0..keys {
    table.upsert(key(i).as_bytes(), 100 + i, 5, i % 10_000 + 1);
  }
  let chunks = table.checkpoint_chunks(64 * 1024);
  let mut loaded = KeyTable::new();
  loaded.begin_load(load_of(table.key_count())).unwrap();
  for chunk in &chunks {
    loaded.load_chunk(chunk).unwrap();
  }
  loaded.finish_load().unwrap();
  assert_eq!(loaded.key_count(), keys as usize);
  for i in 0..keys {
    let original = table.find(key(i).as_bytes()).unwrap();
    let found = loaded
      .find(key(i).as_bytes())
      .expect("a loaded key is found");
    assert_eq!(loaded.entry(found).position, table.entry(original).position);
    assert_eq!(loaded.entry(found).seq, table.entry(original).seq);
  }
  assert_eq!(
    ordered(&mut loaded, Bound::Unbounded, Bound::Unbounded, false),
    ordered(&mut table, Bound::Unbounded, Bound::Unbounded, false)
  );
  // A load given up half way: dropping the table stops the thread before freeing.
  let mut abandoned = KeyTable::new();
  abandoned.begin_load(load_of(table.key_count())).unwrap();
  for chunk in &chunks[..chunks.len() / 2] {
    abandoned.load_chunk(chunk).unwrap();
  }
  assert!(abandoned.finish_load().is_err());
  let mut dropped = KeyTable::new();
  dropped.begin_load(load_of(table.key_count())).unwrap();
  dropped.load_chunk(&chunks[0]).unwrap();
  drop(dropped);
}

/// Chunks assembled from `checkpoint_entries` calls of at most `visits` slots each, as
/// wal-kv's sliced checkpoint does, cut where `checkpoint_chunks` would cut them.
fn chunks_by_steps(
  table: &KeyTable,
  chunk_bytes: usize,
  visits: usize,
  seq_max: u64,
) -> Vec<Vec<u8>> {
  let (mut fixed, mut keys) = (vec![0u8; chunk_bytes], vec![0u8; chunk_bytes]);
  let (mut count, mut fixed_at, mut keys_at) = (0usize, 0usize, 0usize);
  let mut after: Option<Vec<u8>> = None;
  let mut chunks = Vec::new();
  let finish = |fixed: &[u8], keys: &[u8], count: usize| {
    let mut chunk = vec![2u8];
    chunk.extend_from_slice(&(count as u32).to_le_bytes());
    chunk.extend_from_slice(fixed);
    chunk.extend_from_slice(keys);
    chunk
  };
  loop {
    let sink = EntrySink {
      fixed: &mut fixed[fixed_at..],
      keys: &mut keys[keys_at..],
      room: chunk_bytes - 5 - fixed_at - keys_at,
      visits,
    };
    let written = table.checkpoint_entries(after.as_deref(), None, seq_max, sink);
    if written.count > 0 {
      let last_length = u16::from_le_bytes([
        fixed[fixed_at + (written.count - 1) * 22],
        fixed[fixed_at + (written.count - 1) * 22 + 1],
      ]) as usize;
      keys_at += written.key_bytes;
      after = Some(keys[keys_at - last_length..keys_at].to_vec());
      fixed_at += written.count * 22;
      count += written.count;
    }
    match written.stop {
      EntriesStop::Budget => {}
      EntriesStop::Full => {
        chunks.push(finish(&fixed[..fixed_at], &keys[..keys_at], count));
        (count, fixed_at, keys_at) = (0, 0, 0);
      }
      EntriesStop::ReachedBound => {
        if count > 0 {
          chunks.push(finish(&fixed[..fixed_at], &keys[..keys_at], count));
        }
        return chunks;
      }
    }
  }
}

#[test]
fn checkpoint_entries_in_steps_make_the_same_chunks_as_one_checkpoint_and_leave_out_newer_seqs() {
  let mut table = KeyTable::new();
  for i in 0..10_000u64 {
    let key = format!(
      "key:{:0width$}",
      (i * 7919) % 10_000,
      width = 4 + (i % 5) as usize
    );
    table.upsert(key.as_bytes(), 100 + i, 3, i + 1);
  }
  table.remove(b"key:00000005");
  let whole = table.checkpoint_chunks(4096);
  for visits in [1, 7, 1000, usize::MAX] {
    assert_eq!(chunks_by_steps(&table, 4096, visits, u64::MAX), whole);
  }
  // Entries written after the checkpoint's seq are left out.
  let older: usize = chunks_by_steps(&table, 4096, 100, 5_000)
    .iter()
    .map(|chunk| u32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]) as usize)
    .sum();
  assert_eq!(older, 5_000);
}

#[test]
fn a_checkpoint_counting_more_entries_than_its_file_can_hold_is_refused_before_anything_is_reserved(
) {
  let mut table = KeyTable::new();
  let mut load = load_of(1 << 30);
  load.file_bytes = 4096;
  assert!(table.begin_load(load).is_err());
  assert_eq!(table.memory_bytes(), KeyTable::new().memory_bytes());
  load.entry_count = 4096 / 23;
  assert!(table.begin_load(load).is_ok());
}

#[test]
fn relocate_moves_only_values_still_at_their_place_in_the_previous_log() {
  let mut table = KeyTable::new();
  table.upsert(b"a", 10, 1, 1);
  table.upsert(b"b", 20, 1, 2);
  table.upsert(b"c", 30, 1, 3);
  let [a, b, c] = [b"a", b"b", b"c"].map(|key| table.find(key).unwrap());
  assert!(!table.in_previous_log(a));
  table.switch_log();
  assert!(table.in_previous_log(a) && table.in_previous_log(b));
  // Written again in the new log, at the position `a` has in the old one.
  table.upsert(b"b", 10, 1, 4);
  assert!(!table.in_previous_log(b));
  table.remove(b"c");
  table.upsert(b"d", 30, 1, 5);
  assert!(table.relocate(a, 10, 100));
  assert!(!table.relocate(a, 10, 100), "moved once only");
  assert!(!table.relocate(b, 20, 200), "written since");
  assert!(!table.relocate(b, 10, 200), "a place in the current log");
  assert!(
    !table.relocate(c, 30, 300),
    "removed (its slot free or reused)"
  );
  assert_eq!(table.entry(a).position, 100);
  assert!(!table.in_previous_log(a));
  assert_eq!(table.entry(b).position, 10);
  assert_eq!(table.entry(table.find(b"d").unwrap()).position, 30);
  // The next switch makes every value previous again.
  table.switch_log();
  assert!(table.in_previous_log(a) && table.in_previous_log(b));
}

/// The live keys of the view as it is now (no catching up): what a range walked without
/// catching up sees.
fn view_as_is(table: &KeyTable) -> Vec<Vec<u8>> {
  let mut keys = Vec::new();
  table.visit_range(Bound::Unbounded, Bound::Unbounded, false, |slot| {
    if table.is_live(slot) {
      keys.push(table.key(slot).to_vec());
    }
    true
  });
  keys
}

#[test]
fn a_refresh_in_steps_matches_the_model_while_keys_change_between_steps() {
  for (seed, first_build) in [(0x51u64, true), (0x1234_5678, false), (0xdead_beef, true)] {
    let mut random = Random(seed);
    let mut table = KeyTable::new();
    let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut insert =
      |table: &mut KeyTable, model: &mut BTreeMap<Vec<u8>, u64>, random: &mut Random, step: u64| {
        let length = 1 + (random.next() % 6) as usize;
        let key: Vec<u8> = (0..length)
          .map(|_| (random.next() % 16) as u8 + b'a')
          .collect();
        if random.next() % 4 == 0 {
          assert_eq!(table.remove(&key).is_some(), model.remove(&key).is_some());
        } else {
          table.upsert(&key, step, 1, step);
          model.insert(key, step);
        }
      };
    for step in 0..60_000u64 {
      insert(&mut table, &mut model, &mut random, step);
    }
    if !first_build {
      table.refresh_order();
      for step in 0..30_000u64 {
        insert(&mut table, &mut model, &mut random, step);
      }
    }
    let mut refreshes = 0;
    for step in 0..400_000u64 {
      if step % 7 == 0 {
        let was_built = table.order_built();
        let before = view_as_is(&table);
        let done = table.refresh_order_step(1);
        // A step never changes what a range sees until the refresh ends.
        if !done && was_built {
          assert_eq!(view_as_is(&table), before);
        }
        if done {
          refreshes += 1;
          // Up to date as of its start: every key is in the view or pending, none twice.
          let view = view_as_is(&table);
          assert!(
            view.windows(2).all(|pair| pair[0] < pair[1]),
            "the view is strictly increasing"
          );
          table.refresh_order();
          let all: Vec<Vec<u8>> = model.keys().cloned().collect();
          assert_eq!(view_as_is(&table), all);
          if refreshes == 3 {
            break;
          }
        }
      } else {
        insert(&mut table, &mut model, &mut random, step);
      }
    }
    assert!(refreshes >= 1, "a refresh finished");
    table.refresh_order();
    let all: Vec<Vec<u8>> = model.keys().cloned().collect();
    assert_eq!(
      ordered(&mut table, Bound::Unbounded, Bound::Unbounded, false),
      all
    );
  }
}

#[test]
fn short_and_long_keys_survive_arena_compaction_and_slot_reuse() {
  let mut random = Random(0x2545_f491_4f6c_dd1d);
  let mut table = KeyTable::new();
  let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
  let key_of = |index: u64| -> Vec<u8> {
    // Every third key is short enough to live in its entry; the others are 17 to 48 bytes.
    let length = if index % 3 == 0 {
      1 + (index % INLINE_KEY_BYTES_MAX as u64)
    } else {
      17 + index % 32
    };
    let mut key = index.to_le_bytes().to_vec();
    key.resize(length as usize, b'k');
    if length < 8 {
      key = format!("{index:x}").into_bytes();
    }
    key
  };
  // Enough long keys that removing most of them passes ARENA_GARBAGE_MIN and compacts the arena.
  for round in 0..3u64 {
    for index in 0..60_000u64 {
      let key = key_of(index + round * 1_000_000);
      table.upsert(&key, index, 1, round);
      model.insert(key, round);
    }
    for index in 0..60_000u64 {
      if random.next() % 5 != 0 {
        let key = key_of(index + round * 1_000_000);
        assert!(table.remove(&key).is_some());
        model.remove(&key);
      }
    }
  }
  assert!(table.arena.len() < 1 << 21, "the arena was compacted");
  assert_eq!(table.key_count(), model.len());
  for (key, &seq) in &model {
    let slot = table.find(key).expect("present");
    assert_eq!(table.key(slot), key.as_slice());
    assert_eq!(table.entry(slot).seq, seq);
  }
  let all: Vec<Vec<u8>> = model.keys().cloned().collect();
  assert_eq!(
    ordered(&mut table, Bound::Unbounded, Bound::Unbounded, false),
    all
  );
}

/// A record payload (log format 3) of puts (`Some(value)`) and deletes (`None`) from `seq`
/// on, placed at `payload_offset` of generation 1; value CRCs are left zero (replay does not read them).
fn record_payload(operations: &[(&[u8], Option<&[u8]>)], seq: u64, payload_offset: u64) -> Vec<u8> {
  let mut payload = Vec::new();
  payload.extend_from_slice(&(operations.len() as u32).to_le_bytes());
  payload.extend_from_slice(&record::place_of(payload_offset - 8, 1).to_le_bytes());
  for (index, (key, value)) in operations.iter().enumerate() {
    payload.push(if value.is_some() { 1 } else { 2 });
    payload.extend_from_slice(&(key.len() as u16).to_le_bytes());
    payload.extend_from_slice(&(value.map_or(0, |value| value.len()) as u32).to_le_bytes());
    payload.extend_from_slice(&(seq + index as u64).to_le_bytes());
    payload.extend_from_slice(key);
    if let Some(value) = value {
      payload.extend_from_slice(&[0, 0, 0, 0]);
      payload.extend_from_slice(value);
    }
  }
  payload
}

/// A table after two records, and the first of them: of its puts, "kept" and "kept too"
/// still hold their keys' values; "overwritten" and "deleted" do not.
fn compaction_fixture() -> (KeyTable, Vec<u8>, RecordLimits) {
  let limits = RecordLimits {
    key_bytes_max: 0xffff,
    value_bytes_max: 1 << 26,
  };
  let mut table = KeyTable::new();
  let first = record_payload(
    &[
      (b"kept", Some(b"1")),
      (b"overwritten", Some(b"2")),
      (b"deleted", Some(b"3")),
      (b"gone", None),
      (b"kept too", Some(b"45")),
    ],
    1,
    100,
  );
  table.replay_record(&first, 100, 1, 0, limits).unwrap();
  let second = record_payload(&[(b"overwritten", Some(b"6")), (b"deleted", None)], 6, 1000);
  table.replay_record(&second, 1000, 1, 5, limits).unwrap();
  (table, first, limits)
}

#[test]
fn live_puts_names_the_puts_that_still_hold_their_keys_value() {
  let (table, first, limits) = compaction_fixture();
  let fields = record::LIVE_PUT_FIELDS;
  let mut out = vec![0u32; fields * 5];
  let count = table.live_puts(&first, 100, limits, &mut out).unwrap();
  assert_eq!(count, 2);
  for (live, key) in [b"kept".as_slice(), b"kept too"].into_iter().enumerate() {
    let [start, key_end, end, slot] = [0, 1, 2, 3].map(|field| out[live * fields + field] as usize);
    assert_eq!(&first[key_end - key.len()..key_end], key);
    assert_eq!(start + 15 + key.len(), key_end);
    assert_eq!(end, key_end + 4 + if live == 0 { 1 } else { 2 });
    assert_eq!(table.key(slot as u32), key);
  }
  // The same bytes read at another place hold no live put; a cut record is refused.
  assert_eq!(table.live_puts(&first, 200, limits, &mut out).unwrap(), 0);
  assert!(table
    .live_puts(&first[..first.len() - 1], 100, limits, &mut out)
    .is_err());
  assert!(table
    .live_puts(&first, 100, limits, &mut out[..fields * 3])
    .is_err());
}

#[test]
fn copy_live_puts_copies_the_live_puts_and_their_moves() {
  let (table, first, limits) = compaction_fixture();
  let mut live = vec![0u32; record::LIVE_PUT_FIELDS * 4];
  assert_eq!(table.live_puts(&first, 100, limits, &mut live).unwrap(), 2);
  let (mut target, mut slots, mut from, mut to) =
    (vec![0u8; 200], vec![0u32; 4], vec![0f64; 4], vec![0f64; 4]);
  let copy = |first_put: usize,
              puts_max: usize,
              target_at: usize,
              moves_at: usize,
              target: &mut [u8],
              slots: &mut [u32],
              from: &mut [f64],
              to: &mut [f64]| {
    let into = LiveCopyTarget {
      target,
      target_at,
      target_position: 5000,
      slots,
      from,
      to,
      moves_at,
    };
    table.copy_live_puts(&first, 100, limits, first_put, puts_max, into)
  };
  // Two calls of two puts each: the first finds "kept" live, the second "kept too" (after "deleted").
  let one = copy(0, 2, 10, 1, &mut target, &mut slots, &mut from, &mut to).unwrap();
  assert_eq!(
    one,
    record::LiveCopy {
      puts: 4,
      next: 2,
      copied: 1,
      bytes: (live[2] - live[0]) as usize
    }
  );
  let two = copy(
    one.next,
    2,
    10 + one.bytes,
    2,
    &mut target,
    &mut slots,
    &mut from,
    &mut to,
  )
  .unwrap();
  assert_eq!(
    two,
    record::LiveCopy {
      puts: 4,
      next: 4,
      copied: 1,
      bytes: (live[6] - live[4]) as usize
    }
  );
  let mut at = 10;
  for put in 0..2 {
    let [start, key_end, end, slot] =
      [0, 1, 2, 3].map(|field| live[put * record::LIVE_PUT_FIELDS + field] as usize);
    assert_eq!(&target[at..at + end - start], &first[start..end]);
    assert_eq!(slots[1 + put], slot as u32);
    assert_eq!(from[1 + put], (100 + key_end) as f64);
    assert_eq!(to[1 + put], (5000 + at + key_end - start) as f64);
    at += end - start;
  }
  // Past the last put nothing is looked at; too little room changes nothing.
  assert_eq!(
    copy(4, 2, 0, 0, &mut target, &mut slots, &mut from, &mut to)
      .unwrap()
      .copied,
    0
  );
  let before = target.clone();
  // A wrong call is the caller's (never damage): too little room, or no put to look at.
  let wrong_call = |result: Result<record::LiveCopy, LiveCopyRefusal>| {
    matches!(result, Err(LiveCopyRefusal::Call(_)))
  };
  assert!(wrong_call(copy(
    0,
    3,
    195,
    0,
    &mut target,
    &mut slots,
    &mut from,
    &mut to
  )));
  assert!(wrong_call(copy(
    0,
    3,
    0,
    4,
    &mut target,
    &mut slots,
    &mut from,
    &mut to
  )));
  assert!(wrong_call(copy(
    0,
    0,
    0,
    0,
    &mut target,
    &mut slots,
    &mut from,
    &mut to
  )));
  assert_eq!(target, before);
  assert!(copy(0, 3, 0, 0, &mut target[..], &mut slots, &mut from, &mut to).is_ok());
  // A record that does not check out is damage.
  assert!(matches!(
    table.copy_live_puts(
      &first[..first.len() - 1],
      100,
      limits,
      0,
      3,
      LiveCopyTarget {
        target: &mut target,
        target_at: 0,
        target_position: 0,
        slots: &mut slots,
        from: &mut from,
        to: &mut to,
        moves_at: 0
      }
    ),
    Err(LiveCopyRefusal::Damaged(_))
  ));
}
