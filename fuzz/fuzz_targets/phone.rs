#![no_main]
//! See nightmarket_input::fuzzing::phone.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::phone(data));
