//! A small deterministic random number generator: SplitMix64 (Steele, Lea & Flood, "Fast
//! splittable pseudorandom number generators", OOPSLA 2014).
//!
//! Every generated text, batch order and initial weight derives from one u64 seed, so a run can
//! be repeated exactly. SplitMix64 uses only 64-bit integer arithmetic (no platform-sized
//! integers, no floating point until `f32()` converts exactly representable values), so native
//! builds and wasm32 produce the same stream. It is not cryptographic and need not be.

#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// Any seed is fine, 0 included: the output mix below scrambles even adjacent seeds.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        // The state walks by the golden-ratio constant; each output is a bijective mix of it.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` by Lemire's multiply-shift (the high half of a 128-bit product). Its
    /// bias is below n / 2^64, far too small for text or batch sampling to show.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0): the range is empty");
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in [0, 1): the top 24 bits fit an f32 mantissa exactly, so 1.0 never appears.
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_stream() {
        // The first outputs of the reference C implementation seeded with 0.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn another_seed_is_another_reference_stream() {
        // SplitMix64 seeded with 42, from an independent implementation of the reference.
        let mut rng = Rng::new(42);
        assert_eq!(rng.next_u64(), 0xBDD7_3226_2FEB_6E95);
        assert_eq!(rng.next_u64(), 0x28EF_E333_B266_F103);
        assert_eq!(rng.next_u64(), 0x4752_6757_130F_9F52);
    }

    #[test]
    fn below_and_f32_stay_in_range_and_cover_it() {
        let mut rng = Rng::new(7);
        let mut seen = [0usize; 5];
        for _ in 0..5000 {
            seen[rng.below(5) as usize] += 1;
            let x = rng.f32();
            assert!((0.0..1.0).contains(&x));
        }
        // Each of five buckets should get about 1000; 800 is far outside chance.
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(rng.range(3, 3), 3);
    }

    #[test]
    fn pick_reaches_every_element_and_follows_the_seed() {
        let items = ["a", "b", "c"];
        let picks = |seed| {
            let mut rng = Rng::new(seed);
            (0..60).map(|_| *rng.pick(&items)).collect::<String>()
        };
        // A pick stuck on one end of the list (an off-by-one in `below`) misses an element.
        assert!(items.iter().all(|i| picks(1).contains(i)), "{}", picks(1));
        assert_ne!(picks(1), picks(2));
    }
}
