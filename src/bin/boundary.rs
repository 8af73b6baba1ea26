//! `boundary`: the admin CLI, `dev`, `controller`, `worker`, `connect` and `client-agent`.

fn main() {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(boundary::cli::main_with_args(std::env::args().collect()));
    std::process::exit(code);
}
