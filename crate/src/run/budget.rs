//! How long a page's run is when its author did not say: as many steps as fit a time budget on
//! the reader's device, decided once the first steps have been timed. A fixed count cannot
//! serve every device: 20 steps of 4 × 64 take 1.3 s on a laptop's CPU, far too few for an
//! adapter to learn a new format, and 20 s on a software GPU. The budget gives every reader a
//! run of about the same length, as long as their device allows.

use serde::Serialize;

use crate::median::median;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct TimeBudget {
    /// Seconds of training steps; scoring and sampling before and after come on top.
    pub seconds: f64,
    /// Steps run before the timing starts: the first compiles the GPU's kernels and fills
    /// caches, and can take many times a later step; on the browser's CPU path the first five
    /// of a page's first run take 1.6–1.8× a later one while the engine optimises the module's
    /// code, which would make that run a third shorter than a warm one.
    pub warmup_steps: usize,
    /// Steps timed after those, whose median decides the run's length: five, as single steps
    /// on a busy laptop vary by a fifth and more.
    pub timed_steps: usize,
    /// However slow the device, a run takes at least this many steps (and then runs over).
    pub min_steps: usize,
    /// However fast the device, a run stops here: past it the curves show nothing new.
    pub max_steps: usize,
}

/// The page's runs: about 20 s of training, 25 s in all with scoring and samples, the longer end
/// of what a reader waits for, because a new format comes late in a run: with the page's recipe
/// the samples come into a task's format from about 70 to 110 steps, and a 2-core laptop's
/// browser gets about 60 to 110 steps of 4 × 128 in 15 s, 75 to 150 in 20 (docs/defaults.md).
pub const PAGE_BUDGET: TimeBudget =
    TimeBudget { seconds: 20.0, warmup_steps: 6, timed_steps: 5, min_steps: 20, max_steps: 1_000 };

impl TimeBudget {
    /// The run's length, given the median time of its timed steps.
    pub fn steps(&self, ms_per_step: f64) -> usize {
        if !(ms_per_step > 0.0 && ms_per_step.is_finite()) {
            return self.min_steps;
        }
        let fit = (self.seconds * 1000.0 / ms_per_step).floor();
        (fit.min(self.max_steps as f64) as usize).max(self.min_steps)
    }

    /// The run's length, decided once: when `times_ms` (each step's time so far, in order)
    /// holds the warm-up and the timed steps, from the timed steps' median; `None` before and
    /// after that step, so a caller asks after every step and takes the one answer.
    pub fn decide(&self, times_ms: &[f64]) -> Option<usize> {
        (times_ms.len() == self.warmup_steps + self.timed_steps)
            .then(|| self.steps(median(&times_ms[self.warmup_steps..]).expect("the timed steps")))
    }
}

/// A run's length: a number of steps, or a budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    Steps(usize),
    Budget(TimeBudget),
}

impl Length {
    /// Steps to show before the length is known: the budget's least.
    pub fn planned(&self) -> usize {
        match self {
            Length::Steps(n) => *n,
            Length::Budget(b) => b.min_steps,
        }
    }

    /// A budget's length once the steps so far took `times_ms` (see `TimeBudget::decide`);
    /// `None` for steps given, which nothing changes.
    pub fn decide(&self, times_ms: &[f64]) -> Option<usize> {
        match self {
            Length::Steps(_) => None,
            Length::Budget(b) => b.decide(times_ms),
        }
    }

    /// The budget, if the length is still to be decided.
    pub fn budget(&self) -> Option<TimeBudget> {
        match self {
            Length::Steps(_) => None,
            Length::Budget(b) => Some(*b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_budget_within_its_bounds() {
        let b = PAGE_BUDGET;
        assert_eq!(b.steps(60.0), 333, "20 s at 60 ms a step");
        assert_eq!(b.steps(61.0), 327, "rounded down: never over the budget");
        assert_eq!(b.steps(1_050.0), 20, "a software GPU gets the least, and runs over");
        assert_eq!(b.steps(2.0), 1_000, "a fast GPU stops at the most");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(b.steps(bad), 20, "{bad} ms a step");
        }
    }

    #[test]
    fn decided_once_from_the_timed_steps_after_the_warm_up() {
        let b = PAGE_BUDGET;
        // Six slow warm-up steps (compiling, the engine optimising), then five timed ones.
        let mut times = vec![900.0; b.warmup_steps];
        times.extend([100.0, 95.0, 400.0, 105.0, 100.0]);
        for n in 0..times.len() {
            assert_eq!(b.decide(&times[..n]), None, "after {n} steps");
        }
        assert_eq!(b.decide(&times), Some(200), "20 s at the timed steps' median, 100 ms; not the warm-up's");
        times.push(100.0);
        assert_eq!(b.decide(&times), None, "decided once: a later step does not move it");
        assert_eq!(Length::Budget(b).decide(&times[..11]), Some(200));
    }

    #[test]
    fn a_length_plans_its_steps_or_the_budgets_least() {
        assert_eq!(Length::Steps(35).planned(), 35);
        assert_eq!(Length::Steps(35).budget(), None);
        assert_eq!(Length::Steps(35).decide(&[1.0; 11]), None, "steps given are kept, however fast the device");
        assert_eq!(Length::Budget(PAGE_BUDGET).planned(), 20);
        assert_eq!(Length::Budget(PAGE_BUDGET).budget(), Some(PAGE_BUDGET));
    }
}
