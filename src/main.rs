//! The crossgrant binary: the command line runs the library, and its result is the exit code.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = crossgrant::cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}

/// crossgrant allocates many small strings and frees them in bursts; glibc's allocator spends
/// most of a large run consolidating its free lists, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
