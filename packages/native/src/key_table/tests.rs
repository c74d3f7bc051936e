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
    let length = 1 + (random.next() % 12) as usize;
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
    position_min: 1,
    position_end: 1 << 40,
    seq_max: 10_000,
    limits,
  }
}

#[test]
fn checkpoint_round_trip_keeps_every_entry_and_the_order() {
  let mut table = KeyTable::new();
  for i in 0..10_000u64 {
    table.upsert(
      format!("key:{:08}", (i * 7919) % 10_000).as_bytes(),
      100 + i,
      3,
      i + 1,
    );
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
