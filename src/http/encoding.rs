//! Content codings for the pre-rendered resources: which one a request accepts.
//!
//! The pre-rendered resources are compressed once, at first use, and served from memory
//! (see `catalog::Resource`); every other answer is compressed as it is sent, by
//! tower-http's compression layer. Both must read `Accept-Encoding` alike, so this is the
//! same reading as tower-http 0.7's, for the two codings podmeta offers (RFC 9110
//! §12.5.3):
//!
//! - each listed coding has a q-value (1 if none; an entry with a malformed one is
//!   ignored, as are unknown codings); `x-gzip` is `gzip`;
//! - without `*`, the listed coding with the highest q-value above 0 wins, the more
//!   preferred (br, then gzip, then identity) on a tie; if none is listed above 0, the
//!   identity, unless the identity itself has `q=0`;
//! - with `*`, its q-value stands for every coding not listed, the identity included;
//! - nothing acceptable is a 406 ([`None`]).
//!
//! `tests/suite/http_behaviour.rs` checks that the two readings agree.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::catalog::Encoding;

/// A coding's token as `Accept-Encoding` lists it (`x-gzip` is `gzip`), if it is one of ours.
fn parse(token: &str) -> Option<Encoding> {
    [
        ("gzip", Encoding::Gzip),
        ("x-gzip", Encoding::Gzip),
        ("br", Encoding::Br),
        ("identity", Encoding::Identity),
    ]
    .into_iter()
    .find_map(|(name, encoding)| token.eq_ignore_ascii_case(name).then_some(encoding))
}

/// The coding to answer with, or `None` if the request accepts none of ours (a 406).
pub fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).iter().peekable();
    if values.peek().is_none() {
        return Some(Encoding::Identity);
    }
    // The q-value per coding (in thousandths), as listed; and the wildcard's.
    let mut listed: [Option<u16>; 3] = [None; 3];
    let mut wildcard: Option<u16> = None;
    for entry in values.flat_map(entries) {
        let (coding, q) = entry;
        if coding == "*" {
            wildcard.get_or_insert(q);
        } else if let Some(encoding) = parse(coding) {
            // A coding listed twice counts at its best q-value.
            let slot = &mut listed[encoding as usize];
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
    }
    let best = |q_of: &dyn Fn(Encoding) -> Option<u16>| {
        Encoding::ALL
            .into_iter()
            .filter_map(|e| q_of(e).filter(|&q| q > 0).map(|q| (q, e)))
            .max()
            .map(|(_, e)| e)
    };
    match wildcard {
        None => best(&|e| listed[e as usize]).or_else(|| {
            let identity_refused = listed[Encoding::Identity as usize] == Some(0);
            (!identity_refused).then_some(Encoding::Identity)
        }),
        Some(w) => best(&|e| Some(listed[e as usize].unwrap_or(w))),
    }
}

/// The entries of one `Accept-Encoding` value: each coding with its q-value; an entry with
/// a malformed q-value is left out.
fn entries(value: &HeaderValue) -> impl Iterator<Item = (&str, u16)> {
    value
        .to_str()
        .unwrap_or("")
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.splitn(2, ';');
            let coding = parts.next().unwrap_or("").trim();
            let q = match parts.next() {
                Some(q) => q_value(q.trim())?,
                None => 1000,
            };
            Some((coding, q))
        })
        .filter(|(coding, _)| !coding.is_empty())
}

/// `q=0.5` as 500: a leading 0 or 1, then at most three decimals, at most 1 in all.
fn q_value(text: &str) -> Option<u16> {
    let rest = text
        .strip_prefix('q')
        .or_else(|| text.strip_prefix('Q'))?
        .strip_prefix('=')?;
    let (whole, fraction) = match rest.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rest, None),
    };
    let mut value: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if let Some(fraction) = fraction {
        if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for (digit, scale) in fraction.bytes().zip([100, 10, 1]) {
            value += u16::from(digit - b'0') * scale;
        }
    }
    (value <= 1000).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(values: &[&str]) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
        }
        negotiate(&headers)
    }

    #[test]
    fn no_header_means_the_identity() {
        assert_eq!(chosen(&[]), Some(Encoding::Identity));
    }

    #[test]
    fn br_is_preferred_to_gzip_on_a_tie_whatever_the_order() {
        assert_eq!(chosen(&["gzip, deflate, br, zstd"]), Some(Encoding::Br));
        assert_eq!(chosen(&["br, gzip"]), Some(Encoding::Br));
        assert_eq!(chosen(&["gzip"]), Some(Encoding::Gzip));
        assert_eq!(chosen(&["X-GZIP"]), Some(Encoding::Gzip));
        assert_eq!(chosen(&["gzip", "br"]), Some(Encoding::Br));
    }

    #[test]
    fn q_values_order_the_codings() {
        assert_eq!(chosen(&["br;q=0.5, gzip"]), Some(Encoding::Gzip));
        assert_eq!(chosen(&["br;q=0.5, gzip;q=0.499"]), Some(Encoding::Br));
        assert_eq!(chosen(&["gzip;q=0, identity"]), Some(Encoding::Identity));
        assert_eq!(
            chosen(&["identity;q=1, gzip;q=0.9"]),
            Some(Encoding::Identity)
        );
    }

    #[test]
    fn unknown_codings_and_malformed_q_values_are_ignored() {
        assert_eq!(chosen(&["zstd, deflate"]), Some(Encoding::Identity));
        assert_eq!(chosen(&["br;q=2, gzip"]), Some(Encoding::Gzip));
        assert_eq!(chosen(&["br;q=0.1234"]), Some(Encoding::Identity));
        assert_eq!(chosen(&["br;level=3"]), Some(Encoding::Identity));
        assert_eq!(chosen(&[""]), Some(Encoding::Identity));
    }

    #[test]
    fn the_wildcard_stands_for_every_coding_not_listed() {
        assert_eq!(chosen(&["*"]), Some(Encoding::Br));
        assert_eq!(chosen(&["br;q=0, *"]), Some(Encoding::Gzip));
        assert_eq!(chosen(&["identity, *;q=0"]), Some(Encoding::Identity));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(chosen(&["identity;q=0"]), None);
        assert_eq!(chosen(&["*;q=0"]), None);
        assert_eq!(chosen(&["gzip;q=0, identity;q=0"]), None);
    }

    #[test]
    fn q_values_parse_as_thousandths() {
        assert_eq!(q_value("q=1"), Some(1000));
        assert_eq!(q_value("Q=0.25"), Some(250));
        assert_eq!(q_value("q=1.000"), Some(1000));
        assert_eq!(q_value("q=1.001"), None);
        assert_eq!(q_value("q=.5"), None);
        assert_eq!(q_value("q=0.5x"), None);
    }
}
