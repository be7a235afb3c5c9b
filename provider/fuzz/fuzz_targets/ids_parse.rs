//! Fuzz target: see `defender_fuzz::fuzz_ids` (src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| defender_fuzz::fuzz_ids(data));
