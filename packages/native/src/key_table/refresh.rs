//! Bringing the ordered view up to date a bounded step at a time, for callers that must
//! not block (wal-kv's checkpoints run on the event loop between writes). The table may
//! change between steps; the view in use stays as it was until the last step swaps in
//! the new one, so ranges walked meanwhile see what they saw before.
//!
//! The work is a merge sort over runs of slots: the current view is one run (when there
//! is one); the keys to add (the pending ones, or every key for a first build) are
//! sorted `SORT_CHUNK` at a time into more runs; then the two shortest runs are merged,
//! `MERGE_STEP` slots per step, until one is left. Slots whose key was removed are
//! dropped as the merges meet them, and the result goes through one last merge if the
//! current view was never merged, so no slot removed before the refresh began survives.
//!
//! What keeps this correct while the table changes between steps:
//! - a key added meanwhile is noted as pending for the next refresh, never put in a run;
//! - a key removed meanwhile is only marked dead: its slot is not freed (so not reused
//!   with another key) until a later refresh has dropped it, because a run or the
//!   result may already name it; merges compare live keys only, and a live slot's key
//!   never changes;
//! - during a first build, which walks the slots as they are, freed slots are not
//!   reused at all, so that a key added meanwhile cannot appear in a slot still to be
//!   walked (and so twice in the view);
//! - the view is not dropped (see `Order::inserted` / `removed`) while a refresh runs.

use super::order::sort_slots;
use super::KeyTable;
use std::cmp::Ordering;

/// Slots sorted per step into a run (about a millisecond).
const SORT_CHUNK: usize = 16 * 1024;
/// Slots moved per step of a merge.
const MERGE_STEP: usize = 16 * 1024;

enum Run {
  /// The ordered view in use: never copied, read where it is.
  Current,
  /// Sorted slots, each live when it was placed.
  Owned(Vec<u32>),
}

struct Merge {
  a: Run,
  b: Run,
  i: usize,
  j: usize,
  out: Vec<u32>,
}

pub struct Refresh {
  /// A first build: the slots below `scan_end` not yet walked start at `scan_at`.
  full: bool,
  scan_at: usize,
  scan_end: usize,
  /// Pending keys taken at the start, sorted into runs a chunk at a time.
  unsorted: Vec<u32>,
  unsorted_at: usize,
  runs: Vec<Run>,
  merge: Option<Merge>,
  /// Slots removed before the refresh began: freed once the new view (which drops them) is in use.
  dead: Vec<u32>,
}

impl Refresh {
  /// Whether freed slots must not be reused (a first build walks the slots).
  pub fn walks_slots(&self) -> bool {
    self.full
  }
}

fn run_len(table: &KeyTable, run: &Run) -> usize {
  match run {
    Run::Current => table.order.sorted.len(),
    Run::Owned(slots) => slots.len(),
  }
}

fn run_slots<'a>(table: &'a KeyTable, run: &'a Run) -> &'a [u32] {
  match run {
    Run::Current => &table.order.sorted,
    Run::Owned(slots) => slots,
  }
}

impl KeyTable {
  /// Does about `budget` slots' worth of refreshing, in steps of at most a few
  /// milliseconds each; returns true once the ordered view is up to date (nothing left).
  pub fn refresh_order_step(&mut self, budget: usize) -> bool {
    let mut refresh = match self.order.refresh.take() {
      Some(refresh) => refresh,
      None => match self.begin_refresh() {
        Some(refresh) => refresh,
        None => return true,
      },
    };
    let mut spent = 0;
    loop {
      if spent >= budget {
        self.order.refresh = Some(refresh);
        return false;
      }
      match self.refresh_once(&mut refresh) {
        Some(units) => spent += units.max(1),
        None => {
          self.finish_refresh(*refresh);
          return true;
        }
      }
    }
  }

  /// Runs the refresh under way, if any, to its end.
  pub fn finish_refresh_now(&mut self) {
    while self.order.refresh.is_some() {
      self.refresh_order_step(usize::MAX);
    }
  }

  fn begin_refresh(&mut self) -> Option<Box<Refresh>> {
    let full = !self.order.built;
    if !full && self.order.pending.is_empty() && self.order.dead.is_empty() {
      return None;
    }
    Some(Box::new(Refresh {
      full,
      scan_at: 0,
      scan_end: if full { self.entries.len() } else { 0 },
      unsorted: std::mem::take(&mut self.order.pending),
      unsorted_at: 0,
      runs: if full { Vec::new() } else { vec![Run::Current] },
      merge: None,
      dead: std::mem::take(&mut self.order.dead),
    }))
  }

  /// One bounded step; returns the slots it handled, or None when there is nothing left to do.
  fn refresh_once(&self, refresh: &mut Refresh) -> Option<usize> {
    if refresh.scan_at < refresh.scan_end {
      let end = (refresh.scan_at + SORT_CHUNK).min(refresh.scan_end);
      let run = self.sorted_run(refresh.scan_at as u32..end as u32);
      refresh.runs.push(run);
      refresh.scan_at = end;
      return Some(SORT_CHUNK);
    }
    if refresh.unsorted_at < refresh.unsorted.len() {
      let end = (refresh.unsorted_at + SORT_CHUNK).min(refresh.unsorted.len());
      let run = self.sorted_run(refresh.unsorted[refresh.unsorted_at..end].iter().copied());
      refresh.runs.push(run);
      refresh.unsorted_at = end;
      return Some(SORT_CHUNK);
    }
    if let Some(merge) = refresh.merge.as_mut() {
      let moved = self.merge_some(merge);
      if merge.i == run_len(self, &merge.a) && merge.j == run_len(self, &merge.b) {
        let done = refresh.merge.take().expect("a merge under way");
        refresh.runs.push(Run::Owned(done.out));
      }
      return Some(moved);
    }
    // The current view alone still names the slots removed before the refresh began.
    let needs_filter = matches!(refresh.runs.as_slice(), [Run::Current]);
    if refresh.runs.len() >= 2 || needs_filter {
      // The two shortest runs (merging small ones first keeps the total work low); the
      // current view alone is merged with an empty run to drop its removed slots.
      refresh
        .runs
        .sort_by_key(|run| std::cmp::Reverse(run_len(self, run)));
      let a = refresh.runs.pop().expect("a run");
      let b = refresh.runs.pop().unwrap_or(Run::Owned(Vec::new()));
      let capacity = run_len(self, &a) + run_len(self, &b);
      refresh.merge = Some(Merge {
        a,
        b,
        i: 0,
        j: 0,
        out: Vec::with_capacity(capacity),
      });
      return Some(0);
    }
    None
  }

  /// The live ones of `slots`, sorted by key.
  fn sorted_run(&self, slots: impl Iterator<Item = u32>) -> Run {
    let mut slots: Vec<u32> = slots.filter(|&slot| self.is_live(slot)).collect();
    sort_slots(self, &mut slots);
    Run::Owned(slots)
  }

  /// Moves up to MERGE_STEP slots of `merge` into its output, dropping removed ones.
  fn merge_some(&self, merge: &mut Merge) -> usize {
    let a = run_slots(self, &merge.a);
    let b = run_slots(self, &merge.b);
    let (mut i, mut j) = (merge.i, merge.j);
    let stop = i + j + MERGE_STEP;
    while i + j < stop {
      if i < a.len() && !self.is_live(a[i]) {
        i += 1;
      } else if j < b.len() && !self.is_live(b[j]) {
        j += 1;
      } else if i < a.len()
        && (j == b.len() || self.key(a[i]).cmp(self.key(b[j])) == Ordering::Less)
      {
        merge.out.push(a[i]);
        i += 1;
      } else if j < b.len() {
        merge.out.push(b[j]);
        j += 1;
      } else {
        break;
      }
    }
    let moved = i + j - merge.i - merge.j;
    merge.i = i;
    merge.j = j;
    moved
  }

  /// Swaps in the new view and frees the slots removed before the refresh began.
  fn finish_refresh(&mut self, mut refresh: Refresh) {
    let sorted = match refresh.runs.pop() {
      Some(Run::Owned(slots)) => slots,
      Some(Run::Current) => std::mem::take(&mut self.order.sorted),
      None => Vec::new(),
    };
    self.order.sorted = sorted;
    self.order.built = true;
    self.release(&refresh.dead);
  }
}
