//! One `AsyncTask` shape for every blocking call.
//!
//! Each operation has a single compute function (e.g. `file::write_all`) that its
//! `…Sync` method calls directly on the JS thread and its async method runs here on
//! the libuv threadpool. The closure owns everything it touches (an `Arc` of the file,
//! napi `Uint8Array` references that keep JS memory alive), so nothing borrowed
//! crosses threads.

use napi::bindgen_prelude::{Env, ToNapiValue, TypeName};
use napi::Task;

use crate::error::Outcome;

type Work<T> = Box<dyn FnOnce() -> Outcome<T> + Send>;

pub struct Blocking<T: Send + 'static> {
  work: Option<Work<T>>,
}

impl<T: Send + 'static> Blocking<T> {
  pub fn new(work: impl FnOnce() -> Outcome<T> + Send + 'static) -> Self {
    Blocking {
      work: Some(Box::new(work)),
    }
  }
}

impl<T> Task for Blocking<T>
where
  T: Send + ToNapiValue + TypeName + 'static,
{
  // The failure travels to the JS thread as data: only there can it become an Error
  // object with `code`/`errno`/`syscall`/`path`.
  type Output = Outcome<T>;
  type JsValue = T;

  fn compute(&mut self) -> napi::Result<Self::Output> {
    // A task is scheduled once; running it twice is a programmer error.
    let work = self.work.take().expect("Blocking task computed twice");
    Ok(work())
  }

  fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
    output.map_err(|failure| failure.into_napi(&env))
  }
}
