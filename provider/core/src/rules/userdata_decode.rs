//! User data as the instance will read it: the layers hidden inside a user data string.
//!
//! cloud-init and nodeadm read MIME multipart documents (each part possibly base64 or
//! quoted-printable), gzip, and base64 (`write_files` with `encoding: b64` or `gzip+base64`).
//! [`layers`] peels those, nested, and returns every decoded text with where it was found, so a
//! scan sees what the node will see. Bounded: at most [`MAX_DEPTH`] levels and [`MAX_BYTES`]
//! decoded bytes in all (a gzip bomb stops there).

use std::io::Read;

use base64::Engine;

/// The deepest nesting peeled.
pub const MAX_DEPTH: usize = 4;
/// The most bytes decoded in all.
pub const MAX_BYTES: usize = 1 << 20;
/// The shortest base64 run tried (shorter runs are ordinary words).
const MIN_B64: usize = 16;

/// One decoded layer: where it was found, and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// E.g. `MIME part 2 > base64 > gzip`.
    pub origin: String,
    /// The decoded text.
    pub text: String,
}

/// Every decoded layer under `s` (not `s` itself), outermost first.
pub fn layers(s: &str) -> Vec<Layer> {
    let mut out = Vec::new();
    let mut budget = MAX_BYTES;
    peel(s, "", 0, &mut budget, &mut out);
    out
}

fn push(bytes: Vec<u8>, origin: String, depth: usize, budget: &mut usize, out: &mut Vec<Layer>) {
    if bytes.len() > *budget {
        return;
    }
    *budget -= bytes.len();
    let (bytes, origin) = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut d = Vec::new();
        let limit = (*budget as u64) + 1;
        if flate2::read::GzDecoder::new(&bytes[..]).take(limit).read_to_end(&mut d).is_err() || d.len() as u64 >= limit {
            return;
        }
        *budget -= d.len();
        (d, format!("{origin} > gzip"))
    } else {
        (bytes, origin)
    };
    let Ok(text) = String::from_utf8(bytes) else { return };
    let origin = origin.trim_start_matches(" > ").to_string();
    peel(&text, &origin, depth + 1, budget, out);
    out.push(Layer { origin, text });
}

fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

fn decode_b64(run: &str) -> Option<Vec<u8>> {
    let run = run.trim_end_matches('=');
    if run.len() < MIN_B64 {
        return None;
    }
    let e = base64::engine::general_purpose::STANDARD_NO_PAD;
    let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    e.decode(run).or_else(|_| u.decode(run)).ok()
}

fn peel(s: &str, origin: &str, depth: usize, budget: &mut usize, out: &mut Vec<Layer>) {
    if depth >= MAX_DEPTH || *budget == 0 {
        return;
    }
    let head = s.trim_start();
    let mime = ["MIME-Version", "Content-Type"].iter().any(|h| head.get(..h.len()).is_some_and(|x| x.eq_ignore_ascii_case(h)));
    if mime {
        if let Ok(mail) = mailparse::parse_mail(head.as_bytes()) {
            let mut leaves = Vec::new();
            collect_leaves(&mail, &mut leaves);
            for (i, part) in leaves.into_iter().enumerate() {
                if let Ok(body) = part.get_body_raw() {
                    push(body, format!("{origin} > MIME part {}", i + 1), depth, budget, out);
                }
            }
            return;
        }
    }
    // Runs of base64: whole lines of it (joined, as a wrapped block), and tokens within a line.
    let mut block = String::new();
    let mut runs: Vec<String> = Vec::new();
    for line in s.lines() {
        let t = line.trim();
        if !t.is_empty() && t.chars().all(is_b64) {
            block.push_str(t);
            continue;
        }
        if !block.is_empty() {
            runs.push(std::mem::take(&mut block));
        }
        runs.extend(t.split(|c: char| !is_b64(c)).filter(|w| w.len() >= MIN_B64).map(str::to_string));
    }
    if !block.is_empty() {
        runs.push(block);
    }
    for run in runs {
        if let Some(bytes) = decode_b64(&run) {
            push(bytes, format!("{origin} > base64"), depth, budget, out);
        }
    }
}

fn collect_leaves<'a>(m: &'a mailparse::ParsedMail<'a>, out: &mut Vec<&'a mailparse::ParsedMail<'a>>) {
    if m.subparts.is_empty() {
        out.push(m);
    } else {
        for p in &m.subparts {
            collect_leaves(p, out);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    pub(crate) fn gzip(s: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(s);
        e.finish().unwrap_or_default()
    }

    #[test]
    fn peels_base64_gzip_and_mime() {
        let inner = "#!/bin/sh\necho hello world from the node\n";
        let l = layers(&b64(inner.as_bytes()));
        assert_eq!(l.iter().map(|x| x.origin.as_str()).collect::<Vec<_>>(), ["base64"]);
        assert_eq!(l[0].text, inner);
        let l = layers(&b64(&gzip(inner.as_bytes())));
        assert_eq!(l[0].origin, "base64 > gzip");
        let mime = format!(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n{}\n--B--\n",
            b64(format!("write_files:\n- encoding: gzip+base64\n  content: {}\n", b64(&gzip(inner.as_bytes()))).as_bytes())
        );
        let origins: Vec<String> = layers(&mime).into_iter().map(|x| x.origin).collect();
        assert_eq!(origins, ["MIME part 1 > base64 > gzip", "MIME part 1"]);
    }

    #[test]
    fn plain_text_has_no_layers() {
        assert!(layers("#!/bin/bash\nset -euo pipefail\necho configuring kubelet-extra-args\n").is_empty());
    }

    #[test]
    fn gzip_bombs_stop_at_the_budget() {
        let big = vec![b'a'; MAX_BYTES * 2];
        assert!(layers(&b64(&gzip(&big))).is_empty());
    }
}
