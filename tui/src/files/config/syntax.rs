//! The config file's syntax: the small part of TOML a settings file needs, read by hand (a
//! dependency for a few keys would weigh more than this file). `key = value` lines, at the top
//! or under a `[table]` heading (one level: `[keys]`, `[theme]`); values are "basic" or
//! 'literal' strings, true/false, integers, and [lists] (which may span lines); `#` comments;
//! blank lines. Arrays of tables, dotted or quoted keys, floats, dates and inline tables are
//! refused with a message that says so. Every problem carries its line, and a bad line does
//! not hide the problems of the lines after it.

use std::iter::Peekable;
use std::path::Path;
use std::str::Chars;

/// One thing wrong with the file: where (a line, or the whole file) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    /// "PATH:LINE: message", as compilers say it.
    pub fn at(&self, path: &Path) -> String {
        match self.line {
            Some(line) => format!("{}:{line}: {}", path.display(), self.message),
            None => format!("{}: {}", path.display(), self.message),
        }
    }
}
/// A value as written, with its line (a list's items each have their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<(Value, usize)>),
}

impl Value {
    /// The value as a message quotes it.
    pub fn shown(&self) -> String {
        match self {
            Value::Str(s) => format!("{s:?}"),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::List(_) => "a list".into(),
        }
    }
}

/// `key = value`, on the line where the key is, under the table it sits in (None: the top).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub table: Option<String>,
    pub key: String,
    pub value: Value,
    pub line: usize,
}

struct Cursor<'a> {
    chars: Peekable<Chars<'a>>,
    line: usize,
}

fn bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Cursor<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(self.line),
            message: message.into(),
        }
    }

    /// Spaces and tabs (a `\r` before a newline counts as one).
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
            self.bump();
        }
    }

    /// Blanks, newlines and comments: what may sit between a list's items.
    fn skip_gaps(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n') => {
                    self.bump();
                }
                Some('#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// The rest of a line that went wrong, so the next line is read afresh.
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                return;
            }
        }
    }

    fn word(&mut self, allowed: impl Fn(char) -> bool) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek().filter(|c| allowed(*c)) {
            word.push(c);
            self.bump();
        }
        word
    }

    fn entry(&mut self) -> Result<Entry, Problem> {
        let line = self.line;
        let key = self.word(bare);
        if key.is_empty() {
            let found = self.peek().map_or(String::new(), |c| format!(" {c:?}"));
            return Err(self.problem(format!(
                "expected a key (letters, digits, _ or -), found{found}; quoted and dotted keys are not used here"
            )));
        }
        self.skip_blanks();
        match self.peek() {
            Some('=') => {
                self.bump();
            }
            Some('.') => {
                return Err(self.problem(format!(
                    "dotted keys ({key}.…) are not used here: write a [table] heading, then the key"
                )));
            }
            _ => return Err(self.problem(format!("expected = after {key}"))),
        }
        self.skip_blanks();
        let value = self.value()?;
        self.skip_blanks();
        match self.peek() {
            None | Some('\n') | Some('#') => Ok(Entry {
                table: None,
                key,
                value,
                line,
            }),
            Some(c) => Err(self.problem(format!(
                "unexpected {c:?} after the value of {key} (one key = value per line)"
            ))),
        }
    }

    /// `[name]` (the `[` is next): the table the following keys sit in.
    fn heading(&mut self) -> Result<String, Problem> {
        self.bump();
        if self.peek() == Some('[') {
            return Err(self.problem("arrays of tables ([[name]]) are not used here"));
        }
        self.skip_blanks();
        let name = self.word(bare);
        self.skip_blanks();
        if name.is_empty() || self.peek() != Some(']') {
            return Err(self.problem("a table heading is [name], one bare word"));
        }
        self.bump();
        self.skip_blanks();
        match self.peek() {
            None | Some('\n') | Some('#') => Ok(name),
            Some(c) => Err(self.problem(format!("unexpected {c:?} after [{name}]"))),
        }
    }

    fn value(&mut self) -> Result<Value, Problem> {
        match self.peek() {
            None | Some('\n') | Some('#') => Err(self.problem("a value is missing after =")),
            Some('"') => self.basic_string().map(Value::Str),
            Some('\'') => self.literal_string().map(Value::Str),
            Some('[') => self.list(),
            Some('{') => Err(self.problem("inline tables ({ … }) are not used here")),
            Some(_) => {
                let word = self.word(|c| bare(c) || "+.:".contains(c));
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "" => Err(self
                        .problem("expected a value: \"text\", true, false, a number or [a, list]")),
                    _ => match word.replace('_', "").parse::<i64>() {
                        Ok(n) => Ok(Value::Int(n)),
                        Err(_) => Err(self.problem(format!(
                            "{word} is not a value; text needs quotes: \"{word}\""
                        ))),
                    },
                }
            }
        }
    }

    fn basic_string(&mut self) -> Result<String, Problem> {
        self.bump();
        let mut text = String::new();
        loop {
            if matches!(self.peek(), None | Some('\n')) {
                return Err(self.problem("a \"string\" is not closed on its line"));
            }
            match self.bump() {
                None | Some('\n') => {}
                Some('"') => return Ok(text),
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('u') => {
                            let hex = self.word(|c| c.is_ascii_hexdigit());
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(c) if hex.len() == 4 => c,
                                _ => {
                                    return Err(
                                        self.problem("\\u needs 4 hex digits of a character")
                                    );
                                }
                            }
                        }
                        other => {
                            let shown = other.map_or(String::new(), String::from);
                            return Err(self.problem(format!(
                                "unknown escape \\{shown} (use \\\\ for a backslash, or 'single quotes')"
                            )));
                        }
                    };
                    text.push(escaped);
                }
                Some(c) => text.push(c),
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, Problem> {
        self.bump();
        let mut text = String::new();
        loop {
            if matches!(self.peek(), None | Some('\n')) {
                return Err(self.problem("a 'string' is not closed on its line"));
            }
            match self.bump() {
                None | Some('\n') => {}
                Some('\'') => return Ok(text),
                Some(c) => text.push(c),
            }
        }
    }

    /// A list; after a problem in it, the rest of it is skipped (its lines are not read as
    /// keys).
    fn list(&mut self) -> Result<Value, Problem> {
        let list = self.list_items();
        if list.is_err() {
            let mut depth = 1;
            while let Some(c) = self.bump() {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        }
        list
    }

    fn list_items(&mut self) -> Result<Value, Problem> {
        let opened = self.line;
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_gaps();
            if self.peek() == Some(']') {
                self.bump();
                return Ok(Value::List(items));
            }
            if self.peek().is_none() {
                return Err(Problem {
                    line: Some(opened),
                    message: "a [list] is not closed".into(),
                });
            }
            let line = self.line;
            items.push((self.value()?, line));
            self.skip_gaps();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {}
                None => {
                    return Err(Problem {
                        line: Some(opened),
                        message: "a [list] is not closed".into(),
                    });
                }
                Some(c) => {
                    return Err(self.problem(format!("expected , or ] in a list, found {c:?}")));
                }
            }
        }
    }
}

/// The entries of `text`, or every problem found (one per bad line at most).
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    let mut cursor = Cursor {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut table: Option<String> = None;
    let mut tables: Vec<(String, usize)> = Vec::new();
    loop {
        cursor.skip_blanks();
        match cursor.peek() {
            None => break,
            Some('\n') => {
                cursor.bump();
            }
            Some('#') => cursor.skip_comment(),
            Some('[') => {
                let line = cursor.line;
                match cursor.heading() {
                    Ok(name) => {
                        if let Some((_, first)) = tables.iter().find(|(t, _)| *t == name) {
                            problems.push(cursor.problem(format!(
                                "[{name}] is opened twice (first on line {first})"
                            )));
                        }
                        tables.push((name.clone(), line));
                        table = Some(name);
                    }
                    Err(problem) => {
                        problems.push(problem);
                        // Its keys must not land in the table before it.
                        table = Some(String::new());
                    }
                }
                cursor.skip_line();
            }
            Some(_) => match cursor.entry() {
                Ok(mut entry) => {
                    entry.table = table.clone();
                    entries.push(entry);
                }
                Err(problem) => {
                    problems.push(problem);
                    cursor.skip_line();
                }
            },
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}
