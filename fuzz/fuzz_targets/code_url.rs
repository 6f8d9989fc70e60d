#![no_main]
//! See nightmarket_input::fuzzing::code_url.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::code_url(data));
