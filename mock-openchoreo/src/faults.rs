//! Fault injection settings and the per-request dice roll.

use serde::{Deserialize, Serialize};

use crate::prng::{hash, unit};

/// Faults applied to `/api/v1` requests; switchable at run time. Over HTTP the fields
/// are camelCase (`errorRate`, `latencyMs`, ...); omitted fields take their defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Share of requests answered 500 (JSON), 502 or 503 (proxy-style text).
    pub error_rate: f64,
    /// Delay added before every `/api/v1` answer.
    pub latency_ms: u64,
    /// Share of requests answered 429 with `Retry-After`.
    pub rate_limit_rate: f64,
    pub retry_after_secs: u64,
    /// Share of requests whose connection is dropped: before any byte, or mid-body.
    pub cut_rate: f64,
    /// Share of requests answered 200 with a truncated JSON body.
    pub malformed_rate: f64,
    /// Share of requests answered 502 with an HTML error page (a proxy in the way).
    pub html_rate: f64,
    /// Every list answers zero items.
    pub empty_lists: bool,
    /// Share (0..1) of items hidden from every list, chosen by name, stable across pages.
    pub drop_share: f64,
    /// Every page answers the same `nextCursor` (the one it was given) forever.
    pub repeat_cursor: bool,
    /// Cursor lifetime; 0 disables expiry.
    pub cursor_ttl_ms: u64,
    /// Seeds the dice; the sequence restarts whenever faults are set.
    pub seed: u64,
}

pub const DEFAULT_CURSOR_TTL_MS: u64 = 5 * 60 * 1000;

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            latency_ms: 0,
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            cut_rate: 0.0,
            malformed_rate: 0.0,
            html_rate: 0.0,
            empty_lists: false,
            drop_share: 0.0,
            repeat_cursor: false,
            cursor_ttl_ms: DEFAULT_CURSOR_TTL_MS,
            seed: 0,
        }
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Outcome {
    Pass,
    /// Drop the connection; `mid_body` sends the head and part of a body first.
    Cut {
        mid_body: bool,
    },
    /// 500, 502 or 503.
    Error(u16),
    RateLimited,
    Html,
    Malformed,
}

impl Faults {
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            self.error_rate,
            self.rate_limit_rate,
            self.cut_rate,
            self.malformed_rate,
            self.html_rate,
            self.drop_share,
        ];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err("rates and dropShare must be within 0..1".into());
        }
        Ok(())
    }

    /// Rolls the dice for the `n`th request since the faults were set. One uniform draw
    /// is split into consecutive bands, so each rate is that outcome's exact share.
    pub(crate) fn roll(&self, n: u64) -> Outcome {
        let h = hash(&[self.seed, n, 0xFA17]);
        let mut u = unit(h);
        let bands = [
            (
                self.cut_rate,
                Outcome::Cut {
                    mid_body: h & 1 == 1,
                },
            ),
            (
                self.error_rate,
                Outcome::Error([500, 502, 503][(h >> 1) as usize % 3]),
            ),
            (self.rate_limit_rate, Outcome::RateLimited),
            (self.html_rate, Outcome::Html),
            (self.malformed_rate, Outcome::Malformed),
        ];
        for (rate, outcome) in bands {
            if u < rate {
                return outcome;
            }
            u -= rate;
        }
        Outcome::Pass
    }

    /// Whether `drop_share` hides the item called `name`.
    pub(crate) fn hides(&self, name: &str) -> bool {
        self.drop_share > 0.0
            && unit(hash(&[self.seed, crate::prng::hash_str(name), 0xD0])) < self.drop_share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_shares() {
        let f = Faults {
            error_rate: 0.2,
            cut_rate: 0.1,
            seed: 7,
            ..Faults::default()
        };
        let outcomes: Vec<Outcome> = (0..10_000).map(|n| f.roll(n)).collect();
        let errors = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Error(_)))
            .count();
        let cuts = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Cut { .. }))
            .count();
        assert!((1_800..2_200).contains(&errors), "{errors}");
        assert!((850..1_150).contains(&cuts), "{cuts}");
        assert!(Faults::default().roll(3) == Outcome::Pass);
    }
}
