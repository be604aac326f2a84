//! Lays out the release binary's code so that what a stdio session runs sits together.
//!
//! `hot-symbols.txt` lists the functions a session executes (written by
//! `bench/layout/hot-symbols.sh`); the linker places them first in the text. The kernel maps
//! an executable's code 64 KiB at a time around each page it touches, so scattered code costs
//! resident memory for code that never runs: the order brings the resident code of a stdio
//! session from 4.6 MB to about 2.5 MB.
//!
//! Only for release builds linked by rust-lld, the default linker for x86_64 Linux from Rust
//! 1.90 (`--symbol-ordering-file` is an lld option). `SCALE_ADVISOR_SYMBOL_ORDER=0` turns it
//! off, for a build that uses another linker.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=hot-symbols.txt");
    println!("cargo:rerun-if-env-changed=SCALE_ADVISOR_SYMBOL_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let wanted = var("PROFILE") == "release"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && var("SCALE_ADVISOR_SYMBOL_ORDER") != "0"
        && links_with_lld(&var("RUSTC"));
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("hot-symbols.txt");
    if wanted && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=scale-advisor=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Functions renamed since the file was written are simply not placed.
        println!("cargo:rustc-link-arg-bin=scale-advisor=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether this rustc links x86_64 Linux binaries with its own lld: from 1.90 on.
fn links_with_lld(rustc: &str) -> bool {
    let Ok(output) = Command::new(if rustc.is_empty() { "rustc" } else { rustc })
        .arg("-vV")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(version) = text.lines().find_map(|l| l.strip_prefix("release: ")) else {
        return false;
    };
    let mut parts = version.split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (1, 90)
}
