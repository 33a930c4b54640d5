//! Sampling text from the model, one character at a time.

use burn::module::Module;
use burn::tensor::Device;

use crate::model::Gpt;
use crate::readback::copy_to_cpu;
use crate::rng::Rng;
use crate::serve::{Request, ServingBatch, TenantStacks};
use crate::tokenizer::{self, UNKNOWN};

/// Continue `prompt` by `n` characters. Temperature 0 is greedy; otherwise softmax sampling
/// from our seeded RNG, so a seed gives the same sample on every backend up to float rounding.
///
/// Sampling runs on the CPU, a GPU's model copied there first (`copy_to_cpu`): the prompt runs
/// through the model once, then each character one position at a time from the kept keys and
/// values (`serve::ServingBatch`, one request alone) while the text fits the context window, and
/// its whole window once past it. A character is a few hundred small operations, which a CPU
/// runs in microseconds each and a GPU pays a launch for, with a readback a character: on
/// software WebGPU the page's 60-character sample took about twenty times as long on the GPU
/// (`bench/README.md`).
pub async fn generate(model: &Gpt, prompt: &str, n: usize, temperature: f32, seed: u64) -> Result<String, String> {
    let model = model.valid();
    let on_cpu = if model.devices()[0] == Device::flex() { model } else { copy_to_cpu(&model).await? };
    let request = Request { slot: 0, prompt: prompt.to_string() };
    let mut alone = ServingBatch::new(&on_cpu, &TenantStacks::none(), &[request], temperature, seed)?;
    for _ in 0..n {
        alone.step().await?;
    }
    Ok(alone.texts().swap_remove(0))
}

/// A prompt's token ids; an empty prompt starts from a line break (the model needs one token).
pub fn prompt_ids(prompt: &str) -> Vec<u32> {
    let ids = tokenizer::encode(prompt);
    if ids.is_empty() { vec![tokenizer::encode_char('\n')] } else { ids }
}

/// Choose a token from logits; never the unknown token, which only stands for what the
/// vocabulary cannot spell.
pub fn pick(logits: &[f32], temperature: f32, rng: &mut Rng) -> u32 {
    let allowed = || (0..logits.len()).filter(|&i| i != UNKNOWN as usize);
    if temperature <= 0.0 {
        let best = allowed().max_by(|&a, &b| logits[a].total_cmp(&logits[b]));
        return best.expect("a vocabulary of more than the unknown token") as u32;
    }
    let max = allowed().map(|i| logits[i]).fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = (0..logits.len())
        .map(|i| if i == UNKNOWN as usize { 0.0 } else { ((logits[i] - max) / temperature).exp() })
        .collect();
    let mut r = rng.f32() * weights.iter().sum::<f32>();
    for (i, w) in weights.iter().enumerate() {
        r -= w;
        if r <= 0.0 && *w > 0.0 {
            return i as u32;
        }
    }
    (logits.len() - 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_largest_logit_but_never_unknown() {
        let mut rng = Rng::new(1);
        let mut logits = [1.0, 3.0, 2.0, 0.5];
        logits[UNKNOWN as usize] = 9.0;
        let picked = pick(&logits, 0.0, &mut rng);
        assert_ne!(picked, UNKNOWN);
        assert_eq!(logits[picked as usize], 3.0);
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let mut rng = Rng::new(7);
        let logits = [0.0, 0.0, (3.0f32).ln()]; // p(1) = 0.25, p(2) = 0.75
        let twos = (0..4000).filter(|_| pick(&logits, 1.0, &mut rng) == 2).count();
        assert!((2800..3200).contains(&twos), "{twos}");
    }
}
