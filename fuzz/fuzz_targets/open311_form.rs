#![no_main]
//! See nightmarket::fuzzing::open311_form.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::open311_form(data));
