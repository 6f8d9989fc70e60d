#![no_main]
//! See nightmarket::fuzzing::uscc.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::uscc(data));
