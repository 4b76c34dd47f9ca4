//! The subset of Go templates that `--format` needs in practice: `{{.Field}}`,
//! `{{.A.B}}`, `{{json .}}`, `{{json .Field}}`, `{{index .Field "key"}}`, `{{join .Field ","}}`,
//! `{{upper ..}}`/`{{lower ..}}`, and `\t` / `\n` escapes. Data is a JSON value.

use serde_json::Value;

#[derive(Debug)]
enum Part {
    Text(String),
    Action(Vec<String>),
}

#[derive(Debug)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let text = text.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("template: unclosed action in {text:?}"))?;
            let action = after[..end]
                .trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            parts.push(Part::Action(split_words(action)));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, data: &Value) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action(words) => out.push_str(&eval(words, data)),
            }
        }
        out
    }

    /// The table header for a `table ...` format: each `{{.Field}}` becomes its Docker
    /// column name (`.ID` -> `IMAGE ID` etc. is approximated by upper-casing with spaces).
    pub fn header(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action(words) => {
                    let field = words
                        .last()
                        .map(|w| w.trim_start_matches('.'))
                        .unwrap_or("");
                    out.push_str(&column_name(field));
                }
            }
        }
        out
    }
}

fn column_name(field: &str) -> String {
    match field {
        "ID" => "IMAGE ID".into(),
        "CreatedSince" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        "CreatedBy" => "CREATED BY".into(),
        "RunningFor" => "CREATED".into(),
        other => {
            let mut s = String::new();
            let mut prev_upper = true;
            for c in other.chars() {
                if c.is_uppercase() && !prev_upper {
                    s.push(' ');
                }
                prev_upper = c.is_uppercase();
                s.extend(c.to_uppercase());
            }
            s
        }
    }
}

fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    if path == "." {
        return Some(data);
    }
    let mut v = data;
    for key in path.trim_start_matches('.').split('.') {
        v = v.get(key)?;
    }
    Some(v)
}

fn arg(word: &str, data: &Value) -> Value {
    if let Some(s) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        return Value::String(s.to_string());
    }
    lookup(data, word).cloned().unwrap_or(Value::Null)
}

fn eval(words: &[String], data: &Value) -> String {
    match words.first().map(String::as_str) {
        None => String::new(),
        Some("json") => {
            serde_json::to_string(&arg(words.get(1).map(String::as_str).unwrap_or("."), data))
                .unwrap_or_default()
        }
        Some("index") if words.len() >= 3 => {
            let base = arg(&words[1], data);
            let key = arg(&words[2], data);
            let v = match (&base, &key) {
                (Value::Object(m), Value::String(k)) => m.get(k).cloned(),
                (Value::Array(a), Value::Number(n)) => {
                    n.as_u64().and_then(|i| a.get(i as usize).cloned())
                }
                _ => None,
            };
            text(&v.unwrap_or(Value::Null))
        }
        Some("join") if words.len() >= 3 => {
            let base = arg(&words[1], data);
            let sep = arg(&words[2], data);
            let sep = sep.as_str().unwrap_or(",");
            match base {
                Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(sep),
                v => text(&v),
            }
        }
        Some("upper") if words.len() >= 2 => text(&arg(&words[1], data)).to_uppercase(),
        Some("lower") if words.len() >= 2 => text(&arg(&words[1], data)).to_lowercase(),
        Some("len") if words.len() >= 2 => match arg(&words[1], data) {
            Value::Array(a) => a.len().to_string(),
            Value::Object(m) => m.len().to_string(),
            Value::String(s) => s.len().to_string(),
            _ => "0".into(),
        },
        Some(w) if w.starts_with('.') => text(&arg(w, data)),
        Some(w) => format!("<unsupported template function {w}>"),
    }
}

/// A value as Go's template prints it: strings bare, null as `<no value>`, others as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(text).collect::<Vec<_>>().join(" ")),
        Value::Object(_) => format!("map{}", serde_json::to_string(v).unwrap_or_default()),
        other => other.to_string(),
    }
}

/// A row field as shown in a table cell.
pub fn field_text(row: &Value, field: &str) -> String {
    match row.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_fields_and_functions() {
        let d = json!({"Repository": "alpine", "Tag": "3", "Config": {"Env": ["A=1", "B=2"]}, "Labels": {"k": "v"}});
        let t = Template::parse("{{.Repository}}:{{.Tag}}\\t{{json .Config.Env}} {{join .Config.Env \",\"}} {{index .Labels \"k\"}}").unwrap();
        assert_eq!(t.render(&d), "alpine:3\t[\"A=1\",\"B=2\"] A=1,B=2 v");
        assert_eq!(
            Template::parse("{{.Missing}}").unwrap().render(&d),
            "<no value>"
        );
    }

    #[test]
    fn headers() {
        let t = Template::parse("{{.Repository}}\\t{{.ID}}").unwrap();
        assert_eq!(t.header(), "REPOSITORY\tIMAGE ID");
    }
}
