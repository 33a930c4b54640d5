//! One fine-tuning run, from what a caller asks for to the trained model, the same for the CLI
//! and the browser:
//! - `settings`: every number a run takes with its range and defaults, and `RunSettings` (what
//!   the CLI's flags, the element's attributes or `Lab.start`'s options gave) checked into a
//!   `RunRequest`, so the page and the CLI accept and refuse the same input.
//! - `budget`: how many steps a page's run takes when its author did not say: as many as fit a
//!   time budget on the reader's device.
//! - `fine_tune`: `Run`, one run from the shipped base, fully or through LoRA adapters.
//! - `training_loop`: `Trainer`, AdamW over seeded batches, one step at a time; the losses.
//! - `steps_per_read`: how many steps the page and the CLI queue before they read the losses back.
//! - `warm_up`: a tiny run that compiles a device's pipelines before the reader's first run.
//! - `report` (native only): a whole run driven synchronously, what the CLI prints and the tests
//!   check; the browser steps a `Run` itself, reading its losses back asynchronously.

pub mod budget;
pub mod fine_tune;
#[cfg(not(target_family = "wasm"))]
pub mod report;
pub mod settings;
pub mod steps_per_read;
pub mod training_loop;
pub mod warm_up;

pub use budget::{Length, PAGE_BUDGET, TimeBudget};
pub use fine_tune::{Run, apply_checkpoint, count_params, load_base};
pub use settings::{
    AdapterRecipe, Caller, Data, Given, MAX_SAMPLE, MAX_SEED, PAGE_ADAPTER, RunRequest, RunSettings, Setting, Targets,
    settings,
};
pub use steps_per_read::steps_per_read;
pub use training_loop::{Batches, TrainConfig, Trainer, corpus_loss, eval_loss};
pub use warm_up::warm_up;
