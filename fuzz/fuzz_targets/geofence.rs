#![no_main]
//! See nightmarket_input::fuzzing::geofence.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::geofence(data));
