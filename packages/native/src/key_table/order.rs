//! The ordered view for ranges: slot numbers sorted by key bytes, built on the first
//! range and then kept up to date lazily. A new key is only noted (`pending`); a removed
//! key stays in the array as a dead slot (not reused meanwhile). The next range sorts
//! the pending keys (k log k) and merges them in, dropping dead slots, in one pass. A
//! view that falls too far behind (more dead slots than a quarter of the keys, or more
//! pending keys than sorted ones) is dropped and rebuilt when next asked for, so a
//! store that never asks for ranges never pays for them. The same refresh can also be
//! done in bounded steps (see `refresh`).

use super::refresh::Refresh;
use super::{Entry, KeyTable};
use std::cmp::Ordering;
use std::ops::Bound;

const DEAD_SLOTS_MIN: usize = 1024;

#[derive(Default)]
pub struct Order {
  pub(super) built: bool,
  pub(super) sorted: Vec<u32>,
  pub(super) pending: Vec<u32>,
  pub(super) dead: Vec<u32>,
  /// A refresh done a step at a time (see `refresh`): while it runs, new keys are noted
  /// and removed ones kept dead even before the first build, and the view is never dropped.
  pub(super) refresh: Option<Box<Refresh>>,
}

pub enum Released {
  /// No view names the slot: free it now.
  Now,
  /// The view names it: it is freed when the view next catches up.
  Later,
  /// The view was dropped: free these (the removed slot among them).
  All(Vec<u32>),
}

impl Order {
  pub fn is_built(&self) -> bool {
    self.built
  }

  pub fn memory_bytes(&self) -> usize {
    (self.sorted.capacity() + self.pending.capacity() + self.dead.capacity()) * 4
  }

  /// Notes a new key; returns the dead slots to free when the view was dropped.
  pub fn inserted(&mut self, slot: u32) -> Option<Vec<u32>> {
    if !self.built && self.refresh.is_none() {
      return None;
    }
    self.pending.push(slot);
    // Sorting everything again then costs about as much as merging this many.
    if self.refresh.is_none() && self.pending.len() > self.sorted.len().max(DEAD_SLOTS_MIN) {
      return Some(self.drop_view());
    }
    None
  }

  pub fn removed(&mut self, slot: u32, live: usize) -> Released {
    if !self.built && self.refresh.is_none() {
      return Released::Now;
    }
    self.dead.push(slot);
    if self.refresh.is_none() && self.dead.len() > (live / 4).max(DEAD_SLOTS_MIN) {
      return Released::All(self.drop_view());
    }
    Released::Later
  }

  fn drop_view(&mut self) -> Vec<u32> {
    self.built = false;
    self.sorted = Vec::new();
    self.pending = Vec::new();
    std::mem::take(&mut self.dead)
  }
}

/// Byte-order comparison of two keys given as slots.
fn compare(table: &KeyTable, a: u32, b: u32) -> Ordering {
  table.key(a).cmp(table.key(b))
}

/// Sorts slots by key: by the 8 key bytes after the prefix all of them share (as a
/// big-endian integer, zero-padded), falling back to the whole keys on a tie.
pub(super) fn sort_slots(table: &KeyTable, slots: &mut Vec<u32>) {
  let Some(&first) = slots.first() else { return };
  let mut shared = table.key(first).len();
  for &slot in slots.iter() {
    let key = table.key(slot);
    shared = shared.min(key.len());
    shared = key[..shared]
      .iter()
      .zip(table.key(first))
      .take_while(|(a, b)| a == b)
      .count();
  }
  let mut keyed: Vec<(u64, u32)> = slots
    .iter()
    .map(|&slot| {
      let key = table.key(slot);
      let mut word = [0u8; 8];
      let tail = &key[shared.min(key.len())..];
      let take = tail.len().min(8);
      word[..take].copy_from_slice(&tail[..take]);
      (u64::from_be_bytes(word), slot)
    })
    .collect();
  keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| compare(table, a.1, b.1)));
  slots.clear();
  slots.extend(keyed.into_iter().map(|(_, slot)| slot));
}

impl KeyTable {
  /// Brings the ordered view up to date with every key in the table, in one step (a
  /// refresh under way in steps is finished first).
  pub fn refresh_order(&mut self) {
    self.finish_refresh_now();
    if !self.order.built {
      let mut sorted: Vec<u32> = (0..self.entries.len() as u32)
        .filter(|&slot| self.entries[slot as usize].live != 0)
        .collect();
      sort_slots(self, &mut sorted);
      self.order.sorted = sorted;
      self.order.built = true;
      return;
    }
    if self.order.pending.is_empty() && self.order.dead.is_empty() {
      return;
    }
    let entries: &[Entry] = &self.entries;
    let mut sorted = std::mem::take(&mut self.order.sorted);
    sorted.retain(|&slot| entries[slot as usize].live != 0);
    let mut pending = std::mem::take(&mut self.order.pending);
    // A pending slot removed again before this merge is dead: drop it too.
    pending.retain(|&slot| entries[slot as usize].live != 0);
    sort_slots(self, &mut pending);
    self.order.sorted = merge(self, sorted, pending);
    let dead = std::mem::take(&mut self.order.dead);
    self.release(&dead);
  }

  /// The index in the sorted view of the first key after `bound` (going up).
  fn lower_index(&self, bound: Bound<&[u8]>) -> usize {
    let sorted = &self.order.sorted;
    match bound {
      Bound::Unbounded => 0,
      Bound::Included(key) => sorted.partition_point(|&slot| self.key(slot) < key),
      Bound::Excluded(key) => sorted.partition_point(|&slot| self.key(slot) <= key),
    }
  }

  /// One past the index of the last key before `bound` (going up).
  fn upper_index(&self, bound: Bound<&[u8]>) -> usize {
    let sorted = &self.order.sorted;
    match bound {
      Bound::Unbounded => sorted.len(),
      Bound::Included(key) => sorted.partition_point(|&slot| self.key(slot) <= key),
      Bound::Excluded(key) => sorted.partition_point(|&slot| self.key(slot) < key),
    }
  }

  /// Calls `visit` for slots in key order within the bounds (descending when `reverse`)
  /// until it returns false. The caller refreshed the view.
  pub fn visit_range(
    &self,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
    mut visit: impl FnMut(u32) -> bool,
  ) {
    let start = self.lower_index(lower);
    let end = self.upper_index(upper);
    if start >= end {
      return;
    }
    let slots = &self.order.sorted[start..end];
    if reverse {
      for &slot in slots.iter().rev() {
        if !visit(slot) {
          return;
        }
      }
    } else {
      for &slot in slots {
        if !visit(slot) {
          return;
        }
      }
    }
  }
}

fn merge(table: &KeyTable, sorted: Vec<u32>, pending: Vec<u32>) -> Vec<u32> {
  if pending.is_empty() {
    return sorted;
  }
  let mut merged = Vec::with_capacity(sorted.len() + pending.len());
  let (mut i, mut j) = (0, 0);
  while i < sorted.len() && j < pending.len() {
    if compare(table, sorted[i], pending[j]) == Ordering::Less {
      merged.push(sorted[i]);
      i += 1;
    } else {
      merged.push(pending[j]);
      j += 1;
    }
  }
  merged.extend_from_slice(&sorted[i..]);
  merged.extend_from_slice(&pending[j..]);
  merged
}

impl Order {
  /// Takes slots already in key order (a checkpoint load) as the view.
  pub fn adopt_sorted(&mut self, sorted: Vec<u32>) {
    self.built = true;
    self.sorted = sorted;
    self.pending.clear();
    self.dead.clear();
    self.refresh = None;
  }
}
