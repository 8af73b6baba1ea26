#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::dns_forward`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| boundary_fuzz_targets::dns_forward::dns_forward(data));
