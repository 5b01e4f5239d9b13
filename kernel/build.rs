//! Links the kernel with its own linker script.
fn main() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../linker/kernel.ld");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
}
