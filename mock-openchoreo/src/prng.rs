//! Deterministic hashing and pseudo-randomness: everything the mock "chooses"
//! (endpoint types, fault outcomes, hidden items) derives from these, so a run
//! with the same seed is reproducible without a `rand` dependency.

/// SplitMix64 finaliser: a good 64-bit mixer, used both as hash and as PRNG step.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a tuple of small integers (seed, namespace, index, salt...).
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x05EE_D0FC_40E0_u64, |acc, &p| mix(acc ^ p))
}

/// FNV-1a over a string, then mixed: stable across runs and platforms.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Maps a hash onto [0, 1).
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}
