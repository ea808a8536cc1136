//! Save-time lowering of `class` syntax to sloppy-mode functions.
//!
//! Rocket.Chat runs scripts through Babel, which turns classes into ES5 functions, so class bodies run in
//! sloppy mode and `msg = f()` inside a method creates a global (DECISIONS 5). Native class bodies are always
//! strict, so we rewrite every class before the script is stored. Everything else is left byte-for-byte as
//! written (and on the same lines, so error positions still point at the user's code).
//!
//! The rewrite leans on object-literal methods, which may use `super.x`, `get`/`set`, `async`, generators
//! and computed keys exactly like class methods but follow the surrounding (sloppy) mode:
//!
//! ```text
//! var A = (function (__sb_P) {
//!   var __sb_h = { __proto__: __sb_P.prototype, constructor(..) {..}, __sb_f() { <instance fields> } };
//!   var __sb_p = { __proto__: __sb_P.prototype, <methods> };
//!   var __sb_s = { __proto__: __sb_P, <static methods>, __sb_si() { <static fields and blocks> } };
//!   function A() { <instantiation> }
//!   __sb_rt.define(A, __sb_p, __sb_s, __sb_P); __sb_s.__sb_si.call(A); return A;
//! })(<extends expression>);
//! ```
//!
//! `super(...)` in a derived constructor becomes `__sb_sup(this, ...)`, which runs the parent constructor on
//! the same object and then the field initialisers. `#private` names become ordinary non-enumerable
//! properties. The runtime half (`__sb_rt`) lives in the prelude.
//!
//! The tokenizer is a real JavaScript one as far as the rewrite needs: strings, template literals with
//! nested `${}`, regular-expression literals versus division, and comments never confuse brace matching.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for LowerError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Private,
    Punct,
    Str,
    Num,
    Regex,
    /// A template without substitutions.
    Template,
    /// `` `...${ ``
    TemplateHead,
    /// `` }...${ ``
    TemplateMiddle,
    /// `` }...` ``
    TemplateTail,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// A line break separates this token from the previous one (ASI decisions need it).
    nl_before: bool,
}

const PUNCTS: &[&str] = &[
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "**", "<<", ">>", "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%",
    "&", "|", "^", "!", "~", "?", ":", "=", ".", "@",
];

/// Keywords after which a `/` starts a regular expression rather than a division.
const REGEX_AFTER_KEYWORDS: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "extends",
];

fn is_id_start(c: char) -> bool {
    c == '$' || c == '_' || c == '\\' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    is_id_start(c) || c.is_alphanumeric() || c == '\u{200c}' || c == '\u{200d}'
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    toks: Vec<Tok>,
    /// One entry per open `{`; `true` when it is a template substitution `${`, so the matching `}`
    /// resumes the template instead of being punctuation.
    braces: Vec<bool>,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn err(&self, message: &str) -> LowerError {
        LowerError {
            message: message.to_string(),
            offset: self.pos,
        }
    }

    fn regex_allowed(&self) -> bool {
        let Some(prev) = self.toks.last() else {
            return true;
        };
        let text = &self.src[prev.start..prev.end];
        match prev.kind {
            Kind::Punct => !matches!(text, ")" | "]"),
            Kind::Ident => REGEX_AFTER_KEYWORDS.contains(&text),
            Kind::TemplateHead | Kind::TemplateMiddle => true,
            _ => false,
        }
    }

    /// Skips whitespace and comments; reports whether a line break was crossed.
    fn skip_trivia(&mut self) -> Result<bool, LowerError> {
        let mut nl = false;
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            let c = self.peek().unwrap_or(' ');
            if c == '\n' || c == '\r' || c == '\u{2028}' || c == '\u{2029}' {
                nl = true;
                self.pos += c.len_utf8();
            } else if c.is_whitespace() || c == '\u{feff}' {
                self.pos += c.len_utf8();
            } else if self.src[self.pos..].starts_with("//") {
                match self.src[self.pos..].find(['\n', '\r']) {
                    Some(i) => self.pos += i,
                    None => self.pos = bytes.len(),
                }
            } else if self.src[self.pos..].starts_with("/*") {
                match self.src[self.pos + 2..].find("*/") {
                    Some(i) => {
                        if self.src[self.pos..self.pos + 2 + i].contains(['\n', '\r']) {
                            nl = true;
                        }
                        self.pos += i + 4;
                    }
                    None => return Err(self.err("unterminated comment")),
                }
            } else {
                break;
            }
        }
        Ok(nl)
    }

    fn push(&mut self, kind: Kind, start: usize, nl_before: bool) {
        self.toks.push(Tok {
            kind,
            start,
            end: self.pos,
            nl_before,
        });
    }

    fn string(&mut self, quote: char) -> Result<(), LowerError> {
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            if c == '\\' {
                if let Some(n) = self.peek() {
                    self.pos += n.len_utf8();
                }
            } else if c == quote {
                return Ok(());
            } else if c == '\n' {
                break;
            }
        }
        Err(self.err("unterminated string literal"))
    }

    /// Scans template characters after `` ` `` or a substitution's closing `}`; returns whether the template
    /// ended (as opposed to reaching another `${`).
    fn template_chars(&mut self) -> Result<bool, LowerError> {
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += n.len_utf8();
                    }
                }
                '`' => return Ok(true),
                '$' if self.peek() == Some('{') => {
                    self.pos += 1;
                    self.braces.push(true);
                    return Ok(false);
                }
                _ => {}
            }
        }
        Err(self.err("unterminated template literal"))
    }

    fn regex(&mut self) -> Result<(), LowerError> {
        self.pos += 1;
        let mut in_class = false;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated regular expression"));
            };
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        self.pos += n.len_utf8();
                    }
                }
                '[' => in_class = true,
                ']' => in_class = false,
                '/' if !in_class => break,
                '\n' | '\r' => return Err(self.err("unterminated regular expression")),
                _ => {}
            }
        }
        while self.peek().is_some_and(is_id_continue) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        Ok(())
    }

    fn number(&mut self) {
        let mut seen_dot = false;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                self.pos += 1;
                if (c == 'e' || c == 'E')
                    && matches!(self.peek(), Some('+' | '-'))
                    && !self.src[..self.pos].starts_with("0x")
                {
                    self.pos += 1;
                }
            } else if c == '.' && !seen_dot && self.peek_at(1) != Some('.') {
                seen_dot = true;
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn run(mut self) -> Result<Vec<Tok>, LowerError> {
        if self.src.starts_with("#!") {
            self.pos = self.src.find('\n').unwrap_or(self.src.len());
        }
        loop {
            let nl = self.skip_trivia()?;
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            if c == '"' || c == '\'' {
                self.string(c)?;
                self.push(Kind::Str, start, nl);
            } else if c == '`' {
                self.pos += 1;
                let done = self.template_chars()?;
                self.push(
                    if done {
                        Kind::Template
                    } else {
                        Kind::TemplateHead
                    },
                    start,
                    nl,
                );
            } else if c == '}' && self.braces.last() == Some(&true) {
                self.braces.pop();
                self.pos += 1;
                let done = self.template_chars()?;
                self.push(
                    if done {
                        Kind::TemplateTail
                    } else {
                        Kind::TemplateMiddle
                    },
                    start,
                    nl,
                );
            } else if c.is_ascii_digit()
                || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()))
            {
                self.number();
                self.push(Kind::Num, start, nl);
            } else if c == '#' && self.peek_at(1).is_some_and(is_id_start) {
                self.pos += 1;
                while self.peek().is_some_and(is_id_continue) {
                    self.ident_char();
                }
                self.push(Kind::Private, start, nl);
            } else if is_id_start(c) {
                while self.peek().is_some_and(is_id_continue) {
                    self.ident_char();
                }
                self.push(Kind::Ident, start, nl);
            } else if c == '/' && self.regex_allowed() {
                self.regex()?;
                self.push(Kind::Regex, start, nl);
            } else {
                let rest = &self.src[self.pos..];
                let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
                    return Err(self.err(&format!("unexpected character `{c}`")));
                };
                // `a?.5:b` is a conditional, not optional chaining.
                let p = if *p == "?." && self.peek_at(2).is_some_and(|d| d.is_ascii_digit()) {
                    "?"
                } else {
                    p
                };
                self.pos += p.len();
                match p {
                    "{" => self.braces.push(false),
                    "}" => {
                        self.braces.pop();
                    }
                    _ => {}
                }
                self.push(Kind::Punct, start, nl);
            }
        }
        Ok(self.toks)
    }

    fn ident_char(&mut self) {
        let c = self.peek().unwrap_or(' ');
        if c == '\\' {
            // \uXXXX or \u{...} escapes inside identifiers
            self.pos += 1;
            if self.peek() == Some('u') {
                self.pos += 1;
                if self.peek() == Some('{') {
                    while self.peek().is_some_and(|c| c != '}') {
                        self.pos += 1;
                    }
                    self.pos += 1;
                } else {
                    self.pos = (self.pos + 4).min(self.src.len());
                }
            }
        } else {
            self.pos += c.len_utf8();
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<Tok>, LowerError> {
    Lexer {
        src,
        pos: 0,
        toks: Vec::new(),
        braces: Vec::new(),
    }
    .run()
}

/// Whether the script has a `return` outside any function (the legacy script shape, which ran inside a
/// function wrapper).
pub fn has_top_level_return(src: &str) -> bool {
    let Ok(toks) = tokenize(src) else {
        return false;
    };
    let mut depth = 0i32;
    for t in &toks {
        let text = &src[t.start..t.end];
        match (t.kind, text) {
            (Kind::Punct, "{") | (Kind::TemplateHead, _) => depth += 1,
            (Kind::Punct, "}") | (Kind::TemplateTail, _) => depth -= 1,
            (Kind::Ident, "return") if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// Rewrites every class in `src` (see the module docs). Source without classes comes back unchanged.
pub fn lower_classes(src: &str) -> Result<String, LowerError> {
    let toks = tokenize(src)?;
    if !toks
        .iter()
        .any(|t| t.kind == Kind::Ident && &src[t.start..t.end] == "class")
    {
        return Ok(src.to_string());
    }
    let l = Lowerer { src, toks: &toks };
    let mut out = String::with_capacity(src.len() * 2);
    if let Some(first) = toks.first() {
        out.push_str(&src[..first.start]);
    }
    out.push_str(&l.emit(0, toks.len(), Mode::Plain)?);
    if let Some(last) = toks.last() {
        out.push_str(&src[last.end..]);
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// Inside a derived class's constructor: `super(` is rewritten.
    Ctor,
}

struct Lowerer<'a> {
    src: &'a str,
    toks: &'a [Tok],
}

enum Member {
    Ctor {
        /// Token range from the parameter list's `(` to the body's `}` inclusive.
        from: usize,
        to: usize,
    },
    Method {
        is_static: bool,
        from: usize,
        to: usize,
    },
    Field {
        is_static: bool,
        key: (usize, usize),
        init: Option<(usize, usize)>,
    },
    StaticBlock {
        /// `{` .. `}` inclusive.
        from: usize,
        to: usize,
    },
}

impl<'a> Lowerer<'a> {
    fn text(&self, i: usize) -> &'a str {
        self.toks.get(i).map_or("", |t| &self.src[t.start..t.end])
    }

    fn is_punct(&self, i: usize, p: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Punct && &self.src[t.start..t.end] == p)
    }

    fn is_ident(&self, i: usize, name: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Ident && &self.src[t.start..t.end] == name)
    }

    fn err(&self, i: usize, message: &str) -> LowerError {
        LowerError {
            message: message.to_string(),
            offset: self.toks.get(i).map_or(self.src.len(), |t| t.start),
        }
    }

    /// Index of the bracket closing the one opened at `open`.
    fn matching(&self, open: usize) -> Result<usize, LowerError> {
        let mut depth = 0i32;
        for i in open..self.toks.len() {
            let t = self.toks[i];
            match t.kind {
                Kind::Punct => match &self.src[t.start..t.end] {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i);
                        }
                    }
                    _ => {}
                },
                Kind::TemplateHead => depth += 1,
                Kind::TemplateTail => depth -= 1,
                _ => {}
            }
        }
        Err(self.err(open, "unbalanced brackets"))
    }

    fn is_class_keyword(&self, i: usize) -> bool {
        if !self.is_ident(i, "class") {
            return false;
        }
        if i > 0 && (self.is_punct(i - 1, ".") || self.is_punct(i - 1, "?.")) {
            return false;
        }
        match self.toks.get(i + 1) {
            Some(t) if t.kind == Kind::Ident => true,
            Some(_) => self.is_punct(i + 1, "{"),
            None => false,
        }
    }

    /// Emits tokens `from..to`, with the whitespace and comments between them, lowering classes on the way.
    fn emit(&self, from: usize, to: usize, mode: Mode) -> Result<String, LowerError> {
        let mut out = String::new();
        let mut i = from;
        let mut pos = self.toks.get(from).map_or(0, |t| t.start);
        while i < to {
            let t = self.toks[i];
            out.push_str(&self.src[pos..t.start]);
            if t.kind == Kind::Ident && self.is_class_keyword(i) {
                let (text, next) = self.lower_class(i)?;
                out.push_str(&text);
                pos = self.toks[next - 1].end;
                i = next;
                continue;
            }
            match t.kind {
                Kind::Private => out.push_str(&mangle_private(&self.src[t.start..t.end])),
                Kind::Ident
                    if mode == Mode::Ctor
                        && self.is_ident(i, "super")
                        && self.is_punct(i + 1, "(") =>
                {
                    out.push_str("__sb_sup(this");
                    if !self.is_punct(i + 2, ")") {
                        out.push_str(", ");
                    }
                    pos = self.toks[i + 1].end;
                    i += 2;
                    continue;
                }
                _ => out.push_str(&self.src[t.start..t.end]),
            }
            pos = t.end;
            i += 1;
        }
        Ok(out)
    }

    /// Whether the class at `i` is in expression position (otherwise it is a declaration).
    fn is_expression_position(&self, i: usize) -> bool {
        if i == 0 {
            return false;
        }
        let prev = self.toks[i - 1];
        let text = &self.src[prev.start..prev.end];
        match prev.kind {
            Kind::Punct => !matches!(text, ";" | "{" | "}" | ")"),
            Kind::Ident => matches!(
                text,
                "return"
                    | "yield"
                    | "await"
                    | "typeof"
                    | "void"
                    | "new"
                    | "extends"
                    | "in"
                    | "of"
                    | "case"
                    | "default"
                    | "delete"
                    | "instanceof"
            ),
            Kind::TemplateHead | Kind::TemplateMiddle => true,
            _ => false,
        }
    }

    /// Lowers the class whose `class` keyword is at `k`; returns the replacement and the index after it.
    fn lower_class(&self, k: usize) -> Result<(String, usize), LowerError> {
        let expression = self.is_expression_position(k);
        let mut m = k + 1;
        let mut name = None;
        if self.toks.get(m).is_some_and(|t| t.kind == Kind::Ident) && !self.is_ident(m, "extends") {
            name = Some(self.text(m));
            m += 1;
        }
        let mut heritage = None;
        if self.is_ident(m, "extends") {
            let start = m + 1;
            let mut j = start;
            while j < self.toks.len() && !self.is_punct(j, "{") {
                if self.is_punct(j, "(") || self.is_punct(j, "[") {
                    j = self.matching(j)?;
                } else if self.toks[j].kind == Kind::TemplateHead {
                    j = self.template_end(j)?;
                }
                j += 1;
            }
            if j == start {
                return Err(self.err(j, "missing class heritage"));
            }
            heritage = Some((start, j));
            m = j;
        }
        if !self.is_punct(m, "{") {
            return Err(self.err(m, "expected `{` to open the class body"));
        }
        let close = self.matching(m)?;
        let members = self.members(m + 1, close)?;
        let derived = heritage.is_some();
        let class_name = match name {
            Some(n) => n.to_string(),
            None => "__sb_class".to_string(),
        };

        let proto_of = if derived {
            "__proto__: __sb_P === null ? null : __sb_P.prototype, "
        } else {
            ""
        };
        let mut ctor = None;
        let mut methods = String::new();
        let mut statics = String::new();
        let mut fields = String::new();
        let mut static_init = String::new();
        for member in &members {
            match *member {
                Member::Ctor { from, to } => {
                    let mode = if derived { Mode::Ctor } else { Mode::Plain };
                    ctor = Some(format!("constructor{}", self.emit(from, to + 1, mode)?));
                }
                Member::Method {
                    is_static,
                    from,
                    to,
                } => {
                    let text = self.emit(from, to + 1, Mode::Plain)?;
                    let target = if is_static {
                        &mut statics
                    } else {
                        &mut methods
                    };
                    target.push_str(&text);
                    target.push_str(", ");
                }
                Member::Field {
                    is_static,
                    key,
                    init,
                } => {
                    let (key_text, hidden) = self.field_key(key)?;
                    let value = match init {
                        Some((a, b)) if a < b => format!("({})", self.emit(a, b, Mode::Plain)?),
                        _ => "undefined".to_string(),
                    };
                    let target = if is_static {
                        &mut static_init
                    } else {
                        &mut fields
                    };
                    target.push_str(&format!(
                        "__sb_rt.field(this, {key_text}, {value}, {hidden}); "
                    ));
                }
                Member::StaticBlock { from, to } => {
                    static_init.push_str(&self.emit(from, to + 1, Mode::Plain)?);
                    static_init.push(' ');
                }
            }
        }

        let mut out = String::new();
        if expression {
            out.push_str("(function (");
        } else {
            out.push_str(&format!("var {class_name} = (function ("));
        }
        if derived {
            out.push_str("__sb_P");
        }
        out.push_str(") { ");
        out.push_str(&format!(
            "var __sb_h = {{ {proto_of}{}__sb_f() {{ {fields}}} }}; ",
            ctor.as_ref().map(|c| format!("{c}, ")).unwrap_or_default()
        ));
        out.push_str(&format!("var __sb_p = {{ {proto_of}{methods}}}; "));
        out.push_str(&format!(
            "var __sb_s = {{ {}{statics}__sb_si() {{ {static_init}}} }}; ",
            if derived { "__proto__: __sb_P, " } else { "" }
        ));
        out.push_str(&format!(
            "function {class_name}() {{ if (!(this instanceof {class_name})) throw new TypeError(\"Class constructor {class_name} cannot be invoked without 'new'\"); "
        ));
        if !derived {
            out.push_str("__sb_h.__sb_f.call(this); ");
        }
        if ctor.is_some() {
            out.push_str("var __sb_r = __sb_h.constructor.apply(this, arguments); if (__sb_r !== null && (typeof __sb_r === 'object' || typeof __sb_r === 'function')) return __sb_r; ");
        } else if derived {
            out.push_str(
                "__sb_sup.apply(undefined, [this].concat(Array.prototype.slice.call(arguments))); ",
            );
        }
        out.push_str("} ");
        if derived {
            out.push_str("function __sb_sup(self) { __sb_rt.superCall(self, __sb_P, Array.prototype.slice.call(arguments, 1)); __sb_h.__sb_f.call(self); } ");
        }
        out.push_str(&format!(
            "__sb_rt.define({class_name}, __sb_p, __sb_s, {}); __sb_s.__sb_si.call({class_name}); return {class_name}; }})(",
            if derived { "__sb_P" } else { "undefined" }
        ));
        if let Some((a, b)) = heritage {
            out.push_str(&self.emit(a, b, Mode::Plain)?);
        }
        out.push(')');
        if !expression {
            out.push(';');
        }
        // Keep the user's line numbers: reproduce the line breaks the class spanned.
        let span = &self.src[self.toks[k].start..self.toks[close].end];
        let lines_in = span.matches('\n').count();
        let lines_out = out.matches('\n').count();
        for _ in lines_out..lines_in {
            out.push('\n');
        }
        Ok((out, close + 1))
    }

    fn template_end(&self, head: usize) -> Result<usize, LowerError> {
        let mut depth = 0i32;
        for i in head..self.toks.len() {
            match self.toks[i].kind {
                Kind::TemplateHead => depth += 1,
                Kind::TemplateTail => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                _ => {}
            }
        }
        Err(self.err(head, "unterminated template literal"))
    }

    /// The property key expression for a field, and whether the field is hidden (private).
    fn field_key(&self, (a, b): (usize, usize)) -> Result<(String, bool), LowerError> {
        let t = self.toks[a];
        let text = &self.src[t.start..t.end];
        Ok(match t.kind {
            Kind::Private => (format!("\"{}\"", mangle_private(text)), true),
            Kind::Ident => (format!("\"{text}\""), false),
            Kind::Str | Kind::Num => (text.to_string(), false),
            Kind::Punct if text == "[" => (
                format!("({})", self.emit(a + 1, b - 1, Mode::Plain)?),
                false,
            ),
            _ => return Err(self.err(a, "unsupported class field name")),
        })
    }

    fn members(&self, from: usize, close: usize) -> Result<Vec<Member>, LowerError> {
        let mut out = Vec::new();
        let mut p = from;
        let ends_member = |i: usize| {
            self.is_punct(i, "(")
                || self.is_punct(i, "=")
                || self.is_punct(i, ";")
                || self.is_punct(i, "}")
                || i >= close
        };
        while p < close {
            if self.is_punct(p, ";") {
                p += 1;
                continue;
            }
            let mut is_static = false;
            if self.is_ident(p, "static") && !ends_member(p + 1) {
                if self.is_punct(p + 1, "{") {
                    let to = self.matching(p + 1)?;
                    out.push(Member::StaticBlock { from: p + 1, to });
                    p = to + 1;
                    continue;
                }
                is_static = true;
                p += 1;
            }
            let head = p;
            let mut plain_name = true;
            // Modifiers: `async` (not followed by a line break), `*`, `get`/`set`. Each is only a modifier
            // when a member name follows; otherwise it is the member's own name.
            loop {
                let is_async =
                    self.is_ident(p, "async") && !ends_member(p + 1) && !self.toks[p + 1].nl_before;
                let is_accessor =
                    (self.is_ident(p, "get") || self.is_ident(p, "set")) && !ends_member(p + 1);
                if !(is_async || is_accessor || self.is_punct(p, "*")) {
                    break;
                }
                p += 1;
                plain_name = false;
            }
            let key_start = p;
            if self.is_punct(p, "[") {
                p = self.matching(p)? + 1;
            } else if p < close {
                p += 1;
            } else {
                return Err(self.err(p, "expected a class member name"));
            }
            let key = (key_start, p);
            if self.is_punct(p, "(") {
                let params_close = self.matching(p)?;
                if !self.is_punct(params_close + 1, "{") {
                    return Err(self.err(params_close + 1, "expected a method body"));
                }
                let body_close = self.matching(params_close + 1)?;
                let is_ctor = !is_static
                    && plain_name
                    && key.1 == key.0 + 1
                    && (self.is_ident(key_start, "constructor")
                        || matches!(self.text(key_start), "\"constructor\"" | "'constructor'"));
                if is_ctor {
                    out.push(Member::Ctor {
                        from: p,
                        to: body_close,
                    });
                } else {
                    out.push(Member::Method {
                        is_static,
                        from: head,
                        to: body_close,
                    });
                }
                p = body_close + 1;
                continue;
            }
            if !plain_name {
                return Err(self.err(p, "expected `(` after a method name"));
            }
            let mut init = None;
            if self.is_punct(p, "=") {
                let start = p + 1;
                let end = self.initializer_end(start, close)?;
                init = Some((start, end));
                p = end;
            }
            out.push(Member::Field {
                is_static,
                key,
                init,
            });
        }
        Ok(out)
    }

    /// Where a field initialiser starting at `start` ends: at `;`, the class body's `}`, or a line break
    /// where automatic semicolon insertion would end it.
    fn initializer_end(&self, start: usize, close: usize) -> Result<usize, LowerError> {
        let mut i = start;
        while i < close {
            if i > start && self.toks[i].nl_before && !self.continues_expression(i - 1, i) {
                return Ok(i);
            }
            if self.is_punct(i, ";") {
                return Ok(i);
            }
            if self.is_punct(i, "(") || self.is_punct(i, "[") || self.is_punct(i, "{") {
                i = self.matching(i)?;
            } else if self.toks[i].kind == Kind::TemplateHead {
                i = self.template_end(i)?;
            }
            i += 1;
        }
        Ok(close)
    }

    fn continues_expression(&self, prev: usize, next: usize) -> bool {
        let p = self.toks[prev];
        let ptext = &self.src[p.start..p.end];
        let prev_wants_more = match p.kind {
            Kind::Punct => !matches!(ptext, ")" | "]" | "}" | "++" | "--"),
            Kind::Ident => matches!(
                ptext,
                "new" | "typeof" | "void" | "delete" | "in" | "instanceof" | "await" | "yield"
            ),
            Kind::TemplateHead | Kind::TemplateMiddle => true,
            _ => false,
        };
        if prev_wants_more {
            return true;
        }
        let n = self.toks[next];
        let ntext = &self.src[n.start..n.end];
        match n.kind {
            Kind::Punct => !matches!(ntext, "++" | "--" | "{" | "}" | ";" | "!" | "~" | "*" | "@"),
            Kind::Ident => matches!(ntext, "instanceof" | "in"),
            Kind::Template | Kind::TemplateHead => true,
            _ => false,
        }
    }
}

fn mangle_private(text: &str) -> String {
    format!("__sb_priv_{}", text.trim_start_matches('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, src[t.start..t.end].to_string()))
            .collect()
    }

    #[test]
    fn regex_versus_division() {
        let k = kinds("a = b / c / d; r = /}{[/]/g.test(x); return /x/");
        assert_eq!(k.iter().filter(|(k, _)| *k == Kind::Regex).count(), 2);
        let k = kinds("x = (a) / 2 / (b)");
        assert_eq!(k.iter().filter(|(k, _)| *k == Kind::Regex).count(), 0);
    }

    #[test]
    fn templates_nest() {
        let k = kinds("`a${ {b: `c${ d }e`}.b }f` + '}'");
        let names: Vec<Kind> = k.iter().map(|(k, _)| *k).collect();
        assert_eq!(names[0], Kind::TemplateHead);
        assert!(names.contains(&Kind::TemplateTail));
        assert_eq!(k.last().unwrap().1, "'}'");
    }

    #[test]
    fn no_class_is_identity() {
        let src = "function f() { return { class: 1 }.class; } // class A {}\n";
        assert_eq!(lower_classes(src).unwrap(), src);
    }

    #[test]
    fn lowers_declaration_and_keeps_lines() {
        let src = "class Script {\n  a() {\n return '}'; }\n}\nx = 1;\n";
        let out = lower_classes(src).unwrap();
        assert!(out.starts_with("var Script = (function ("), "{out}");
        assert!(!out.contains("class "), "{out}");
        assert_eq!(
            out.matches('\n').count(),
            src.matches('\n').count(),
            "{out}"
        );
        assert!(out.ends_with("\nx = 1;\n"));
    }

    #[test]
    fn expression_and_members() {
        let src = "const A = class extends B { static s = 1; #p = 2; get g() { return this.#p } constructor(a) { super(a); super.m(); } static { this.t = 3 } };";
        let out = lower_classes(src).unwrap();
        assert!(out.starts_with("const A = (function (__sb_P)"), "{out}");
        assert!(out.contains("__sb_sup(this, a)"), "{out}");
        assert!(out.contains("super.m()"), "{out}");
        assert!(out.contains("__sb_priv_p"), "{out}");
        assert!(out.contains("this.t = 3"), "{out}");
        assert!(out.trim_end().ends_with("})(B);"), "{out}");
    }

    #[test]
    fn field_asi() {
        let src = "class A {\n x = 1\n y = a\n  .b\n ['z'] = 2\n m() {}\n}";
        let l = lower_classes(src).unwrap();
        assert!(l.contains("__sb_rt.field(this, \"x\", (1), false)"), "{l}");
        assert!(l.contains("(a\n  .b\n ['z'] = 2)"), "{l}");
    }

    #[test]
    fn top_level_return() {
        assert!(has_top_level_return("if (x) return 1;"));
        assert!(!has_top_level_return("function f() { return 1 }"));
        assert!(!has_top_level_return("class A { m() { return `${1}` } }"));
    }
}
