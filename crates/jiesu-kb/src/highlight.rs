//! Highlighting: HTML-escaped text with `<mark>` around the matched terms, and snippets (the
//! window of an answer with the most matches).
//!
//! Matching is done on a folded copy of the original text (full-width forms to ASCII, upper
//! to lower case), so `ＷｉＦｉ` in an article is marked for a query `wifi`; the output always
//! shows the original characters.

/// Folds one character the way the analyser normalises text (full-width → ASCII, lower case).
#[inline]
fn fold(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if c.is_ascii_uppercase() {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// Whether a character changes when folded.
#[inline]
fn needs_fold(c: char) -> bool {
    c.is_ascii_uppercase() || ('\u{FF01}'..='\u{FF5E}').contains(&c)
}

/// The marked byte ranges of `text` (sorted, merged): every occurrence of a needle
/// (normalised) in the folded text. Uses `str::match_indices` on the text itself when folding
/// changes nothing (the common case), else on a folded copy mapped back to original offsets.
fn mark_ranges(text: &str, needles: &[String]) -> Vec<(usize, usize)> {
    let mut r: Vec<(usize, usize)> = Vec::new();
    if text.chars().any(needs_fold) {
        let mut folded = String::with_capacity(text.len());
        // Original byte offset of each folded byte position that starts a char, and the end.
        let mut map: Vec<(usize, usize)> = Vec::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            map.push((folded.len(), i));
            folded.push(fold(c));
        }
        map.push((folded.len(), text.len()));
        let to_orig = |fb: usize| -> usize {
            match map.binary_search_by_key(&fb, |&(f, _)| f) {
                Ok(k) => map[k].1,
                Err(k) => map[k.min(map.len() - 1)].1,
            }
        };
        for n in needles.iter().filter(|n| !n.is_empty()) {
            for (i, m) in folded.match_indices(n.as_str()) {
                r.push((to_orig(i), to_orig(i + m.len())));
            }
        }
    } else {
        for n in needles.iter().filter(|n| !n.is_empty()) {
            for (i, m) in text.match_indices(n.as_str()) {
                r.push((i, i + m.len()));
            }
        }
    }
    r.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(r.len());
    for (a, b) in r {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Appends `c` HTML-escaped.
#[inline]
fn push_escaped(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

/// Renders `text[from..to]` escaped, with marks from the sorted ranges.
fn render(text: &str, from: usize, to: usize, ranges: &[(usize, usize)], out: &mut String) {
    let mut pos = from;
    for &(a, b) in ranges {
        if b <= pos {
            continue;
        }
        if a >= to {
            break;
        }
        let (a, b) = (a.max(pos), b.min(to));
        for c in text[pos..a].chars() {
            push_escaped(out, c);
        }
        out.push_str("<mark>");
        for c in text[a..b].chars() {
            push_escaped(out, c);
        }
        out.push_str("</mark>");
        pos = b;
    }
    for c in text[pos..to].chars() {
        push_escaped(out, c);
    }
}

/// HTML-escapes `text` (no marks).
pub fn escape_html(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut s, c);
    }
    s
}

/// The whole `text`, HTML-escaped, with `<mark>…</mark>` around every occurrence of a needle.
pub fn highlight(text: &str, needles: &[String]) -> String {
    let ranges = mark_ranges(text, needles);
    let mut out = String::with_capacity(text.len() + 13 * ranges.len());
    render(text, 0, text.len(), &ranges, &mut out);
    out
}

/// Byte offset of the char `k` chars after byte offset `from` (or the end).
fn advance(text: &str, from: usize, k: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(k)
        .map(|(i, _)| from + i)
        .unwrap_or(text.len())
}

/// A window of at most `max_chars` characters of `text` holding the most marked characters
/// (the earliest such window; the start when nothing matches), HTML-escaped with marks and with
/// `…` where text was cut.
pub fn snippet(text: &str, needles: &[String], max_chars: usize) -> String {
    let w = max_chars.max(1);
    let n = text.chars().count();
    let ranges = mark_ranges(text, needles);
    let mut out = String::with_capacity(w * 4 + 13 * ranges.len().min(16) + 8);
    if n <= w {
        render(text, 0, text.len(), &ranges, &mut out);
        return out;
    }
    // Char positions of the marked ranges.
    let mut cr: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    {
        let mut ci = 0usize;
        let mut bi = 0usize;
        for &(a, b) in &ranges {
            ci += text[bi..a].chars().count();
            let ca = ci;
            ci += text[a..b].chars().count();
            cr.push((ca, ci));
            bi = b;
        }
    }
    // The best window starts at a range start: two pointers over the ranges.
    let (mut best, mut best_start) = (0usize, 0usize);
    let mut j = 0;
    let mut covered = 0usize;
    for i in 0..cr.len() {
        let s = cr[i].0;
        let e = s + w;
        if j < i {
            j = i;
            covered = 0;
        }
        while j < cr.len() && cr[j].1 <= e {
            covered += cr[j].1 - cr[j].0;
            j += 1;
        }
        let partial = if j < cr.len() && cr[j].0 < e {
            e - cr[j].0
        } else {
            0
        };
        if covered + partial > best {
            best = covered + partial;
            best_start = s;
        }
        if j > i {
            covered -= cr[i].1 - cr[i].0;
        }
    }
    let mut start_c = 0usize;
    if best > 0 {
        // A little context before the first match, from a sentence start if one is near.
        let lead = (w / 6).min(best_start);
        start_c = best_start - lead;
        let sb = advance(text, 0, start_c);
        let fb = advance(text, sb, best_start - start_c);
        if let Some(p) = text[sb..fb].rfind(['。', '；', '！', '？', '\n']) {
            let after = sb + p + text[sb + p..].chars().next().map_or(1, char::len_utf8);
            start_c += text[sb..after].chars().count();
        }
        start_c = start_c.min(n - w);
    }
    let sb = advance(text, 0, start_c);
    let eb = advance(text, sb, w);
    if sb > 0 {
        out.push('…');
    }
    render(text, sb, eb, &ranges, &mut out);
    if eb < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn marks_and_escapes() {
        let h = highlight("供暖<b>时间</b>&供暖", &v(&["供暖"]));
        assert_eq!(
            h,
            "<mark>供暖</mark>&lt;b&gt;时间&lt;/b&gt;&amp;<mark>供暖</mark>"
        );
        assert_eq!(
            highlight("ＷｉＦｉ信号", &v(&["wifi"])),
            "<mark>ＷｉＦｉ</mark>信号"
        );
        assert_eq!(highlight("abc", &v(&[])), "abc");
        assert_eq!(highlight("", &v(&["x"])), "");
        // Adjacent and overlapping needles merge into one mark.
        assert_eq!(
            highlight("住房公积金提取", &v(&["公积金", "住房", "提取"])),
            "<mark>住房公积金提取</mark>"
        );
        assert_eq!(escape_html("a'\"b"), "a&#39;&quot;b");
    }

    #[test]
    fn snippet_picks_the_matching_window() {
        let text = format!(
            "{}。供暖从11月15日开始。{}",
            "无关内容".repeat(20),
            "其他".repeat(20)
        );
        let s = snippet(&text, &v(&["供暖"]), 20);
        assert!(s.contains("<mark>供暖</mark>"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        let s = snippet("短文本", &v(&["文本"]), 50);
        assert_eq!(s, "短<mark>文本</mark>");
        let s = snippet(&"无".repeat(100), &v(&["供暖"]), 10);
        assert_eq!(s, format!("{}…", "无".repeat(10)));
        // Full-width text far into a long answer, with a sentence start before the match.
        let text = format!(
            "{}。请用ＷｉＦｉ报修。{}",
            "甲".repeat(300),
            "乙".repeat(300)
        );
        let s = snippet(&text, &v(&["wifi", "报修"]), 30);
        assert!(s.starts_with("…请用<mark>ＷｉＦｉ报修</mark>。乙"), "{s}");
    }

    #[test]
    fn odd_input_never_panics() {
        let texts = [
            "",
            "a",
            "<>&\"'",
            "😀供暖😀",
            "ＡＢＣ供暖ａｂｃ",
            "\n\n。。。",
        ];
        let needles = v(&["供暖", "abc", "😀", "。", "a"]);
        for t in texts {
            let _ = highlight(t, &needles);
            for w in [0, 1, 2, 5, 100] {
                let _ = snippet(&t.repeat(7), &needles, w);
            }
        }
    }
}
