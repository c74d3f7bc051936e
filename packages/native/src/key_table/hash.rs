//! The table's hash: a folded 64×64→128-bit multiply per 8 key bytes (as in wyhash and
//! foldhash), seeded per table from the standard library's random hasher keys, so
//! that keys chosen to collide on one process do not collide on another.

use std::hash::{BuildHasher, RandomState};

const MULTIPLIER_A: u64 = 0xa076_1d64_78bd_642f;
const MULTIPLIER_B: u64 = 0xe703_7ed1_a0b4_28db;

pub fn random_seed() -> u64 {
  RandomState::new().hash_one(0x6b65_656c_u64)
}

fn fold(a: u64, b: u64) -> u64 {
  let product = (a as u128) * (b as u128);
  (product as u64) ^ ((product >> 64) as u64)
}

pub fn hash(seed: u64, key: &[u8]) -> u64 {
  let mut state = seed ^ (key.len() as u64).wrapping_mul(MULTIPLIER_B);
  let mut words = key.chunks_exact(8);
  for word in &mut words {
    let value = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
    state = fold(state ^ value, MULTIPLIER_A);
  }
  let rest = words.remainder();
  if !rest.is_empty() {
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    state = fold(state ^ u64::from_le_bytes(tail), MULTIPLIER_A);
  }
  fold(state ^ MULTIPLIER_B, (MULTIPLIER_A ^ seed) | 1)
}
