//! Messages as HTML, the way Rocket.Chat shows integration posts: avatar (URL or emoji), alias, bot badge,
//! basic Markdown, links, and attachments (color bar, author, title, text, fields side by side when
//! `short`, image and thumbnail, collapsed). One renderer serves the chat view, its live updates and the
//! integration Test panel, so what an admin previews is exactly what the team will see.
//!
//! Everything here comes from untrusted senders (webhooks, scripts, bots). The rules: every text is
//! escaped; only `http(s):` and `mailto:` URLs become links and only `http(s):` URLs (or same-site
//! absolute paths) become images; colors must be a plain hex or Slack keyword and travel in a `data-`
//! attribute (applied by script, because the Content-Security-Policy forbids inline styles); no attribute
//! ever carries an event handler. The output is built by hand rather than by a template so these rules
//! live in one reviewed place.

use serde_json::{Map, Value};

use crate::model::Message;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(s, &mut out);
    out
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// A URL fit for `href`: `http(s)://host…` or `mailto:`; anything else (`javascript:`, `data:`, relative
/// tricks such as `//evil`) is refused.
pub fn safe_link(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let ok = ((lower.starts_with("http://") && u.len() > 7)
        || (lower.starts_with("https://") && u.len() > 8)
        || (lower.starts_with("mailto:") && u.len() > 7))
        && !u.chars().any(|c| c.is_control() || c == ' ');
    ok.then_some(u)
}

/// A URL fit for `src` of an image or media element: `http(s)://…`, or a same-site absolute path.
pub fn safe_src(url: &str) -> Option<&str> {
    let u = url.trim();
    if u.starts_with('/') && !u.starts_with("//") && !u.contains('\\') {
        return Some(u);
    }
    let lower = u.to_ascii_lowercase();
    ((lower.starts_with("http://") || lower.starts_with("https://"))
        && !u.chars().any(|c| c.is_control() || c == ' '))
    .then_some(u)
}

/// An attachment color: `#rgb`, `#rrggbb`, `#rrggbbaa`, or Slack's `good` / `warning` / `danger`.
pub fn safe_color(c: &str) -> Option<String> {
    let c = c.trim();
    match c.to_ascii_lowercase().as_str() {
        "good" => return Some("#2eb886".into()),
        "warning" => return Some("#daa038".into()),
        "danger" => return Some("#a30200".into()),
        _ => {}
    }
    let hex = c.strip_prefix('#').unwrap_or(c);
    (matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|x| x.is_ascii_hexdigit()))
        .then(|| format!("#{hex}"))
}

/// The common Slack/Rocket.Chat emoji short codes integrations use; unknown codes stay as text.
const EMOJI: &[(&str, &str)] = &[
    ("+1", "👍"),
    ("-1", "👎"),
    ("alarm_clock", "⏰"),
    ("bell", "🔔"),
    ("boom", "💥"),
    ("bug", "🐛"),
    ("chart_with_upwards_trend", "📈"),
    ("check", "✔️"),
    ("clock", "🕒"),
    ("cloud", "☁️"),
    ("construction", "🚧"),
    ("eyes", "👀"),
    ("fire", "🔥"),
    ("ghost", "👻"),
    ("green_circle", "🟢"),
    ("heart", "❤️"),
    ("heavy_check_mark", "✔️"),
    ("information_source", "ℹ️"),
    ("large_blue_circle", "🔵"),
    ("lock", "🔒"),
    ("mag", "🔍"),
    ("memo", "📝"),
    ("no_entry", "⛔"),
    ("package", "📦"),
    ("rain_cloud", "🌧️"),
    ("red_circle", "🔴"),
    ("robot", "🤖"),
    ("rocket", "🚀"),
    ("rotating_light", "🚨"),
    ("smile", "😄"),
    ("sparkles", "✨"),
    ("sunny", "☀️"),
    ("tada", "🎉"),
    ("thumbsdown", "👎"),
    ("thumbsup", "👍"),
    ("warning", "⚠️"),
    ("wave", "👋"),
    ("white_check_mark", "✅"),
    ("wrench", "🔧"),
    ("x", "❌"),
    ("yellow_circle", "🟡"),
    ("zap", "⚡"),
];

pub fn emoji(code: &str) -> Option<&'static str> {
    let code = code.trim().trim_matches(':');
    EMOJI.iter().find(|(k, _)| *k == code).map(|(_, v)| *v)
}

// ---- Markdown ---------------------------------------------------------------------------------------------

/// Rocket.Chat's basic message Markdown: ```` ``` ```` code blocks, `> ` quotes, and inline `*bold*`,
/// `_italic_`, `~strike~`, `` `code` ``, `[text](url)`, Slack's `<url|text>`, bare URLs and `:emoji:`.
pub fn markdown(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(start) = rest.find("```") {
            if let Some(len) = rest[start + 3..].find("```") {
                blocks(&rest[..start], &mut out);
                let code = rest[start + 3..start + 3 + len].trim_start_matches('\n');
                out.push_str("<pre><code>");
                escape_into(code.trim_end_matches('\n'), &mut out);
                out.push_str("</code></pre>");
                rest = &rest[start + 6 + len..];
                continue;
            }
        }
        blocks(rest, &mut out);
        break;
    }
    out
}

/// Lines outside code blocks: consecutive `>` lines form a quote, other lines are joined with `<br>`.
fn blocks(text: &str, out: &mut String) {
    let text = text.trim_matches('\n');
    if text.is_empty() {
        return;
    }
    let mut quote: Vec<&str> = Vec::new();
    let mut first = true;
    let flush = |quote: &mut Vec<&str>, out: &mut String| {
        if !quote.is_empty() {
            out.push_str("<blockquote>");
            for (i, l) in quote.iter().enumerate() {
                if i > 0 {
                    out.push_str("<br>");
                }
                inline(l, out, 0);
            }
            out.push_str("</blockquote>");
            quote.clear();
        }
    };
    for line in text.split('\n') {
        if let Some(q) = line.strip_prefix('>').or_else(|| line.strip_prefix("&gt;")) {
            quote.push(q.strip_prefix(' ').unwrap_or(q));
            continue;
        }
        let had_quote = !quote.is_empty();
        flush(&mut quote, out);
        if !first && !had_quote {
            out.push_str("<br>");
        }
        first = false;
        inline(line, out, 0);
    }
    flush(&mut quote, out);
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

fn link(out: &mut String, url: &str, label: &str, depth: usize) {
    out.push_str("<a href=\"");
    escape_into(url, out);
    out.push_str("\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">");
    inline(label, out, depth + 1);
    out.push_str("</a>");
}

/// One line of inline Markdown. `depth` bounds recursion so hostile nesting cannot exhaust the stack.
fn inline(s: &str, out: &mut String, depth: usize) {
    if depth > 8 {
        escape_into(s, out);
        return;
    }
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().expect("non-empty");
        let prev = s[..i].chars().next_back();
        match c {
            '`' => {
                if let Some(end) = rest[1..].find('`').filter(|e| *e > 0) {
                    out.push_str("<code>");
                    escape_into(&rest[1..1 + end], out);
                    out.push_str("</code>");
                    i += end + 2;
                    continue;
                }
            }
            '[' => {
                if let Some(close) = rest.find("](") {
                    if let Some(end) = rest[close + 2..].find(')') {
                        let label = &rest[1..close];
                        let url = &rest[close + 2..close + 2 + end];
                        if let (false, Some(u)) = (label.is_empty(), safe_link(url)) {
                            link(out, u, label, depth);
                            i += close + 3 + end;
                            continue;
                        }
                    }
                }
            }
            '<' => {
                if let Some(end) = rest.find('>') {
                    let inner = &rest[1..end];
                    let (url, label) = inner.split_once('|').unwrap_or((inner, inner));
                    if let Some(u) = safe_link(url) {
                        link(out, u, if label.is_empty() { u } else { label }, depth);
                        i += end + 1;
                        continue;
                    }
                }
            }
            'h' | 'm' if prev.is_none_or(|p| !is_word(p)) => {
                let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
                if lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("mailto:")
                {
                    let end = rest
                        .find(|ch: char| ch.is_whitespace() || ch == '<' || ch == '"')
                        .unwrap_or(rest.len());
                    let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
                    if let Some(u) = safe_link(url) {
                        link(out, u, u, depth);
                        i += url.len();
                        continue;
                    }
                }
            }
            '*' | '_' | '~' if prev.is_none_or(|p| !is_word(p) && p != c) => {
                if let Some(len) = closing(&rest[1..], c) {
                    let tag = match c {
                        '*' => "strong",
                        '_' => "em",
                        _ => "del",
                    };
                    out.push('<');
                    out.push_str(tag);
                    out.push('>');
                    inline(&rest[1..1 + len], out, depth + 1);
                    out.push_str("</");
                    out.push_str(tag);
                    out.push('>');
                    i += len + 2;
                    continue;
                }
            }
            ':' => {
                if let Some(end) = rest[1..].find(':') {
                    if let Some(e) = emoji(&rest[1..1 + end]) {
                        out.push_str("<span class=\"emoji\" title=\"");
                        escape_into(&rest[..end + 2], out);
                        out.push_str("\">");
                        out.push_str(e);
                        out.push_str("</span>");
                        i += end + 2;
                        continue;
                    }
                }
            }
            _ => {}
        }
        escape_into(&rest[..c.len_utf8()], out);
        i += c.len_utf8();
    }
}

/// The length of the emphasised text after an opening `delim`: non-empty, without the delimiter inside,
/// not starting or ending with a space, and the closing delimiter not followed by a word character or
/// another delimiter (so `snake_case_names` and `__dunder__` stay as they are).
fn closing(s: &str, delim: char) -> Option<usize> {
    if s.starts_with(char::is_whitespace) || s.starts_with(delim) {
        return None;
    }
    let at = s.find(delim)?;
    let before = s[..at].chars().next_back();
    let after = s[at + delim.len_utf8()..].chars().next();
    (at > 0
        && before.is_some_and(|b| !b.is_whitespace())
        && after.is_none_or(|a| !is_word(a) && a != delim))
    .then_some(at)
}

// ---- messages ---------------------------------------------------------------------------------------------

fn text<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// A field value that may be a string, number or boolean (as Rocket.Chat accepts).
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn initials(name: &str) -> String {
    name.chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

/// A stable hue per username, for the letter avatars (a class, so no inline style is needed).
fn hue_class(name: &str) -> String {
    let h = name
        .bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b.into()));
    format!("hue{}", h % 8)
}

/// `HH:MM` in UTC for the visible time; the full ISO date goes in `datetime` (the page script shows it
/// in the reader's time zone).
fn time_tag(ms: i64) -> String {
    let iso = crate::util::iso(ms);
    let short = iso.get(11..16).unwrap_or("");
    format!("<time datetime=\"{iso}\" title=\"{iso}\">{short}</time>")
}

/// System messages (`t` set) as one muted line.
fn system_text(m: &Message) -> String {
    let who = escape(&m.u.username);
    let what = match m.t.as_deref().unwrap_or("") {
        "uj" => "joined the room".to_string(),
        "ul" => "left the room".to_string(),
        "au" => format!("added {}", escape(&m.msg)),
        "ru" => format!("removed {}", escape(&m.msg)),
        "room_changed_topic" => format!("changed the topic to: {}", escape(&m.msg)),
        "r" => format!("renamed the room to {}", escape(&m.msg)),
        "rm" => "deleted a message".to_string(),
        other => format!("{} {}", escape(other), escape(&m.msg)),
    };
    format!("<strong>{who}</strong> {what}")
}

/// One message as a list item with id `m-<id>` and its timestamp in `data-ts` (for live updates).
pub fn message(m: &Message) -> String {
    let mut out = String::new();
    let x = &m.extra;
    if m.t.is_some() {
        out.push_str(&format!(
            "<li class=\"msg system\" id=\"m-{}\" data-ts=\"{}\"><div class=\"sys\">{} {}</div></li>",
            escape(&m.id),
            m.ts,
            system_text(m),
            time_tag(m.ts)
        ));
        return out;
    }
    out.push_str(&format!(
        "<li class=\"msg\" id=\"m-{}\" data-ts=\"{}\">",
        escape(&m.id),
        m.ts
    ));
    // Avatar: the message's avatar URL, else its emoji, else the sender's initial.
    let alias = text(x, "alias");
    let shown = alias.unwrap_or(&m.u.username);
    match (text(x, "avatar").and_then(safe_src), text(x, "emoji")) {
        (Some(url), _) => out.push_str(&format!(
            "<img class=\"avatar\" src=\"{}\" alt=\"\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
            escape(url)
        )),
        (None, Some(e)) => out.push_str(&format!(
            "<span class=\"avatar emoji-avatar\" aria-hidden=\"true\">{}</span>",
            emoji(e).map(str::to_string).unwrap_or_else(|| escape(e))
        )),
        _ => out.push_str(&format!(
            "<span class=\"avatar letter {}\" aria-hidden=\"true\">{}</span>",
            hue_class(&m.u.username),
            escape(&initials(shown))
        )),
    }
    out.push_str("<div class=\"body\"><div class=\"meta\">");
    out.push_str(&format!("<span class=\"author\">{}</span>", escape(shown)));
    if alias.is_some() {
        out.push_str(&format!(
            " <span class=\"username\">@{}</span>",
            escape(&m.u.username)
        ));
    }
    if m.is_from_bot() {
        out.push_str(" <span class=\"badge bot\">Bot</span>");
    }
    out.push(' ');
    out.push_str(&time_tag(m.ts));
    if m.edited_at.is_some() {
        out.push_str(" <span class=\"edited\">(edited)</span>");
    }
    out.push_str("</div>");
    if !m.msg.is_empty() {
        out.push_str("<div class=\"text\">");
        out.push_str(&markdown(&m.msg));
        out.push_str("</div>");
    }
    if let Some(Value::Array(atts)) = x.get("attachments") {
        for a in atts.iter().filter_map(Value::as_object) {
            attachment(a, &mut out, 0);
        }
    }
    out.push_str("</div></li>");
    out
}

/// One attachment block. Nested `attachments` (quotes of quotes) are rendered to a small depth.
fn attachment(a: &Map<String, Value>, out: &mut String, depth: usize) {
    if depth > 3 {
        return;
    }
    if let Some(p) = text(a, "pretext") {
        out.push_str("<div class=\"pretext\">");
        out.push_str(&markdown(p));
        out.push_str("</div>");
    }
    let color = text(a, "color").and_then(safe_color);
    let collapsed = a.get("collapsed").and_then(Value::as_bool).unwrap_or(false);
    out.push_str("<div class=\"attachment\"");
    if let Some(c) = &color {
        out.push_str(&format!(" data-color=\"{}\"", escape(c)));
    }
    out.push('>');
    let title_html = text(a, "title").map(|t| {
        let link = text(a, "title_link").and_then(safe_link);
        match link {
            Some(u) => format!(
                "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">{}</a>",
                escape(u),
                escape(t)
            ),
            None => escape(t),
        }
    });
    // A titled or collapsed attachment can be folded: collapsed ones show only their title (or a generic
    // label) until opened, as Rocket.Chat does. Untitled, uncollapsed ones are a plain block.
    let foldable = collapsed || title_html.is_some();
    if foldable {
        let summary = title_html.unwrap_or_else(|| "Attachment".into());
        out.push_str(&format!(
            "<details class=\"att-details\"{}><summary class=\"att-title\">{}</summary>",
            if collapsed { "" } else { " open" },
            summary
        ));
    } else {
        out.push_str("<div class=\"att-details\">");
    }
    out.push_str("<div class=\"att-main\"><div class=\"att-content\">");
    if let Some(name) = text(a, "author_name") {
        out.push_str("<div class=\"att-author\">");
        if let Some(icon) = text(a, "author_icon").and_then(safe_src) {
            out.push_str(&format!(
                "<img class=\"author-icon\" src=\"{}\" alt=\"\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
                escape(icon)
            ));
        }
        match text(a, "author_link").and_then(safe_link) {
            Some(u) => out.push_str(&format!(
                "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">{}</a>",
                escape(u),
                escape(name)
            )),
            None => out.push_str(&escape(name)),
        }
        out.push_str("</div>");
    }
    if let Some(t) = text(a, "text") {
        out.push_str("<div class=\"att-text\">");
        out.push_str(&markdown(t));
        out.push_str("</div>");
    }
    if let Some(Value::Array(fields)) = a.get("fields") {
        out.push_str("<div class=\"att-fields\">");
        for f in fields.iter().filter_map(Value::as_object) {
            let short = f.get("short").and_then(Value::as_bool).unwrap_or(false);
            out.push_str(&format!(
                "<div class=\"field{}\"><div class=\"field-title\">{}</div><div class=\"field-value\">{}</div></div>",
                if short { " short" } else { "" },
                escape(text(f, "title").unwrap_or("")),
                markdown(&scalar(f.get("value")).unwrap_or_default()),
            ));
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    if let Some(t) = text(a, "thumb_url").and_then(safe_src) {
        out.push_str(&format!(
            "<img class=\"att-thumb\" src=\"{}\" alt=\"\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
            escape(t)
        ));
    }
    out.push_str("</div>");
    if let Some(img) = text(a, "image_url").and_then(safe_src) {
        out.push_str(&format!(
            "<img class=\"att-image\" src=\"{}\" alt=\"{}\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
            escape(img),
            escape(text(a, "title").unwrap_or("attached image"))
        ));
    }
    if let Some(u) = text(a, "audio_url").and_then(safe_src) {
        out.push_str(&format!(
            "<audio controls preload=\"none\" src=\"{}\"></audio>",
            escape(u)
        ));
    }
    if let Some(u) = text(a, "video_url").and_then(safe_src) {
        out.push_str(&format!(
            "<video controls preload=\"none\" src=\"{}\"></video>",
            escape(u)
        ));
    }
    if let Some(Value::Array(actions)) = a.get("actions") {
        out.push_str("<div class=\"att-actions\">");
        for act in actions.iter().filter_map(Value::as_object) {
            if let (Some(label), Some(u)) =
                (text(act, "text"), text(act, "url").and_then(safe_link))
            {
                out.push_str(&format!(
                    "<a class=\"button small\" href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">{}</a>",
                    escape(u),
                    escape(label)
                ));
            }
        }
        out.push_str("</div>");
    }
    if let Some(Value::Array(inner)) = a.get("attachments") {
        for i in inner.iter().filter_map(Value::as_object) {
            attachment(i, out, depth + 1);
        }
    }
    let footer = text(a, "footer");
    let ts = scalar(a.get("ts"));
    if footer.is_some() || ts.is_some() {
        out.push_str("<div class=\"att-footer\">");
        if let Some(icon) = text(a, "footer_icon").and_then(safe_src) {
            out.push_str(&format!(
                "<img class=\"author-icon\" src=\"{}\" alt=\"\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
                escape(icon)
            ));
        }
        if let Some(f) = footer {
            out.push_str(&escape(f));
        }
        if let Some(ts) = ts {
            let ms = ts
                .parse::<f64>()
                .ok()
                .map(|s| if s < 1e11 { s * 1000.0 } else { s } as i64)
                .or_else(|| crate::util::parse_date(&ts));
            if let Some(ms) = ms {
                out.push_str(" · ");
                out.push_str(&escape(&crate::util::iso(ms)));
            }
        }
        out.push_str("</div>");
    }
    out.push_str(if foldable {
        "</details></div>"
    } else {
        "</div></div>"
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(extra: Value, text: &str) -> Message {
        Message {
            id: "m1".into(),
            rid: "GENERAL".into(),
            msg: text.into(),
            ts: 1_735_689_600_000,
            updated_at: 1_735_689_600_000,
            u: crate::model::UserRef {
                id: "u1".into(),
                username: "rocket.cat".into(),
                name: None,
            },
            t: None,
            tmid: None,
            edited_at: None,
            edited_by: None,
            extra: extra.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn markdown_basics() {
        assert_eq!(
            markdown("*b* _i_ ~s~ `c`"),
            "<strong>b</strong> <em>i</em> <del>s</del> <code>c</code>"
        );
        assert_eq!(markdown("snake_case_name"), "snake_case_name");
        assert_eq!(markdown("a.__dunder__ b"), "a.__dunder__ b");
        assert_eq!(
            markdown("*a* and *b*"),
            "<strong>a</strong> and <strong>b</strong>"
        );
        assert_eq!(markdown("a\nb"), "a<br>b");
        assert_eq!(markdown("> q\nx"), "<blockquote>q</blockquote>x");
        assert_eq!(
            markdown("```\nlet <a>\n```"),
            "<pre><code>let &lt;a&gt;</code></pre>"
        );
        assert_eq!(
            markdown(":tada: done"),
            "<span class=\"emoji\" title=\":tada:\">🎉</span> done"
        );
        assert!(markdown("see https://x.org/a.").contains("href=\"https://x.org/a\""));
        assert!(markdown("<https://x.org|X site>").contains(">X site</a>"));
        assert!(markdown("[docs](https://d.org)").contains("href=\"https://d.org\""));
    }

    #[test]
    fn hostile_content_is_inert() {
        let evil = "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) <javascript:alert(4)|y> \"'";
        let html = markdown(evil);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        let m = msg(
            json!({
                "alias": "<b>bad</b>",
                "avatar": "javascript:alert(1)",
                "attachments": [{
                    "color": "red;background:url(x)",
                    "title": "<i>t</i>", "title_link": "javascript:alert(1)",
                    "author_name": "\"><svg onload=alert(1)>", "author_link": "data:text/html,x",
                    "image_url": "javascript:alert(1)",
                    "fields": [{"title": "<u>f</u>", "value": "<script>x</script>", "short": true}]
                }]
            }),
            "hi",
        );
        let html = message(&m);
        for bad in [
            "<script",
            "<svg",
            "<b>",
            "<i>",
            "<u>",
            "javascript:",
            "data:text",
            "url(x)",
        ] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("&lt;b&gt;bad&lt;/b&gt;"));
    }

    #[test]
    fn attachment_parts() {
        let m = msg(
            json!({
                "bot": {"i": "int1"}, "emoji": ":ghost:",
                "attachments": [{
                    "color": "#FF0000", "title": "Build 42", "title_link": "https://ci.example.org/42",
                    "author_name": "CI", "author_icon": "https://ci.example.org/i.png", "author_link": "https://ci.example.org",
                    "text": "*failed*", "image_url": "https://ci.example.org/graph.png", "thumb_url": "https://ci.example.org/t.png",
                    "fields": [{"title": "Branch", "value": "main", "short": true}, {"title": "Took", "value": 12, "short": true}, {"title": "Log", "value": "long"}]
                }, {"title": "Hidden", "text": "details", "collapsed": true}]
            }),
            "",
        );
        let html = message(&m);
        assert!(html.contains("<span class=\"badge bot\">Bot</span>"));
        assert!(html.contains("👻"));
        assert!(html.contains("data-color=\"#FF0000\""));
        assert!(html.contains("<div class=\"field short\"><div class=\"field-title\">Branch</div><div class=\"field-value\">main</div></div>"));
        assert!(html.contains(">12<"));
        assert!(html.contains(
            "<details class=\"att-details\"><summary class=\"att-title\">Hidden</summary>"
        ));
        assert!(html.contains("<details class=\"att-details\" open>"));
        assert!(html.contains("class=\"att-image\" src=\"https://ci.example.org/graph.png\""));
        assert!(html.contains("<strong>failed</strong>"));
    }

    #[test]
    fn colors() {
        assert_eq!(safe_color("good").as_deref(), Some("#2eb886"));
        assert_eq!(safe_color("#abc").as_deref(), Some("#abc"));
        assert_eq!(safe_color("abcdef").as_deref(), Some("#abcdef"));
        assert_eq!(safe_color("red"), None);
        assert_eq!(safe_color("#abc;x"), None);
    }
}
