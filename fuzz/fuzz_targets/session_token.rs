#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::session_token`.

libfuzzer_sys::fuzz_target!(
    |data: &[u8]| boundary_fuzz_targets::session_token::session_token(data)
);
