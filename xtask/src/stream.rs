//! Running child processes: stream their output to the terminal while capturing it, and wait
//! for them with a time limit.

use crate::{Result, describe};
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished command printed, and how it exited.
pub struct Captured {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stdout, then everything it wrote to stderr.
    pub output: String,
}

/// Runs `cmd`, copying its stdout and stderr to ours as they arrive, and returns both.
pub fn run_captured(cmd: &mut Command) -> Result<Captured> {
    eprintln!("xtask: $ {}", describe(cmd));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    let err_pipe = child.stderr.take();
    let err_thread = thread::spawn(move || err_pipe.map(|p| tee(p, std::io::stderr())));
    let out = child
        .stdout
        .take()
        .map(|p| tee(p, std::io::stdout()))
        .unwrap_or_default();
    let err = err_thread.join().ok().flatten().unwrap_or_default();
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {}: {e}", describe(cmd)))?;
    Ok(Captured {
        status,
        output: format!("{out}\n{err}"),
    })
}

/// Copies `source` to `sink` until end of file and returns what passed through.
fn tee(mut source: impl Read, mut sink: impl Write) -> String {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match source.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // The terminal going away must not stop the capture the counts come from.
                let _ = sink.write_all(&chunk[..n]).and_then(|()| sink.flush());
                seen.extend_from_slice(&chunk[..n]);
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Waits for `child`; with a `limit`, kills it when the limit passes and returns `None`.
pub fn wait_with_timeout(child: &mut Child, limit: Option<Duration>) -> Result<Option<ExitStatus>> {
    let Some(limit) = limit else {
        return child
            .wait()
            .map(Some)
            .map_err(|e| format!("cannot wait for child: {e}"));
    };
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                // An error here means it exited meanwhile; either way it is gone after wait.
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            Err(e) => return Err(format!("cannot wait for child: {e}")),
        }
    }
}
