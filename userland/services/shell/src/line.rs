//! Line editing on a raw console (no kernel line discipline): printable ASCII is inserted
//! and echoed, backspace/DEL erase, Enter (`\r` or `\n`) ends the line, Ctrl-C drops it,
//! Ctrl-U clears it; other control bytes and escape sequences (arrow keys) are ignored.
//! Pure state machine ([`Editor::feed`]), so it is host-testable.

use alloc::string::String;
use alloc::vec::Vec;

/// Longest line kept; further input is ignored until Enter.
pub const MAX_LINE: usize = 512;

const BACKSPACE: u8 = 0x08;
const DEL: u8 = 0x7F;
const CTRL_C: u8 = 0x03;
const CTRL_U: u8 = 0x15;
const ESC: u8 = 0x1B;

/// What a byte of input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing to show.
    None,
    /// Echo these bytes.
    Echo(Vec<u8>),
    /// A complete line (echo a newline first).
    Line(String),
    /// The line was dropped (Ctrl-C).
    Cancel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Normal input.
    Off,
    /// After ESC.
    Start,
    /// Inside `ESC [ ...`, until a final byte 0x40..=0x7E.
    Csi,
    /// After `ESC O`: one more byte (application-mode keys).
    Ss3,
}

/// The line being typed.
#[derive(Debug)]
pub struct Editor {
    line: Vec<u8>,
    escape: Escape,
    /// The previous byte was `\r` (so a following `\n` is the same Enter).
    after_cr: bool,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new()
    }
}

impl Editor {
    /// An empty line.
    pub const fn new() -> Editor {
        Editor {
            line: Vec::new(),
            escape: Escape::Off,
            after_cr: false,
        }
    }

    /// Takes one input byte.
    pub fn feed(&mut self, byte: u8) -> Event {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match self.escape {
            Escape::Start => {
                self.escape = match byte {
                    b'[' => Escape::Csi,
                    b'O' => Escape::Ss3,
                    _ => Escape::Off,
                };
                return Event::None;
            }
            Escape::Ss3 => {
                self.escape = Escape::Off;
                return Event::None;
            }
            Escape::Csi => {
                if (0x40..=0x7E).contains(&byte) {
                    self.escape = Escape::Off;
                }
                return Event::None;
            }
            Escape::Off => {}
        }
        match byte {
            b'\n' if after_cr => Event::None,
            b'\r' | b'\n' => {
                let line = core::mem::take(&mut self.line);
                Event::Line(String::from_utf8_lossy(&line).into_owned())
            }
            BACKSPACE | DEL => match self.line.pop() {
                Some(_) => Event::Echo(b"\x08 \x08".to_vec()),
                None => Event::None,
            },
            CTRL_C => {
                self.line.clear();
                Event::Cancel
            }
            CTRL_U => {
                let n = self.line.len();
                self.line.clear();
                let mut out = Vec::with_capacity(n * 3);
                for _ in 0..n {
                    out.extend_from_slice(b"\x08 \x08");
                }
                Event::Echo(out)
            }
            ESC => {
                self.escape = Escape::Start;
                Event::None
            }
            0x20..=0x7E if self.line.len() < MAX_LINE => {
                self.line.push(byte);
                Event::Echo(alloc::vec![byte])
            }
            _ => Event::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_all(editor: &mut Editor, bytes: &[u8]) -> Vec<Event> {
        bytes.iter().map(|&b| editor.feed(b)).collect()
    }

    fn lines(bytes: &[u8]) -> Vec<String> {
        let mut editor = Editor::new();
        type_all(&mut editor, bytes)
            .into_iter()
            .filter_map(|e| match e {
                Event::Line(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn enter_ends_lines_once_for_crlf() {
        assert_eq!(lines(b"ls\r\nps\rfree\n"), ["ls", "ps", "free"]);
        assert_eq!(lines(b"\r\r"), ["", ""]);
    }

    #[test]
    fn backspace_and_del_erase() {
        assert_eq!(lines(b"lx\x08s\r"), ["ls"]);
        assert_eq!(lines(b"\x7f\x7fps\x7f\x7fls\r"), ["ls"]);
        let mut editor = Editor::new();
        assert_eq!(editor.feed(DEL), Event::None, "nothing to erase");
        editor.feed(b'a');
        assert_eq!(editor.feed(DEL), Event::Echo(b"\x08 \x08".to_vec()));
    }

    #[test]
    fn control_bytes_and_escapes_are_ignored() {
        assert_eq!(lines(b"l\x01\x02s\x1b[A\x1b[1;5C\x1bOx\r"), ["ls"]);
        assert_eq!(lines(b"abc\x03ps\r"), ["ps"]);
        assert_eq!(lines(b"abc\x15ps\r"), ["ps"]);
        assert_eq!(lines(&[b'a', 0xC3, 0xA9, b'\r']), ["a"]);
    }

    #[test]
    fn long_lines_are_capped() {
        let mut input = alloc::vec![b'x'; MAX_LINE + 10];
        input.push(b'\r');
        assert_eq!(lines(&input)[0].len(), MAX_LINE);
    }
}
