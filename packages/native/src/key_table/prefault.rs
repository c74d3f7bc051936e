//! First touches of a checkpoint load's fresh memory, on a second thread. A load of 10M
//! keys fills about 700 MB of memory it has just allocated (entries, buckets, the tags it
//! sorts and the ordered view), and the kernel's share of that load is mostly one fault
//! per page first touched. Here another thread asks the kernel to back those pages
//! (`MADV_POPULATE_WRITE`) a little ahead of the loading thread, so that the faults run
//! on the second core while the first parses and checks the chunks.
//!
//! Nothing here reads or writes the memory itself: populating a page that is already
//! backed leaves it as it is, and a page that is not gets the zeroes a first write would
//! have found. The loading thread may write the same pages meanwhile (the kernel
//! serialises the two faults). Pure memory management: no file is touched.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes populated per call: one huge page, so that the stop flag is seen within about
/// a millisecond and the loading thread, which fills the same arrays from their start,
/// waits on at most this much when it catches up.
const STEP_BYTES: usize = 2 << 20;
/// Loads whose fresh memory is smaller than this fault it in on their own thread: a
/// thread costs tens of microseconds to start, a page fault well under one.
pub const PREFAULT_BYTES_MIN: usize = 16 << 20;

/// A span of fresh memory of one array: its start address and length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
  start: usize,
  bytes: usize,
}

impl Region {
  /// The capacity of `items` beyond its length: where it is about to grow.
  pub fn spare_of<T>(items: &Vec<T>) -> Region {
    let size = std::mem::size_of::<T>();
    Region {
      start: items.as_ptr() as usize + items.len() * size,
      bytes: (items.capacity() - items.len()) * size,
    }
  }

  /// The whole of `items` (its length): an array allocated zeroed and not touched yet.
  pub fn all_of<T>(items: &[T]) -> Region {
    Region {
      start: items.as_ptr() as usize,
      bytes: std::mem::size_of_val(items),
    }
  }

  pub fn bytes(&self) -> usize {
    self.bytes
  }
}

/// The thread faulting regions in; stopped and joined when dropped, so the arrays it
/// works on must outlive it (their owner drops it first).
pub struct Prefault {
  stop: Arc<AtomicBool>,
  thread: Option<JoinHandle<()>>,
}

impl Prefault {
  /// Starts faulting in `groups`, one group after the other; the regions of one group
  /// side by side, each in proportion to its size (they are filled at the same pace).
  /// None when there is too little to do or no thread can be started: the loading
  /// thread then faults its pages in itself, as it would anyway.
  pub fn start(groups: Vec<Vec<Region>>) -> Option<Prefault> {
    let total: usize = groups.iter().flatten().map(Region::bytes).sum();
    if total < PREFAULT_BYTES_MIN || !cfg!(target_os = "linux") {
      return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
      .name("keel-prefault".to_owned())
      .spawn(move || {
        for group in groups {
          if !populate_group(&group, &stopped) {
            return;
          }
        }
      })
      .ok()?;
    Some(Prefault {
      stop,
      thread: Some(thread),
    })
  }
}

impl Drop for Prefault {
  fn drop(&mut self) {
    self.stop.store(true, Ordering::Relaxed);
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}

/// Populates the regions of one group in STEP_BYTES steps of the largest, the others
/// keeping pace; false when stopped, or when the kernel refuses (then it would refuse
/// the rest as well: too old for `MADV_POPULATE_WRITE`).
fn populate_group(group: &[Region], stop: &AtomicBool) -> bool {
  let largest = group.iter().map(Region::bytes).max().unwrap_or(0);
  let steps = largest.div_ceil(STEP_BYTES);
  for step in 0..steps {
    if stop.load(Ordering::Relaxed) {
      return false;
    }
    for region in group {
      let from = region.bytes * step / steps;
      let to = region.bytes * (step + 1) / steps;
      if !populate(region.start + from, to - from) {
        return false;
      }
    }
  }
  true
}

/// Backs the whole pages inside `[start, start + bytes)` with memory, as a write would.
fn populate(start: usize, bytes: usize) -> bool {
  const PAGE_BYTES: usize = 4096;
  let first = (start + PAGE_BYTES - 1) & !(PAGE_BYTES - 1);
  let end = (start + bytes) & !(PAGE_BYTES - 1);
  if end <= first {
    return true;
  }
  #[cfg(target_os = "linux")]
  // SAFETY: MADV_POPULATE_WRITE changes no byte of memory a program can see (module
  // comment); the range lies inside an array whose owner outlives this thread.
  unsafe {
    libc::madvise(
      first as *mut libc::c_void,
      end - first,
      libc::MADV_POPULATE_WRITE,
    ) == 0
  }
  #[cfg(not(target_os = "linux"))]
  false
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn populating_keeps_what_is_written_and_gives_zeroes_elsewhere() {
    let length = PREFAULT_BYTES_MIN / 8 * 3;
    let mut written: Vec<u64> = Vec::with_capacity(length);
    written.extend((0..length as u64 / 2).map(|item| item * 7 + 1));
    let zeros = vec![0u64; length];
    let prefault = Prefault::start(vec![
      vec![Region::spare_of(&written)],
      vec![Region::all_of(&zeros)],
    ]);
    assert_eq!(prefault.is_some(), cfg!(target_os = "linux"));
    // The loading thread goes on writing while the other thread populates.
    written.extend((length as u64 / 2..length as u64).map(|item| item * 7 + 1));
    drop(prefault);
    assert!(written
      .iter()
      .enumerate()
      .all(|(at, &item)| item == at as u64 * 7 + 1));
    assert!(zeros.iter().all(|&item| item == 0));
  }

  #[test]
  fn too_little_memory_starts_no_thread() {
    let small: Vec<u64> = Vec::with_capacity(1024);
    assert!(Prefault::start(vec![vec![Region::spare_of(&small)]]).is_none());
  }
}
