//! How many training steps go to the GPU before their losses are read back. A readback waits
//! for everything queued, so reading each step's loss leaves a fast GPU idle while the loss
//! travels back and the next step is recorded: on a GPU that takes 2 ms a step, that wait is
//! most of the step. Steps are therefore queued in batches and their losses read in one
//! readback, about once per frame, so the page's chart and the CLI's progress still get every
//! step's loss as quickly as they can show it. A device that takes a frame or more a step (a
//! software GPU, the CPU) still reads after every step.

/// About one animation frame at 60 Hz: how long a batch of steps aims to take.
pub const READ_EVERY_MS: f64 = 16.0;

/// The most steps read back at once, so that Stop, the step counter and the memory figures
/// never wait long on a very fast device.
pub const MAX_STEPS_PER_READ: usize = 32;

/// Steps to queue before the next readback, given the last batch's time per step (none yet:
/// one step, whose time includes compiling the GPU's kernels).
pub fn steps_per_read(ms_per_step: Option<f64>) -> usize {
    match ms_per_step {
        Some(ms) if ms > 0.0 && ms.is_finite() => ((READ_EVERY_MS / ms).floor() as usize).clamp(1, MAX_STEPS_PER_READ),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_of_steps_between_reads() {
        assert_eq!(steps_per_read(None), 1, "the first step compiles kernels: read it alone");
        assert_eq!(steps_per_read(Some(700.0)), 1, "a software GPU reads every step");
        assert_eq!(steps_per_read(Some(16.0)), 1);
        assert_eq!(steps_per_read(Some(2.0)), 8, "a GPU at 2 ms a step reads once a frame");
        assert_eq!(steps_per_read(Some(0.01)), MAX_STEPS_PER_READ);
        assert_eq!(steps_per_read(Some(0.0)), 1, "no time measured is no evidence");
        assert_eq!(steps_per_read(Some(f64::NAN)), 1);
    }
}
