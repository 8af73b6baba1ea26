#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::config_hcl`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| boundary_fuzz_targets::config_hcl::config_hcl(data));
