//! Our WGSL kernels, compiled into the crate from the repository's `shaders/` folder.
//!
//! A shader's text may hold `{{ workgroup_size }}`: the workgroup size lives here, once, because
//! the launch needs it too. Every build carries this table, not only GPU builds, so `cargo test`
//! validates every shader with naga (the WGSL front end wgpu uses) whatever the features.

pub struct Shader {
    /// The file's name in `shaders/`, without `.wgsl`.
    pub name: &'static str,
    text: &'static str,
    /// Threads per workgroup, substituted for `{{ workgroup_size }}`.
    pub workgroup_size: u32,
}

impl Shader {
    /// The WGSL source with its placeholders filled in, under a first line naming the file (which
    /// `bench/webgpu-calls.js` reads: burn labels every pipeline of ours `main`, its entry point).
    pub fn source(&self) -> String {
        let text = self.text.replace("{{ workgroup_size }}", &self.workgroup_size.to_string());
        format!("// shaders/{}.wgsl\n{text}", self.name)
    }
}

macro_rules! shader {
    ($name:literal, $workgroup_size:expr) => {
        Shader {
            name: $name,
            text: include_str!(concat!("../../../shaders/", $name, ".wgsl")),
            workgroup_size: $workgroup_size,
        }
    };
}

pub const ADAMW: Shader = shader!("adamw", 256);
/// 64 threads of 8 × 8 output tiles: a 256 × 512 product is 2,048 tiles.
pub const MATMUL: Shader = shader!("matmul", 64);
pub const GELU: Shader = shader!("gelu", 256);
/// One row a thread: batch × context rows, 256 at 4 × 64.
pub const LAYER_NORM: Shader = shader!("layer_norm", 64);
pub const LAYER_NORM_BACKWARD: Shader = shader!("layer_norm_backward", 64);
/// One column a thread: d_model = 128 columns here.
pub const LAYER_NORM_PARAMS_BACKWARD: Shader = shader!("layer_norm_params_backward", 64);
/// 64 threads, one query or key row each: B · heads · T rows is 1,024 at 4 × 64.
pub const ATTENTION: Shader = shader!("attention", 64);
pub const ATTENTION_BACKWARD_QUERY: Shader = shader!("attention_backward_query", 64);
pub const ATTENTION_BACKWARD_KEY: Shader = shader!("attention_backward_key", 64);
pub const CROSS_ENTROPY: Shader = shader!("cross_entropy", 256);
pub const CROSS_ENTROPY_BACKWARD: Shader = shader!("cross_entropy_backward", 256);

/// Every shader in `shaders/` (a test checks that the folder holds no other).
pub const ALL: &[&Shader] = &[
    &ADAMW,
    &MATMUL,
    &GELU,
    &LAYER_NORM,
    &LAYER_NORM_BACKWARD,
    &LAYER_NORM_PARAMS_BACKWARD,
    &ATTENTION,
    &ATTENTION_BACKWARD_QUERY,
    &ATTENTION_BACKWARD_KEY,
    &CROSS_ENTROPY,
    &CROSS_ENTROPY_BACKWARD,
];
