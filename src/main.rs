//! The `podmeta` binary: the command line is the library's (`podmeta::cli`).

/// mimalloc rather than glibc's allocator: under connection churn glibc's heap keeps the
/// pages of freed connection buffers and places new ones across them, so memory per
/// connection grows over time; mimalloc, with transparent huge pages off (its `no_thp`
/// feature), holds it steady (`bench/RESULTS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    podmeta::cli::main(std::env::args_os())
}
