//! A decoder-only GPT, read bottom-up: attention → MLP → block → model.
//!
//! Pre-LayerNorm blocks (as GPT-2), learned position embeddings, GELU MLP, untied LM head
//! without bias. The exact parameter count of this architecture is `shape::ModelShape::param_count`,
//! and a test holds the two together.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Int, Tensor};

use crate::init::Init;
use crate::lora::{Projection, Target, Tenants};
use crate::ops::attention::causal_attention;
use crate::ops::attention_block::attention_block;
use crate::ops::cross_entropy::cross_entropy;
use crate::ops::embedding::embed;
use crate::ops::gelu::gelu;
use crate::ops::layer_norm::LayerNorm;
use crate::ops::linear::linear;
use crate::ops::mlp::mlp_block;
use crate::shape::ModelShape;

/// GPT-2's initialisation: N(0, 0.02), residual output projections scaled by 1/sqrt(2·layers).
const INIT_STD: f32 = 0.02;

#[derive(Module, Debug)]
pub struct Attention {
    pub q: Projection,
    pub k: Projection,
    pub v: Projection,
    pub o: Projection,
    pub heads: usize,
}

impl Attention {
    /// `x + attention(norm(x))`, (B, T, C) → (B, T, C), the first half of a block; each position
    /// attends to itself and the positions before it. One operation of ours (q, k and v's input
    /// gradients summed in their products, x's two paths met in the LayerNorm's backward) when
    /// every projection is plain or carries a training adapter on a frozen base, and no tenant's
    /// joins them.
    pub fn forward(&self, norm: &LayerNorm, x: Tensor<3>, tenants: Option<Tenants>) -> Tensor<3> {
        let layers = || Some([self.q.layer()?, self.k.layer()?, self.v.layer()?, self.o.layer()?]);
        if tenants.is_none()
            && let Some(layers) = layers()
        {
            return attention_block(x, norm, layers, self.heads);
        }
        let of = |target| tenants.and_then(|t| t.of(target));
        let n = norm.forward(x.clone());
        let (q, k) = (self.q.forward_for(n.clone(), of(Target::Q)), self.k.forward_for(n.clone(), of(Target::K)));
        let y = causal_attention(q, k, self.v.forward_for(n, of(Target::V)), self.heads);
        self.o.forward_onto_for(y, Some(x), of(Target::O))
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub fc: Projection,
    pub proj: Projection,
}

impl Mlp {
    /// `x + mlp(norm(x))`, the second half of a block: one operation of ours (the GELU inside
    /// the products, x's two paths met in the LayerNorm's backward) when each layer is plain or
    /// carries a training adapter on a frozen base, and no tenant's joins them.
    pub fn forward(&self, norm: &LayerNorm, x: Tensor<3>, tenants: Option<Tenants>) -> Tensor<3> {
        let layers = || Some([self.fc.layer()?, self.proj.layer()?]);
        if tenants.is_none()
            && let Some(layers) = layers()
        {
            return mlp_block(x, norm, layers);
        }
        let h = gelu(self.fc.forward_for(norm.forward(x.clone()), tenants.and_then(|t| t.of(Target::Fc))));
        self.proj.forward_onto_for(h, Some(x), tenants.and_then(|t| t.of(Target::Proj)))
    }
}

#[derive(Module, Debug)]
pub struct Block {
    pub ln1: LayerNorm,
    pub attn: Attention,
    pub ln2: LayerNorm,
    pub mlp: Mlp,
}

impl Block {
    /// With `tenants`, each sequence also goes through its own tenant's adapters (serving).
    pub fn forward(&self, x: Tensor<3>, tenants: Option<Tenants>) -> Tensor<3> {
        // Each branch's last projection adds the residual stream in its own product.
        let x = self.attn.forward(&self.ln1, x, tenants);
        self.mlp.forward(&self.ln2, x, tenants)
    }

    /// The projection a LoRA target names.
    pub fn projection_mut(&mut self, target: Target) -> &mut Projection {
        match target {
            Target::Q => &mut self.attn.q,
            Target::K => &mut self.attn.k,
            Target::V => &mut self.attn.v,
            Target::O => &mut self.attn.o,
            Target::Fc => &mut self.mlp.fc,
            Target::Proj => &mut self.mlp.proj,
        }
    }
}

#[derive(Module, Debug)]
pub struct Gpt {
    pub tok_emb: Embedding,
    pub pos_emb: Embedding,
    pub blocks: Vec<Block>,
    pub ln_f: LayerNorm,
    pub head: Linear,
}

fn new_layer_norm(init: &mut Init, d: usize) -> LayerNorm {
    LayerNorm { gamma: init.constant([d], 1.0), beta: init.constant([d], 0.0) }
}

impl Gpt {
    /// A freshly initialised model of the given shape; the same seed gives the same weights on
    /// every backend.
    pub fn new(shape: &ModelShape, init: &mut Init) -> Self {
        let (d, f) = (shape.d_model, shape.d_ff);
        let residual_std = INIT_STD / (2.0 * shape.layers as f32).sqrt();
        let blocks = (0..shape.layers)
            .map(|_| Block {
                ln1: new_layer_norm(init, d),
                attn: Attention {
                    q: Projection::new(init, d, d, INIT_STD),
                    k: Projection::new(init, d, d, INIT_STD),
                    v: Projection::new(init, d, d, INIT_STD),
                    o: Projection::new(init, d, d, residual_std),
                    heads: shape.heads,
                },
                ln2: new_layer_norm(init, d),
                mlp: Mlp { fc: Projection::new(init, d, f, INIT_STD), proj: Projection::new(init, f, d, residual_std) },
            })
            .collect();
        Self {
            tok_emb: Embedding { weight: init.normal([shape.vocab, d], INIT_STD) },
            pos_emb: Embedding { weight: init.normal([shape.context, d], INIT_STD) },
            blocks,
            ln_f: new_layer_norm(init, d),
            head: Linear { weight: init.normal([d, shape.vocab], INIT_STD), bias: None },
        }
    }

    pub fn context(&self) -> usize {
        self.pos_emb.weight.dims()[0]
    }

    /// Token ids (B, T) → logits (B, T, vocab). T must not exceed the context window.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.forward_tenants(ids, |_| None)
    }

    /// `forward`, with each sequence also through its own tenant's adapters in the blocks that
    /// `tenants` gives them for (block index → that block's stacks): one batch, many tenants.
    pub fn forward_tenants<'a>(
        &self,
        ids: Tensor<2, Int>,
        tenants: impl Fn(usize) -> Option<Tenants<'a>>,
    ) -> Tensor<3> {
        let mut x = embed(ids, self.tok_emb.weight.val(), self.pos_emb.weight.val()); // (B, T, C)
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x, tenants(i));
        }
        linear(self.ln_f.forward(x), self.head.weight.val(), None)
    }

    /// Freeze every base weight and attach fresh adapters to the target projections of every
    /// block. The frozen weights get no gradient, so the optimizer keeps no state for them.
    pub fn with_adapters(self, targets: &[Target], rank: usize, alpha: f32, init: &mut Init) -> Self {
        let mut model = self.no_grad();
        for block in &mut model.blocks {
            for &target in targets {
                block.projection_mut(target).attach(init, rank, alpha);
            }
        }
        model
    }

    /// A copy with every adapter folded into its base weight: a plain model for export.
    pub fn merged(self) -> Self {
        let blocks = self
            .blocks
            .into_iter()
            .map(|b| Block {
                ln1: b.ln1,
                attn: Attention {
                    q: b.attn.q.merge(),
                    k: b.attn.k.merge(),
                    v: b.attn.v.merge(),
                    o: b.attn.o.merge(),
                    heads: b.attn.heads,
                },
                ln2: b.ln2,
                mlp: Mlp { fc: b.mlp.fc.merge(), proj: b.mlp.proj.merge() },
            })
            .collect();
        Self { blocks, ..self }
    }
}

/// Mean cross-entropy of next-token prediction: logits (B, T, V) against targets (B, T).
pub fn next_token_loss(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [b, t, v] = logits.dims();
    cross_entropy(logits.reshape([b * t, v]), targets.reshape([b * t]))
}
