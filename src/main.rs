//! The `eksmon` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    eksmon::main()
}
