#![no_main]
//! See nightmarket_input::fuzzing::credential_event.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::credential_event(data));
