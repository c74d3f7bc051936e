//! The N-API surface, one file per concern; everything below `crate::api` only
//! converts arguments and results, the work happens in the compute modules.

mod checksums;
mod file;
mod key_table;
mod key_table_read;
mod memory;
mod paths;
mod sync_thread;

use napi::bindgen_prelude::Env;

use crate::error::{Failure, Outcome};

/// Throws the failure as a JS error object (code, errno, syscall, path).
fn throw<T>(env: &Env, outcome: Outcome<T>) -> napi::Result<T> {
  outcome.map_err(|failure: Failure| failure.into_napi(env))
}
