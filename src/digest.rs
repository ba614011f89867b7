//! Content hashes: table versions and ETags.
//!
//! SHA-256, not `DefaultHasher`: the hash must be the same on every replica and every
//! release, so that equal content always has an equal version and ETag.

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A strong ETag for a body: the first 128 bits of its SHA-256, quoted.
pub fn etag(body: &[u8]) -> String {
    let hex = sha256_hex(body);
    format!("\"{}\"", &hex[..32])
}

/// The ETag of an encoded representation: `"abc"` with `gzip` is `"abc-gzip"` (as Apache
/// does: a strong ETag names exact bytes, and the encoded ones differ).
pub fn etag_for_encoding(etag: &str, encoding: &str) -> String {
    let open = etag.strip_suffix('"').unwrap_or(etag);
    format!("{open}-{encoding}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn etags_are_quoted_and_depend_only_on_content() {
        assert_eq!(etag(b"abc"), "\"ba7816bf8f01cfea414140de5dae2223\"");
        assert_eq!(etag(b"abc"), etag(b"abc"));
        assert_ne!(etag(b"abc"), etag(b"abd"));
    }

    #[test]
    fn an_encoded_representation_has_its_own_etag() {
        let tagged = etag_for_encoding(&etag(b"abc"), "gzip");
        assert_eq!(tagged, "\"ba7816bf8f01cfea414140de5dae2223-gzip\"");
    }
}
