//! The simulator's one source of chance: a tiny seeded xorshift, shared by the API faults
//! (one roll per call) and webhook delivery (ids and secrets, drops, duplicates, reordering),
//! so a run with the same calls strikes the same faults.

use crate::sync::lock;
use std::sync::Mutex;

/// A seeded xorshift64 generator behind a lock, shared by everything that rolls dice.
#[derive(Debug)]
pub struct Rng {
    state: Mutex<u64>,
}

impl Rng {
    /// The simulator's seed.
    pub const SEED: u64 = 0x2545_f491;

    pub fn new(seed: u64) -> Rng {
        Rng {
            state: Mutex::new(seed),
        }
    }

    /// The next number of the sequence.
    pub fn next_u64(&self) -> u64 {
        let mut x = lock(&self.state);
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// One roll, in [0, 1).
    pub fn roll(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_are_in_the_unit_interval_and_repeat_for_a_seed() {
        let (a, b) = (Rng::new(Rng::SEED), Rng::new(Rng::SEED));
        for _ in 0..1000 {
            let r = a.roll();
            assert!((0.0..1.0).contains(&r));
            assert_eq!(r, b.roll());
        }
    }
}
