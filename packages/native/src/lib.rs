#![deny(clippy::all)]
//! `@keel/native`: the only code in keel that makes system calls.
//!
//! Layout: `api` is the N-API surface (the `NativeFile` class, `SyncThread`, path calls,
//! checksums, aligned memory), one file per concern. Below it, the compute modules:
//! `error` (one `map_error`, JS error objects), `io` (calls over a file descriptor),
//! `open`, `fs` (path-level calls), `copy` (kernel-side range copies), `map` (mmap),
//! `frames` (frame scan and seal), `crc_lanes` (three CRCs at once, for scanning and sealing), `key_table` (wal-kv's index), `task` (the async twin
//! of every blocking call on the libuv threadpool), `sync_thread` (fdatasync / fsync on
//! a thread of its own).

mod api;
mod copy;
mod crc_lanes;
mod error;
mod frames;
mod fs;
mod io;
mod key_table;
mod map;
mod open;
mod sync_thread;
mod task;
