#![no_main]
//! See nightmarket_input::fuzzing::record_code.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::record_code(data));
