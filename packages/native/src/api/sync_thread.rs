//! `SyncThread`: fdatasync / fsync of `NativeFile`s on a thread of its own instead of
//! the libuv threadpool (the thread itself is `crate::sync_thread`).
//!
//! Each call returns a promise made with `napi_create_promise`; its deferred travels to
//! the thread with the request and comes back, settled on the JS thread, through one
//! threadsafe function per `SyncThread` (one per promise, as napi-rs's `JsDeferred`
//! makes, would cost a uv handle per sync). The threadsafe function is referenced only
//! while syncs are in flight, so an idle `SyncThread` never keeps the process alive.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Env, PromiseRaw};
use napi::{sys, JsValue};
use napi_derive::napi;

use super::file::NativeFile;
use super::throw;
use crate::error::{custom, invalid, Failure, CODE_CLOSED};
use crate::sync_thread::{Batch, Stopper, SyncKind, Syncer, SPIN_MICROSECONDS_MAX};

/// A promise's deferred on its way to the sync thread and back; it is only ever
/// settled on the JS thread.
struct Deferred(sys::napi_deferred);
// SAFETY: the sync thread only carries the pointer; `settle` uses it on the JS thread.
unsafe impl Send for Deferred {}

struct Completions(sys::napi_threadsafe_function);
// SAFETY: calling and releasing a threadsafe function from any thread is its purpose.
unsafe impl Send for Completions {}

/// The threadsafe function while it may be called. Whichever comes first clears it under
/// the lock: the sync thread releasing it as it exits, or Node finalizing it when the
/// environment tears down; so the thread never calls one that is freed.
type Gate = Arc<Mutex<Option<Completions>>>;

/// JS-thread state of one `SyncThread`: the context of its threadsafe function.
struct Main {
  completions: Cell<sys::napi_threadsafe_function>,
  in_flight: Cell<u32>,
  finalized: Cell<bool>,
  /// Stops the thread when the environment tears down before the `SyncThread` is dropped
  /// (a worker thread terminated): nobody could be told of another sync anyway.
  stopper: RefCell<Option<Stopper<Deferred>>>,
}

/// What the threadsafe function's finalizer takes back.
struct Finalize {
  gate: Gate,
  main: Rc<Main>,
}

#[napi(object)]
#[derive(Default)]
pub struct SyncThreadOptions {
  /// How long the thread spins for the next request before it parks (0 to 1000 µs,
  /// default 0).
  pub spin_microseconds: Option<u32>,
}

#[napi]
pub struct SyncThread {
  syncer: RefCell<Option<Syncer<Deferred>>>,
  main: Rc<Main>,
  spin_microseconds: u32,
}

#[napi]
impl SyncThread {
  #[napi(constructor)]
  pub fn new(env: Env, options: Option<SyncThreadOptions>) -> napi::Result<Self> {
    let spin_microseconds = options.unwrap_or_default().spin_microseconds.unwrap_or(0);
    if spin_microseconds > SPIN_MICROSECONDS_MAX {
      let failure = invalid("spinMicroseconds must be at most 1000", "SyncThread", None);
      return throw(&env, Err(failure));
    }
    let main = Rc::new(Main {
      completions: Cell::new(ptr::null_mut()),
      in_flight: Cell::new(0),
      finalized: Cell::new(false),
      stopper: RefCell::new(None),
    });
    let gate = create_completions(&env, &main)?;
    let deliver_gate = Arc::clone(&gate);
    let finish_gate = Arc::clone(&gate);
    let started = Syncer::start(
      spin_microseconds,
      move |batch| deliver(&deliver_gate, batch),
      move || release(&finish_gate),
    );
    if started.is_err() {
      release(&gate);
    }
    let syncer = throw(&env, started)?;
    *main.stopper.borrow_mut() = Some(syncer.stopper());
    Ok(SyncThread {
      syncer: RefCell::new(Some(syncer)),
      main,
      spin_microseconds,
    })
  }

  #[napi(getter)]
  pub fn spin_microseconds(&self) -> u32 {
    self.spin_microseconds
  }

  #[napi(getter)]
  pub fn closed(&self) -> bool {
    self.syncer.borrow().is_none()
  }

  /// fdatasync of `file` on this thread.
  #[napi(ts_return_type = "Promise<void>")]
  pub fn datasync<'env>(
    &self,
    env: &'env Env,
    file: &NativeFile,
  ) -> napi::Result<PromiseRaw<'env, ()>> {
    self.submit(env, file, SyncKind::Data, "fdatasync")
  }

  /// fsync of `file` on this thread.
  #[napi(ts_return_type = "Promise<void>")]
  pub fn fsync<'env>(
    &self,
    env: &'env Env,
    file: &NativeFile,
  ) -> napi::Result<PromiseRaw<'env, ()>> {
    self.submit(env, file, SyncKind::Full, "fsync")
  }

  /// Refuses new syncs; those already asked for still run and settle, then the thread
  /// exits. Never waits. A second close throws `ECLOSED`.
  #[napi]
  pub fn close(&self, env: Env) -> napi::Result<()> {
    match self.syncer.borrow_mut().take() {
      Some(syncer) => {
        syncer.stop();
        Ok(())
      }
      None => throw(&env, Err(closed("close"))),
    }
  }

  fn submit<'env>(
    &self,
    env: &'env Env,
    file: &NativeFile,
    kind: SyncKind,
    syscall: &'static str,
  ) -> napi::Result<PromiseRaw<'env, ()>> {
    let handle = throw(env, file.handle(syscall))?;
    let syncer = self.syncer.borrow();
    let Some(syncer) = syncer.as_ref() else {
      return throw(env, Err(closed(syscall)));
    };
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: plain N-API call on the JS thread with valid out-pointers.
    check(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    self.hold(env);
    if let Err(failure) = syncer.submit(handle, kind, Deferred(deferred)) {
      // Only a stopped syncer refuses, and a stopped one is no longer held here.
      self.unhold(env, 1);
      settle(env, Deferred(deferred), Err(failure));
    }
    Ok(PromiseRaw::new(env.raw(), promise))
  }

  /// Keeps the event loop alive while a sync is in flight.
  fn hold(&self, env: &Env) {
    let in_flight = self.main.in_flight.get();
    self.main.in_flight.set(in_flight + 1);
    if in_flight == 0 && !self.main.finalized.get() {
      // SAFETY: on the JS thread, on a threadsafe function not yet finalized.
      unsafe { sys::napi_ref_threadsafe_function(env.raw(), self.main.completions.get()) };
    }
  }

  fn unhold(&self, env: &Env, settled: u32) {
    unhold(env, &self.main, settled);
  }
}

fn closed(syscall: &'static str) -> Failure {
  custom(
    CODE_CLOSED,
    libc::EBADF,
    "sync thread is closed",
    syscall,
    None,
  )
}

fn check(status: sys::napi_status) -> napi::Result<()> {
  if status == sys::Status::napi_ok {
    return Ok(());
  }
  Err(napi::Error::new(
    napi::Status::from(status),
    "N-API call failed in SyncThread",
  ))
}

fn unhold(env: &Env, main: &Main, settled: u32) {
  let in_flight = main.in_flight.get().saturating_sub(settled);
  main.in_flight.set(in_flight);
  if in_flight == 0 && !main.finalized.get() {
    // SAFETY: on the JS thread, on a threadsafe function not yet finalized.
    unsafe { sys::napi_unref_threadsafe_function(env.raw(), main.completions.get()) };
  }
}

/// Creates the threadsafe function (unreferenced: idle, it must not keep the process
/// alive) and returns its gate.
fn create_completions(env: &Env, main: &Rc<Main>) -> napi::Result<Gate> {
  let gate: Gate = Arc::new(Mutex::new(None));
  let name = env.create_string("keel-sync-thread")?;
  let finalize_data = Box::into_raw(Box::new(Finalize {
    gate: Arc::clone(&gate),
    main: Rc::clone(main),
  }));
  let mut completions = ptr::null_mut();
  // SAFETY: on the JS thread; `main` outlives the threadsafe function because
  // `finalize_data` holds an `Rc` of it until `finalize` runs.
  let status = unsafe {
    sys::napi_create_threadsafe_function(
      env.raw(),
      ptr::null_mut(),
      ptr::null_mut(),
      name.raw(),
      0,
      1,
      finalize_data.cast(),
      Some(finalize),
      Rc::as_ptr(main) as *mut c_void,
      Some(call_js),
      &mut completions,
    )
  };
  if let Err(error) = check(status) {
    // SAFETY: not handed to Node, so still ours.
    drop(unsafe { Box::from_raw(finalize_data) });
    return Err(error);
  }
  main.completions.set(completions);
  // SAFETY: just created, on the JS thread.
  unsafe { sys::napi_unref_threadsafe_function(env.raw(), completions) };
  *gate.lock().expect("sync gate poisoned") = Some(Completions(completions));
  Ok(gate)
}

/// On the sync thread: hands a batch of results to the JS thread.
fn deliver(gate: &Gate, batch: Batch<Deferred>) {
  let guard = gate.lock().expect("sync gate poisoned");
  // Environment gone: nobody is left to tell, and its promises went with it.
  let Some(Completions(completions)) = guard.as_ref() else {
    return;
  };
  let data = Box::into_raw(Box::new(batch));
  // SAFETY: the gate guarantees the threadsafe function is not finalized.
  let status = unsafe {
    sys::napi_call_threadsafe_function(
      *completions,
      data.cast(),
      sys::ThreadsafeFunctionCallMode::nonblocking,
    )
  };
  if status != sys::Status::napi_ok {
    // Closing: the batch was not queued, so it is still ours to free.
    drop(unsafe { Box::from_raw(data) });
  }
}

/// On the sync thread, last: gives up its use of the threadsafe function.
fn release(gate: &Gate) {
  if let Some(Completions(completions)) = gate.lock().expect("sync gate poisoned").take() {
    // SAFETY: this thread holds the one thread count it was created with.
    unsafe {
      sys::napi_release_threadsafe_function(
        completions,
        sys::ThreadsafeFunctionReleaseMode::release,
      )
    };
  }
}

/// On the JS thread: settles every promise of a batch.
unsafe extern "C" fn call_js(
  env: sys::napi_env,
  _callback: sys::napi_value,
  context: *mut c_void,
  data: *mut c_void,
) {
  // SAFETY: `deliver` boxed exactly this type.
  let batch = unsafe { Box::from_raw(data.cast::<Batch<Deferred>>()) };
  if env.is_null() {
    return;
  }
  let env = Env::from_raw(env);
  let settled = batch.len() as u32;
  for (deferred, outcome) in *batch {
    settle(&env, deferred, outcome);
  }
  // SAFETY: the context is the `Main` kept alive by the finalize data until `finalize`.
  unhold(&env, unsafe { &*context.cast::<Main>() }, settled);
}

fn settle(env: &Env, deferred: Deferred, outcome: Result<(), Failure>) {
  let mut undefined = ptr::null_mut();
  // SAFETY: on the JS thread with a valid out-pointer.
  unsafe { sys::napi_get_undefined(env.raw(), &mut undefined) };
  let value = match &outcome {
    Ok(()) => undefined,
    Err(failure) => match failure.clone().into_object(env) {
      Ok(object) => object.raw(),
      // Out of memory building the error: the promise must still settle.
      Err(_) => undefined,
    },
  };
  // SAFETY: each deferred is settled exactly once, here, on the JS thread.
  unsafe {
    match outcome {
      Ok(()) => sys::napi_resolve_deferred(env.raw(), deferred.0, value),
      Err(_) => sys::napi_reject_deferred(env.raw(), deferred.0, value),
    }
  };
}

/// On the JS thread, once: the threadsafe function is gone (released, or torn down with
/// the environment); the sync thread must not call it again.
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: `create_completions` boxed exactly this type as the finalize data.
  let finalize = unsafe { Box::from_raw(data.cast::<Finalize>()) };
  finalize.main.finalized.set(true);
  finalize.gate.lock().expect("sync gate poisoned").take();
  let stopper = finalize.main.stopper.borrow_mut().take();
  if let Some(stopper) = stopper {
    stopper.stop();
  }
}
