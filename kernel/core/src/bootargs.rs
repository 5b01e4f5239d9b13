//! Kernel command-line parser for the device tree's `/chosen/bootargs` string.
//!
//! Follows the Linux conventions (`Documentation/admin-guide/kernel-parameters.rst`): tokens are
//! separated by ASCII whitespace; a token is `key` or `key=value` split at the first `=`, so
//! values may contain `=`; double quotes group whitespace, as in `key="a b"` or `"key=a b"`, and
//! are stripped from the value. Parsing borrows from the input and never allocates or fails:
//! malformed input (an unterminated quote) just extends the token to the end of the line.

/// A parsed view of a kernel command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BootArgs<'a> {
    /// The command line, cut at the first NUL (device-tree strings are NUL terminated).
    line: &'a str,
}

impl<'a> BootArgs<'a> {
    /// Wraps a command line. Anything from the first NUL byte on is ignored.
    pub fn new(line: &'a str) -> Self {
        let line = match line.find('\0') {
            Some(nul) => line.get(..nul).unwrap_or(line),
            None => line,
        };
        Self { line }
    }

    /// The command line as given (up to any NUL).
    pub fn as_str(&self) -> &'a str {
        self.line
    }

    /// Value of the last `key=value` token for `key` (bare `key` tokens are not values).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.iter()
            .filter(|&(k, _)| k == key)
            .filter_map(|(_, v)| v)
            .last()
    }

    /// Whether `key` is set: decided by its last occurrence, which must be a bare `key` or
    /// `key=1`, `on`, `yes` or `true` (ASCII case-insensitive). `key=0` after `key` clears it.
    pub fn has_flag(&self, key: &str) -> bool {
        self.iter()
            .filter(|&(k, _)| k == key)
            .last()
            .is_some_and(|(_, value)| match value {
                None => true,
                Some(v) => ["1", "on", "yes", "true"]
                    .iter()
                    .any(|t| v.eq_ignore_ascii_case(t)),
            })
    }

    /// Every token in order, as `(key, Some(value))` for `key=value` and `(key, None)` for a
    /// bare word.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        Tokens { rest: self.line }.map(split_token)
    }
}

/// Splits the command line into whitespace-separated tokens, honouring double quotes.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let line = self
            .rest
            .trim_start_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() {
            self.rest = line;
            return None;
        }
        let mut quoted = false;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' {
                quoted = !quoted;
            } else if c.is_ascii_whitespace() && !quoted {
                end = i;
                break;
            }
        }
        let (token, rest) = line.split_at(end);
        self.rest = rest;
        Some(token)
    }
}

/// Strips one pair of surrounding double quotes (or a lone leading one, if unterminated).
fn unquote(s: &str) -> &str {
    match s.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => s,
    }
}

/// Splits a token into key and optional value, removing the quoting.
fn split_token(token: &str) -> (&str, Option<&str>) {
    // `"key=a b"`: Linux drops a quote that opens the whole token, and its closing partner.
    let token = match token.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => token,
    };
    match token.split_once('=') {
        Some((key, value)) => (key, Some(unquote(value))),
        None => (token, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn all<'a>(args: &BootArgs<'a>) -> Vec<(&'a str, Option<&'a str>)> {
        args.iter().collect()
    }

    #[test]
    fn empty_and_blank() {
        for line in ["", "   ", "\t\n\r ", "\0console=ttyAMA0"] {
            let args = BootArgs::new(line);
            assert_eq!(args.iter().count(), 0, "{line:?}");
            assert_eq!(args.get("console"), None);
            assert!(!args.has_flag("console"));
        }
    }

    #[test]
    fn simple_tokens() {
        let args = BootArgs::new("console=ttyAMA0 quiet loglevel=7 init=/bin/init");
        assert_eq!(
            all(&args),
            [
                ("console", Some("ttyAMA0")),
                ("quiet", None),
                ("loglevel", Some("7")),
                ("init", Some("/bin/init"))
            ]
        );
        assert_eq!(args.get("loglevel"), Some("7"));
        assert_eq!(args.get("quiet"), None, "a bare flag has no value");
        assert_eq!(args.get("missing"), None);
        assert_eq!(args.get("console="), None);
        assert!(args.has_flag("quiet"));
        assert!(!args.has_flag("loglevel"), "7 is not a truth value");
        assert!(!args.has_flag("qui"), "no prefix matching");
    }

    #[test]
    fn weird_whitespace() {
        let args = BootArgs::new("\t  a=1 \n\n b  \r\x0cc=3   ");
        assert_eq!(
            all(&args),
            [("a", Some("1")), ("b", None), ("c", Some("3"))]
        );
    }

    #[test]
    fn last_value_wins() {
        let args = BootArgs::new("log=info x log=debug log");
        assert_eq!(
            args.get("log"),
            Some("debug"),
            "bare `log` does not reset the value"
        );
        let args = BootArgs::new("debug debug=off");
        assert!(!args.has_flag("debug"));
        let args = BootArgs::new("debug=0 debug=YES");
        assert!(args.has_flag("debug"));
        for v in ["1", "on", "yes", "true", "True", "ON"] {
            let line = std::format!("k={v}");
            assert!(BootArgs::new(&line).has_flag("k"), "{v}");
        }
        for v in ["0", "off", "no", "false", "", "2"] {
            let line = std::format!("k={v}");
            assert!(!BootArgs::new(&line).has_flag("k"), "{v}");
        }
    }

    #[test]
    fn values_containing_equals() {
        let args = BootArgs::new("root=PARTUUID=abcd-01 opt=a=b=c empty= =v");
        assert_eq!(args.get("root"), Some("PARTUUID=abcd-01"));
        assert_eq!(args.get("opt"), Some("a=b=c"));
        assert_eq!(args.get("empty"), Some(""));
        assert_eq!(args.get(""), Some("v"));
    }

    #[test]
    fn quoted_values() {
        let args =
            BootArgs::new(r#"msg="hello big world" x=1 "dyndbg=file a.c +p" q="" u="open end"#);
        assert_eq!(
            all(&args),
            [
                ("msg", Some("hello big world")),
                ("x", Some("1")),
                ("dyndbg", Some("file a.c +p")),
                ("q", Some("")),
                ("u", Some("open end"))
            ]
        );
        let args = BootArgs::new(r#"k="unterminated value"#);
        assert_eq!(args.get("k"), Some("unterminated value"));
        let args = BootArgs::new(r#"k=a"b c"d next"#);
        assert_eq!(all(&args), [("k", Some(r#"a"b c"d"#)), ("next", None)]);
    }

    #[test]
    fn nul_terminates_and_unicode_is_kept() {
        let args = BootArgs::new("name=\u{e9}t\u{e9} flag\0garbage=1");
        assert_eq!(args.as_str(), "name=\u{e9}t\u{e9} flag");
        assert_eq!(args.get("name"), Some("\u{e9}t\u{e9}"));
        assert!(args.has_flag("flag"));
        assert_eq!(args.get("garbage"), None);
    }
}
