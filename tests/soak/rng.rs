//! The soak's one source of chance: SplitMix64, seeded, so that a seed names a run.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of session `index` of the run seeded `seed`: each session's plan
    /// depends only on the two.
    pub fn for_session(seed: u64, index: usize) -> Rng {
        let mut r = Rng(seed ^ (index as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() as u64 - 1) as usize]
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.range(0, i as u64) as usize;
            items.swap(i, j);
        }
    }
}

#[test]
fn a_seed_names_a_run() {
    let a: Vec<u64> = (0..4).map(|i| Rng::for_session(7, i).next_u64()).collect();
    let b: Vec<u64> = (0..4).map(|i| Rng::for_session(7, i).next_u64()).collect();
    let c: Vec<u64> = (0..4).map(|i| Rng::for_session(8, i).next_u64()).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut r = Rng::new(1);
    assert!(
        (0..1000)
            .map(|_| r.range(3, 5))
            .all(|v| (3..=5).contains(&v))
    );
}
