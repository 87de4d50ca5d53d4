//! The `seqlab` binary: fix the BLAS kernel, parse the command line, dispatch.

fn main() -> std::process::ExitCode {
    // must run before anything else: it may restart the process with a better kernel
    seqlab::blas::ensure_fast_kernel();
    seqlab::cli::main()
}
