//! Finding, reading and reporting on the configuration file.

use alloc::string::String;
use initcfg::{Config, MAX_CONFIG_BYTES};
use ulib::{env, fs, println};

/// The configuration file, unless the command line names another.
pub const DEFAULT_PATH: &str = "/etc/init.cfg";
/// Kernel command-line key that names another configuration file (for tests).
pub const BOOTARG_KEY: &str = "init.cfg";

/// The file to read: `init.cfg=PATH` from `BOOTARGS`, or [`DEFAULT_PATH`].
fn path() -> String {
    let bootargs = env::var("BOOTARGS").unwrap_or("");
    // The last occurrence wins, as for kernel parameters.
    bootargs
        .split_ascii_whitespace()
        .rev()
        .filter_map(|token| token.split_once('='))
        .find(|(key, _)| *key == BOOTARG_KEY)
        .map(|(_, value)| String::from(value.trim_matches('"')))
        .unwrap_or_else(|| String::from(DEFAULT_PATH))
}

/// Reads and parses the configuration; logs every problem; never fails.
pub fn load() -> Config {
    let path = path();
    let text = match read(&path) {
        Ok(text) => text,
        Err(why) => {
            println!("init: cannot read {path}: {why}; using the built-in minimal config");
            return Config::fallback();
        }
    };
    let loaded = match initcfg::parse(&text) {
        Ok(loaded) => loaded,
        Err(e) => {
            println!("init: {path}: {e}; using the built-in minimal config");
            return Config::fallback();
        }
    };
    for diagnostic in &loaded.diagnostics {
        println!("init: {path}: {diagnostic}");
    }
    let config = loaded.config;
    println!(
        "init: {path}: {} jobs, {} services",
        config.jobs.len(),
        config.services.len()
    );
    report_unsupported(&config);
    config
}

fn read(path: &str) -> Result<String, String> {
    let meta = fs::stat(path).map_err(|e| alloc::format!("{e:?}"))?;
    if meta.len() > MAX_CONFIG_BYTES as u64 {
        return Err(alloc::format!(
            "{} bytes, more than {MAX_CONFIG_BYTES}",
            meta.len()
        ));
    }
    fs::read_to_string(path).map_err(|e| alloc::format!("{e:?}"))
}

/// Logs once what the config asks for that this system cannot do.
fn report_unsupported(config: &Config) {
    if config.services.iter().any(|s| !s.caps.is_empty()) {
        println!(
            "init: note: service caps are parsed but not enforced (the kernel has no capabilities)"
        );
    }
    for service in &config.services {
        for key in &service.unsupported_keys {
            println!(
                "init: service {}: key {key:?} is parsed but not supported",
                service.name
            );
        }
    }
}
