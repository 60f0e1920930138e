//! Byte mutations of real frames for the venues' property tests: a flipped byte, a truncation,
//! an inserted JSON-significant byte.
#![allow(dead_code)]

use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop::sample::select(b"[]{}\",:0-.9e".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

/// Applies `mutations` to `frame`, in order.
pub fn mutate(frame: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = frame.len().max(1);
        match *m {
            Mutation::Flip(i, b) => {
                if let Some(x) = frame.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Mutation::Truncate(i) => frame.truncate(i % len),
            Mutation::Insert(i, b) => frame.insert(i % len, b),
        }
    }
}
