//! Base64 exactly as Go's `encoding/base64` decodes it, because Vault copies the decoder's error
//! text (`illegal base64 data at input byte N`) into responses and batch items. Differences from
//! the `base64` crate: `\r` and `\n` are skipped anywhere, non-zero trailing bits are accepted
//! (`StdEncoding` is not strict), and the error names Go's byte offset.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn encode_url_raw(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `base64.StdEncoding.DecodeString`.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    decode_with(text.as_bytes(), STANDARD_ALPHABET, true)
}

/// `base64.RawURLEncoding.DecodeString`.
pub fn decode_url_raw(text: &str) -> Result<Vec<u8>, String> {
    decode_with(text.as_bytes(), URL_ALPHABET, false)
}

const STANDARD_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn corrupt(offset: usize) -> String {
    format!("illegal base64 data at input byte {offset}")
}

fn decode_with(src: &[u8], alphabet: &[u8; 64], padded: bool) -> Result<Vec<u8>, String> {
    let mut map = [0xffu8; 256];
    for (index, byte) in alphabet.iter().enumerate() {
        map[*byte as usize] = index as u8;
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    while si < src.len() {
        let (next, written, error) = decode_quantum(src, si, &map, padded, &mut out)?;
        si = next;
        if let Some(error) = error {
            return Err(error);
        }
        if written < 3 {
            break;
        }
    }
    Ok(out)
}

/// Go's `decodeQuantum`: one group of up to four symbols. Returns the next input offset, how
/// many bytes it wrote and a trailing-garbage error found after padding.
fn decode_quantum(
    src: &[u8],
    mut si: usize,
    map: &[u8; 256],
    padded: bool,
    out: &mut Vec<u8>,
) -> Result<(usize, usize, Option<String>), String> {
    let mut dbuf = [0u8; 4];
    let mut dlen = 4;
    let mut trailing = None;
    let mut j = 0;
    while j < 4 {
        if src.len() == si {
            if j == 0 {
                return Ok((si, 0, None));
            }
            if j == 1 || padded {
                return Err(corrupt(si - j));
            }
            dlen = j;
            break;
        }
        let input = src[si];
        si += 1;
        let value = map[input as usize];
        if value != 0xff {
            dbuf[j] = value;
            j += 1;
            continue;
        }
        if input == b'\n' || input == b'\r' {
            continue;
        }
        if !padded || input != b'=' {
            return Err(corrupt(si - 1));
        }
        match j {
            0 | 1 => return Err(corrupt(si - 1)),
            2 => {
                while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                    si += 1;
                }
                if si == src.len() {
                    return Err(corrupt(src.len()));
                }
                if src[si] != b'=' {
                    return Err(corrupt(si - 1));
                }
                si += 1;
            }
            _ => {}
        }
        while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
            si += 1;
        }
        if si < src.len() {
            trailing = Some(corrupt(si));
        }
        dlen = j;
        break;
    }
    let value = (u32::from(dbuf[0]) << 18)
        | (u32::from(dbuf[1]) << 12)
        | (u32::from(dbuf[2]) << 6)
        | u32::from(dbuf[3]);
    let bytes = [(value >> 16) as u8, (value >> 8) as u8, value as u8];
    let written = dlen - 1;
    if trailing.is_none() {
        out.extend_from_slice(&bytes[..written]);
    }
    Ok((si, written, trailing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&[u8], &str>) {
        let actual = decode(input);
        match expected {
            Ok(bytes) => assert_eq!(actual.as_deref(), Ok(bytes), "{input:?}"),
            Err(message) => assert_eq!(actual, Err(message.to_string()), "{input:?}"),
        }
    }

    #[test]
    fn decodes_as_go_does() {
        // Goal: Go's `StdEncoding.DecodeString` results and error offsets. Method: rows from Go.
        check("", Ok(b""));
        check("aGVsbG8=", Ok(b"hello"));
        check("aGVs\nbG8=", Ok(b"hello"));
        check("aGVsbG8", Err("illegal base64 data at input byte 4"));
        check("aGVsbG8==", Err("illegal base64 data at input byte 8"));
        check("a", Err("illegal base64 data at input byte 0"));
        check("abc", Err("illegal base64 data at input byte 0"));
        check("aG!s", Err("illegal base64 data at input byte 2"));
        check("aGVsbA==aa", Err("illegal base64 data at input byte 8"));
        check("aGVsbA=", Err("illegal base64 data at input byte 7"));
        check("=AAA", Err("illegal base64 data at input byte 0"));
        // Not strict: trailing bits are ignored.
        check("aGVsbG9=", Ok(b"hello"));
        check("not base64!", Err("illegal base64 data at input byte 3"));
        assert_eq!(decode_url_raw("_-8"), Ok(vec![0xff, 0xef]));
    }
}
