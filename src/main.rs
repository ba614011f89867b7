//! The `podmeta` binary: the command line is the library's (`podmeta::cli`).

fn main() -> std::process::ExitCode {
    podmeta::cli::main(std::env::args_os())
}
