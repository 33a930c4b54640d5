//! Sampling text from the model, one character at a time.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::model::Gpt;
use crate::readback::read_f32;
use crate::rng::Rng;
use crate::serve::{Request, ServingBatch, TenantStacks};
use crate::tokenizer::{self, UNKNOWN};

/// Continue `prompt` by `n` characters. Temperature 0 is greedy; otherwise softmax sampling
/// from our seeded RNG, so a seed gives the same sample on every backend up to float rounding.
///
/// On the CPU the prompt runs through the model once and each character then one position at
/// a time from the kept keys and values (`serve::ServingBatch`, one request alone), while the text
/// fits the context window; past it, every character runs its whole window, as on a GPU. In
/// the browser's CPU path that took the base's 60-character sample, which every run computes
/// before its first step, from about 1 s to 0.1–0.4 s. On a GPU each character always runs its
/// window through the training kernels: a step there is bound by launches, not arithmetic, so
/// the cache saves little, while its own kernels (burn's matmul, softmax and concatenation)
/// would compile before the first sample and stay in the memory pool.
pub async fn generate(model: &Gpt, prompt: &str, n: usize, temperature: f32, seed: u64) -> Result<String, String> {
    let model = model.valid();
    let device = model.devices()[0].clone();
    if device == Device::flex() {
        let request = Request { slot: 0, prompt: prompt.to_string() };
        let mut alone = ServingBatch::new(&model, &TenantStacks::none(), &[request], temperature, seed)?;
        for _ in 0..n {
            alone.step().await?;
        }
        return Ok(alone.texts().swap_remove(0));
    }
    let context = model.context();
    let mut rng = Rng::new(seed);
    let mut ids = prompt_ids(prompt);
    let start = ids.len();
    for _ in 0..n {
        let window = &ids[ids.len().saturating_sub(context)..];
        let input: Vec<i32> = window.iter().map(|&t| t as i32).collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(input, [1, window.len()]), &device);
        let t = window.len();
        let logits = model.forward(input).slice([0..1, t - 1..t]).flatten::<1>(0, 2);
        let next = pick(&read_f32(logits).await?, temperature, &mut rng);
        ids.push(next);
    }
    Ok(tokenizer::decode(&ids[start..]))
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
