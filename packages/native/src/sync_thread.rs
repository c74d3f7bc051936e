//! A thread of its own for fdatasync / fsync: the compute half of `SyncThread`.
//!
//! The libuv threadpool serves every async call of the process, and each call pays a
//! queue, a condition-variable wake of a pooled thread and a wake of the event loop. A
//! writer that syncs one record at a time asks again within microseconds of being told
//! the last sync finished, so this thread may spin for a bounded time before it parks:
//! a request that arrives while it spins costs no wake-up at all.
//!
//! Requests are coalesced: every request queued when the thread takes its next batch was
//! made before the sync it then runs began, so one sync per file answers all of that
//! file's requests (an fsync where any of them asked for one). Results leave in one
//! delivery per batch. Nothing here knows about N-API: the caller passes a `deliver`
//! closure and a `finished` closure (see `api::sync_thread`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{custom, Outcome, CODE_CLOSED};
use crate::io::{self, Handle};

/// Longest spin a caller may ask for: beyond a millisecond a parked wake-up is cheap in
/// comparison, and the spin only burns a core.
pub const SPIN_MICROSECONDS_MAX: u32 = 1_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SyncKind {
  /// fdatasync(2): the data and the metadata needed to read it back.
  Data,
  /// fsync(2): also every other metadata change (times, mode).
  Full,
}

struct Request<T> {
  handle: Arc<Handle>,
  kind: SyncKind,
  token: T,
}

struct Queue<T> {
  requests: VecDeque<Request<T>>,
  stopping: bool,
  parked: bool,
}

struct Shared<T> {
  queue: Mutex<Queue<T>>,
  wake: Condvar,
  /// Set with every request and at stop, read by the spinning thread without the lock.
  signalled: AtomicBool,
}

/// What the thread hands back: each request's token with the outcome of the sync that
/// covered it.
pub type Batch<T> = Vec<(T, Outcome<()>)>;

/// The owner's end of the thread. Dropping it stops the thread once its queue is done.
pub struct Syncer<T: Send + 'static> {
  shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Syncer<T> {
  /// Starts the thread. `deliver` runs on it after every batch; `finished` runs on it
  /// once, last, after `stop` and the final batch.
  pub fn start(
    spin_microseconds: u32,
    deliver: impl FnMut(Batch<T>) + Send + 'static,
    finished: impl FnOnce() + Send + 'static,
  ) -> Outcome<Self> {
    let spin = Duration::from_micros(u64::from(spin_microseconds.min(SPIN_MICROSECONDS_MAX)));
    let shared = Arc::new(Shared {
      queue: Mutex::new(Queue {
        requests: VecDeque::new(),
        stopping: false,
        parked: false,
      }),
      wake: Condvar::new(),
      signalled: AtomicBool::new(false),
    });
    let worker = Arc::clone(&shared);
    std::thread::Builder::new()
      .name("keel-sync".to_owned())
      .spawn(move || {
        run(&worker, spin, deliver);
        finished();
      })
      .map_err(|error| crate::error::from_io(&error, "pthread_create", None))?;
    Ok(Syncer { shared })
  }

  /// Queues a sync of `handle`; `ECLOSED` once `stop` was called.
  pub fn submit(&self, handle: Arc<Handle>, kind: SyncKind, token: T) -> Outcome<()> {
    let mut queue = self.shared.queue.lock().expect("sync queue poisoned");
    if queue.stopping {
      return Err(custom(
        CODE_CLOSED,
        libc::EBADF,
        "sync thread is closed",
        syscall_of(kind),
        Some(&handle.path),
      ));
    }
    queue.requests.push_back(Request {
      handle,
      kind,
      token,
    });
    self.shared.signalled.store(true, Ordering::Release);
    let parked = queue.parked;
    drop(queue);
    // A spinning thread sees `signalled`; only a parked one needs the futex wake.
    if parked {
      self.shared.wake.notify_one();
    }
    Ok(())
  }

  /// Refuses new requests; the thread finishes those queued, then exits. Idempotent.
  pub fn stop(&self) {
    self.stopper().stop();
  }

  /// A handle that can stop the thread from elsewhere (when the environment goes away).
  pub fn stopper(&self) -> Stopper<T> {
    Stopper {
      shared: Arc::clone(&self.shared),
    }
  }
}

/// `Syncer::stop` without the `Syncer`.
pub struct Stopper<T> {
  shared: Arc<Shared<T>>,
}

impl<T> Stopper<T> {
  pub fn stop(&self) {
    let mut queue = self.shared.queue.lock().expect("sync queue poisoned");
    queue.stopping = true;
    self.shared.signalled.store(true, Ordering::Release);
    drop(queue);
    self.shared.wake.notify_one();
  }
}

impl<T: Send + 'static> Drop for Syncer<T> {
  fn drop(&mut self) {
    self.stop();
  }
}

fn syscall_of(kind: SyncKind) -> &'static str {
  match kind {
    SyncKind::Data => "fdatasync",
    SyncKind::Full => "fsync",
  }
}

fn run<T>(shared: &Shared<T>, spin: Duration, mut deliver: impl FnMut(Batch<T>)) {
  while let Some(requests) = next_batch(shared, spin) {
    deliver(sync_all(requests));
  }
}

/// Waits for work: spins up to `spin` watching `signalled`, then parks. `None` once
/// stopped with nothing left to do.
fn next_batch<T>(shared: &Shared<T>, spin: Duration) -> Option<VecDeque<Request<T>>> {
  if !spin.is_zero() {
    let deadline = Instant::now() + spin;
    while !shared.signalled.load(Ordering::Acquire) && Instant::now() < deadline {
      std::hint::spin_loop();
    }
  }
  let mut queue = shared.queue.lock().expect("sync queue poisoned");
  loop {
    if !queue.requests.is_empty() {
      shared.signalled.store(queue.stopping, Ordering::Release);
      return Some(std::mem::take(&mut queue.requests));
    }
    if queue.stopping {
      return None;
    }
    queue.parked = true;
    queue = shared.wake.wait(queue).expect("sync queue poisoned");
    queue.parked = false;
  }
}

/// One sync per distinct file in the batch (the strongest asked for), its outcome
/// given to every request for that file, in the order the files were first asked for.
fn sync_all<T>(requests: VecDeque<Request<T>>) -> Batch<T> {
  let mut groups: Vec<(Arc<Handle>, SyncKind, Vec<T>)> = Vec::new();
  for request in requests {
    match groups
      .iter_mut()
      .find(|(handle, _, _)| Arc::ptr_eq(handle, &request.handle))
    {
      Some(group) => {
        if request.kind == SyncKind::Full {
          group.1 = SyncKind::Full;
        }
        group.2.push(request.token);
      }
      None => groups.push((request.handle, request.kind, vec![request.token])),
    }
  }
  let mut batch = Vec::new();
  for (handle, kind, tokens) in groups {
    let outcome = match kind {
      SyncKind::Data => io::datasync(&handle),
      SyncKind::Full => io::fsync(&handle),
    };
    batch.extend(tokens.into_iter().map(|token| (token, outcome.clone())));
  }
  batch
}
