#![no_main]
//! See nightmarket::fuzzing::opening_hours.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket::fuzzing::opening_hours(data));
