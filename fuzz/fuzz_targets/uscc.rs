#![no_main]
//! See nightmarket_input::fuzzing::uscc.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::uscc(data));
