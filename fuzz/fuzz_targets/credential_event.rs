#![no_main]
//! See nightmarket::fuzzing::credential_event.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::credential_event(data));
