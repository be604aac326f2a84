//! A compact JSON writer for tool results, byte for byte what `serde_json::to_writer` writes,
//! with a faster string escaper. A result is mostly text (summaries, fixes, source URIs, the
//! markdown), and serde_json escapes it one byte at a time: a third of a stdio call went there.
//! This one checks eight bytes at a time for the three kinds of byte that need escaping and
//! copies the runs between them whole. Numbers are still written by serde_json.

use std::fmt::Display;

use serde::ser::{self, Serialize};

/// Why a value could not be written (a map key that is not a string or a number, or a
/// serializer's custom error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

impl ser::Error for JsonError {
    fn custom<T: Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// Appends `value` to `out` as compact JSON; on an error, `out` may hold part of it.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), JsonError> {
    value.serialize(&mut Writer { out })
}

/// Appends `text` to `out` as a JSON string, quotes included.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    escape_into(out, text.as_bytes());
    out.push(b'"');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes among eight (little-endian) that are a control character, `"` or `\`, as their
/// high bits. Bytes from 0x80 up have their high bit set and never match, so UTF-8 passes
/// through. A borrow can mark a byte after a true match too, but the lowest mark is exact.
fn escapes_in(word: u64) -> u64 {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | quote | backslash) & HIGHS
}

/// The escape of one byte that needs one.
fn escape_byte(out: &mut Vec<u8>, byte: u8) {
    let escaped: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0c => b"\\f",
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.extend_from_slice(escaped);
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    // Eight bytes at a time: jump straight to the first byte that needs escaping.
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let marks = escapes_in(u64::from_le_bytes(word));
        if marks == 0 {
            i += 8;
            continue;
        }
        i += (marks.trailing_zeros() / 8) as usize;
        out.extend_from_slice(&bytes[start..i]);
        escape_byte(out, bytes[i]);
        i += 1;
        start = i;
    }
    for (at, &byte) in bytes.iter().enumerate().skip(i) {
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[start..at]);
            escape_byte(out, byte);
            start = at + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// Numbers and other scalars the way serde_json writes them.
    fn scalar<T: Serialize>(&mut self, value: T) -> Result<(), JsonError> {
        serde_json::to_writer(&mut *self.out, &value).map_err(|e| JsonError(e.to_string()))
    }
}

/// An object or array being written; `close` ends it (`]`, `}`, or `}}` after a variant).
struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn separate(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(b',');
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), JsonError> {
        self.separate();
        write_str(self.writer.out, key);
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn finish(self) -> Result<(), JsonError> {
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> Writer<'a> {
    fn open(&'w mut self, opening: &[u8], close: &'static [u8]) -> Compound<'w, 'a> {
        self.out.extend_from_slice(opening);
        Compound {
            writer: self,
            first: true,
            close,
        }
    }

    /// `{"variant":` before a variant's content.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), JsonError> {
        self.scalar(v)
    }
    fn serialize_none(self) -> Result<(), JsonError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), JsonError> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonError> {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        self.variant_key(variant);
        Ok(self.open(b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, JsonError> {
        self.variant_key(variant);
        Ok(self.open(b"{", b"}}"))
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
                self.element(value)
            }
            fn end(self) -> Result<(), JsonError> {
                self.finish()
            }
        }
    )*};
}
elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), JsonError> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), JsonError> {
                self.finish()
            }
        }
    )*};
}
fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonError> {
        self.separate();
        // Keys are rare in results: strings as they are, numbers and booleans quoted, as
        // serde_json writes them.
        match serde_json::to_value(key).map_err(|e| JsonError(e.to_string()))? {
            serde_json::Value::String(text) => write_str(self.writer.out, &text),
            key @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => {
                write_str(self.writer.out, &key.to_string());
            }
            other => {
                return Err(JsonError(format!(
                    "a map key must be a string, not {other}"
                )));
            }
        }
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), JsonError> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize>(value: &T) {
        let mut ours = Vec::new();
        write(&mut ours, value).expect("writes");
        let theirs = serde_json::to_vec(value).expect("serde_json writes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Wrapped(u32),
        Pair(i8, String),
        Shaped { a: f64, b: Option<bool> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Meters(f64);

    #[derive(Serialize)]
    struct Everything {
        text: String,
        kinds: Vec<Kind>,
        numbers: (u64, i64, f64, f32, u128, i128),
        missing: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        unit: (),
        unit_struct: Unit,
        newtype: Meters,
        by_name: BTreeMap<String, Vec<f64>>,
        by_number: BTreeMap<u32, bool>,
        letter: char,
        value: serde_json::Value,
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let everything = Everything {
            text: "line\nbreak \"quoted\" back\\slash\ttab \u{1} \u{1f} \u{7f} é ✓ 🚀".into(),
            kinds: vec![
                Kind::Plain,
                Kind::Wrapped(7),
                Kind::Pair(-3, "x".into()),
                Kind::Shaped {
                    a: 1.5e300,
                    b: None,
                },
            ],
            numbers: (u64::MAX, i64::MIN, 0.1 + 0.2, 1.25, u128::MAX, i128::MIN),
            missing: None,
            skipped: None,
            unit: (),
            unit_struct: Unit,
            newtype: Meters(f64::NAN),
            by_name: BTreeMap::from([("a\"b".into(), vec![1.0, -0.0, 1e-7])]),
            by_number: BTreeMap::from([(3, true), (10, false)]),
            letter: '"',
            value: serde_json::json!({"z": [1, "two", null], "a": {"b": 2.5}}),
        };
        same_as_serde_json(&everything);
        same_as_serde_json(&Vec::<u8>::new());
        same_as_serde_json(&BTreeMap::<String, u8>::new());
    }

    #[test]
    fn escapes_every_byte_as_serde_json_does() {
        // Every ASCII character at every position of an eight-byte word, beside plain text.
        for byte in 0u8..=127 {
            for offset in 0..9 {
                let mut text = "abcdefghijklmnop".to_string();
                text.insert(offset, char::from(byte));
                same_as_serde_json(&text);
            }
        }
        // Two bytes that need escaping, or nearly do, side by side anywhere in a word: the
        // word check marks only the first match exactly.
        let near = [
            '\u{0}', '\u{1}', '\u{1f}', ' ', '!', '"', '#', '[', '\\', ']', '\u{7f}', 'é',
        ];
        for first in near {
            for second in near {
                for offset in 0..10 {
                    let mut text = "abcdefghijklmnop".to_string();
                    text.insert(offset, second);
                    text.insert(offset, first);
                    same_as_serde_json(&text);
                }
            }
        }
        for text in [
            "",
            "a",
            "1234567",
            "12345678",
            "123456789",
            "ünïcödé text of length",
            "\\\\\"\"\n\n",
        ] {
            same_as_serde_json(&text);
        }
    }

    proptest::proptest! {
        #[test]
        fn escapes_any_text_as_serde_json_does(text in "(?s).{0,64}") {
            same_as_serde_json(&text);
        }
    }

    #[test]
    fn refuses_keys_that_json_cannot_have() {
        let map = BTreeMap::from([(vec![1u8], 1u8)]);
        assert!(write(&mut Vec::new(), &map).is_err());
    }
}
