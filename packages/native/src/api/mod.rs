//! The N-API surface, one file per concern; everything below `crate::api` only
//! converts arguments and results, the work happens in the compute modules.

mod bound_reader;
mod bound_reads;
mod checksums;
mod file;
mod fresh_memory;
mod key_table;
mod key_table_read;
mod mapped_log;
mod memory;
mod paths;
mod raw_value;
mod sync_thread;
mod value_run;

use napi::bindgen_prelude::Env;

use crate::error::{Failure, Outcome};

/// Throws the failure as a JS error object (code, errno, syscall, path).
fn throw<T>(env: &Env, outcome: Outcome<T>) -> napi::Result<T> {
  outcome.map_err(|failure: Failure| failure.into_napi(env))
}
