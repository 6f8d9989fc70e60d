#![no_main]
//! See nightmarket::fuzzing::geofence.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::geofence(data));
