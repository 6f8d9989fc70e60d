#![no_main]
//! See nightmarket::fuzzing::record_code.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::record_code(data));
