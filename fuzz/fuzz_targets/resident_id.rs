#![no_main]
//! See nightmarket::fuzzing::resident_id.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::resident_id(data));
