//! simd-json in its allocation-free mode, for every venue's codec: a frame is copied into a
//! reused, padded scratch buffer and parsed into a reused tape with reused [`Buffers`]; the
//! codec walks the tape straight into exact integers. After the largest frame has been seen,
//! decoding allocates nothing.

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};
use simd_json::{Buffers, INPUT_PADDING};

use crate::decode_error::DecodeError;
use crate::instrument::Instrument;
use crate::levels::LevelUpdate;
use crate::num::{parse_decimal, Px, Qty, Side};

/// The reused parser state of one codec.
pub struct TapeDecoder {
    buffers: Buffers,
    /// Reused between frames; `'static` only while empty (see [`Tape::reset`]).
    tape: Tape<'static>,
    scratch: Vec<u8>,
}

impl TapeDecoder {
    /// Preallocated for frames of `frame_bytes` (larger ones grow the buffers once).
    pub fn new(frame_bytes: usize) -> TapeDecoder {
        TapeDecoder {
            buffers: Buffers::new(frame_bytes),
            tape: Tape(Vec::with_capacity(frame_bytes / 4)),
            scratch: Vec::with_capacity(frame_bytes + INPUT_PADDING),
        }
    }

    /// Parses `frame` and hands its root to `walk`; a frame that is not JSON is
    /// [`DecodeError::Json`].
    pub fn decode<R>(
        &mut self,
        frame: &[u8],
        walk: impl FnOnce(Value<'_, '_>) -> Result<R, DecodeError>,
    ) -> Result<R, DecodeError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        self.scratch.resize(frame.len() + INPUT_PADDING, 0);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let result = match simd_json::fill_tape_padded(
            &mut self.scratch,
            frame.len(),
            &mut self.buffers,
            &mut tape,
        ) {
            Ok(()) => walk(tape.as_value()),
            Err(_) => Err(DecodeError::Json),
        };
        self.tape = tape.reset();
        result
    }
}

pub fn str_field<'t, 'i>(data: Value<'t, 'i>, key: &'static str) -> Result<&'i str, DecodeError> {
    data.get(key)
        .ok_or(DecodeError::MissingField(key))?
        .into_string()
        .ok_or(DecodeError::WrongType(key))
}

pub fn u64_field(data: Value<'_, '_>, key: &'static str) -> Result<u64, DecodeError> {
    data.get(key)
        .ok_or(DecodeError::MissingField(key))?
        .as_u64()
        .ok_or(DecodeError::WrongType(key))
}

/// A decimal string field as a mantissa at `scale`.
pub fn decimal_field(
    data: Value<'_, '_>,
    key: &'static str,
    scale: u32,
) -> Result<i64, DecodeError> {
    decimal(str_field(data, key)?, key, scale)
}

/// A decimal string as a mantissa at `scale`; errors name `key`.
pub fn decimal(text: &str, key: &'static str, scale: u32) -> Result<i64, DecodeError> {
    parse_decimal(text.as_bytes(), scale).map_err(|e| DecodeError::Decimal(key, e))
}

/// The array field `key`.
pub fn array<'t, 'i>(
    data: Value<'t, 'i>,
    key: &'static str,
) -> Result<simd_json::tape::Array<'t, 'i>, DecodeError> {
    data.get(key)
        .ok_or(DecodeError::MissingField(key))?
        .as_array()
        .ok_or(DecodeError::WrongType(key))
}

/// Appends one level from its price and quantity strings at the instrument's scales; a message
/// of more than `max` levels is refused. Errors name `key`.
pub fn push_level(
    inst: &Instrument,
    key: &'static str,
    side: Side,
    (px, qty): (Option<&str>, Option<&str>),
    levels: &mut Vec<LevelUpdate>,
    max: usize,
) -> Result<(), DecodeError> {
    let (Some(px), Some(qty)) = (px, qty) else {
        return Err(DecodeError::WrongType(key));
    };
    if levels.len() == max {
        return Err(DecodeError::TooManyLevels);
    }
    levels.push(LevelUpdate {
        side,
        px: Px(decimal(px, key, inst.price_scale)?),
        qty: Qty(decimal(qty, key, inst.qty_scale)?),
    });
    Ok(())
}

/// The levels of the array field `key`, each `[price, quantity]` as strings, on `side`.
pub fn push_pairs(
    inst: &Instrument,
    data: Value<'_, '_>,
    key: &'static str,
    side: Side,
    levels: &mut Vec<LevelUpdate>,
    max: usize,
) -> Result<(), DecodeError> {
    for pair in array(data, key)?.iter() {
        let pair = pair.as_array().ok_or(DecodeError::WrongType(key))?;
        if pair.len() != 2 {
            return Err(DecodeError::WrongType(key));
        }
        let text = |i| pair.get(i).and_then(|v: Value<'_, '_>| v.into_string());
        push_level(inst, key, side, (text(0), text(1)), levels, max)?;
    }
    Ok(())
}
