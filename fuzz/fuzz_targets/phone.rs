#![no_main]
//! See nightmarket::fuzzing::phone.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::phone(data));
