#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::api_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| boundary_fuzz_targets::api_request::api_request(data));
