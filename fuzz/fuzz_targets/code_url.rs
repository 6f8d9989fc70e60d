#![no_main]
//! See nightmarket::fuzzing::code_url.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::code_url(data));
