//! Running child processes: stream their output to the terminal while capturing it, relay a
//! console, and wait for them with a time limit.

use crate::{Result, describe};
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
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
fn tee(source: impl Read, sink: impl Write) -> String {
    let mut seen = Vec::new();
    pass_through(source, sink, |chunk| seen.extend_from_slice(chunk));
    String::from_utf8_lossy(&seen).into_owned()
}

/// Copies `source` to `sink` as it arrives, until end of file, showing each chunk to `look`.
/// Errors writing to `sink` are ignored: the terminal going away must stop neither the child
/// nor the capture the test counts come from.
fn pass_through(mut source: impl Read, mut sink: impl Write, mut look: impl FnMut(&[u8])) {
    let mut chunk = [0u8; 8192];
    loop {
        match source.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = sink.write_all(&chunk[..n]).and_then(|()| sink.flush());
                look(&chunk[..n]);
            }
        }
    }
}

/// Relays a console: copies `output` (QEMU's serial output) to our stdout as it arrives, and
/// our stdin to `input` once `ready` has passed through the output. Input sent earlier would
/// reach the firmware (U-Boot stops its autoboot at a key) or a UART the kernel has not set
/// up yet, and be lost. At the end of our stdin, `input` is closed. Returns the output
/// thread, which ends with the output.
pub fn relay_console(
    output: impl Read + Send + 'static,
    input: impl Write + Send + 'static,
    ready: &'static str,
) -> JoinHandle<()> {
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        let mut input = input;
        // The output ending without `ready` drops the sender: then nothing is relayed.
        if ready_rx.recv().is_ok() {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut input);
        }
    });
    thread::spawn(move || {
        let mut ready_tx = Some(ready_tx);
        let mut watch = Watch::new(ready);
        pass_through(output, std::io::stdout(), |chunk| {
            // Once seen, the watch is done (and would keep all the output in its tail).
            if ready_tx.is_some()
                && watch.saw(chunk)
                && let Some(tx) = ready_tx.take()
            {
                let _ = tx.send(());
            }
        });
    })
}

/// Looks for a text in a stream that arrives in chunks.
struct Watch {
    text: &'static [u8],
    /// The end of what came so far, short of one whole `text`.
    tail: Vec<u8>,
}

impl Watch {
    fn new(text: &'static str) -> Watch {
        Watch {
            text: text.as_bytes(),
            tail: Vec::new(),
        }
    }

    /// Whether `text` has appeared, up to and including `chunk`.
    fn saw(&mut self, chunk: &[u8]) -> bool {
        self.tail.extend_from_slice(chunk);
        if self.tail.windows(self.text.len()).any(|w| w == self.text) {
            return true;
        }
        let keep = self.text.len().saturating_sub(1);
        let drop = self.tail.len().saturating_sub(keep);
        self.tail.drain(..drop);
        false
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_text_is_found_across_chunks() {
        let mut watch = Watch::new("boot complete");
        assert!(!watch.saw(b"[ 0.1] INFO kernel: boot com"));
        assert!(watch.saw(b"plete\n"));
        let mut watch = Watch::new("boot complete");
        for byte in b"...boot complet" {
            assert!(!watch.saw(&[*byte]));
        }
        assert!(watch.saw(b"e"));
        assert!(!Watch::new("boot complete").saw(b"boot-complete, boot compl"));
    }
}
