#![no_main]
//! See nightmarket_input::fuzzing::opening_hours.
libfuzzer_sys::fuzz_target!(|data: &[u8]| nightmarket_input::fuzzing::opening_hours(data));
