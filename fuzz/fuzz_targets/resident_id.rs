#![no_main]
//! See nightmarket_input::fuzzing::resident_id.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::resident_id(data));
