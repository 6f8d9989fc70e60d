#![no_main]
//! See nightmarket_input::fuzzing::open311_form.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::open311_form(data));
