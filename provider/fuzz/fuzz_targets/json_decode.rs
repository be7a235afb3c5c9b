//! Fuzzes JSON `DynamicValue` decoding against a type derived from the first input bytes.
#![no_main]

use defender::protocol::value::decode_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (ty, rest) = defender_fuzz::split_type(data);
    if let Ok(v) = decode_json(rest, &ty) {
        defender_fuzz::check_decoded(&v, &ty);
    }
});
