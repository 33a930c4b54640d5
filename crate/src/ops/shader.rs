//! Our WGSL kernels, compiled into the crate from the repository's `shaders/` folder.
//!
//! Each file is plain WGSL that validates as it stands (`naga shaders/NAME.wgsl`). Its
//! `const WORKGROUP_SIZE: u32 = N;` is the one place its workgroup size is written: the launch
//! needs it too, and reads it from the text at compile time. Every build carries this table, not
//! only GPU builds, so `cargo test` validates every shader with naga whatever the features.

pub struct Shader {
    /// The file's name in `shaders/`, without `.wgsl`.
    pub name: &'static str,
    text: &'static str,
    /// Threads per workgroup: the shader's own `WORKGROUP_SIZE`.
    pub workgroup_size: u32,
}

impl Shader {
    /// The WGSL source under a first line naming the file (which `bench/webgpu-calls.js` reads:
    /// burn labels every pipeline of ours `main`, its entry point).
    pub fn source(&self) -> String {
        format!("// shaders/{}.wgsl\n{}", self.name, self.text)
    }
}

/// The N of `const WORKGROUP_SIZE: u32 = N` in a shader's text; a shader without one, or with
/// anything but decimal digits there, fails the build.
const fn workgroup_size(text: &str) -> u32 {
    const KEY: &[u8] = b"const WORKGROUP_SIZE: u32 = ";
    let text = text.as_bytes();
    let mut at = 0;
    while at + KEY.len() <= text.len() {
        let mut k = 0;
        while k < KEY.len() && text[at + k] == KEY[k] {
            k += 1;
        }
        if k == KEY.len() {
            let mut i = at + k;
            let mut size = 0u32;
            while i < text.len() && text[i].is_ascii_digit() {
                size = size * 10 + (text[i] - b'0') as u32;
                i += 1;
            }
            assert!(size > 0, "WORKGROUP_SIZE must be a positive decimal literal");
            return size;
        }
        at += 1;
    }
    panic!("a shader must declare `const WORKGROUP_SIZE: u32 = N;`")
}

macro_rules! shader {
    ($name:literal) => {{
        const TEXT: &str = include_str!(concat!("../../../shaders/", $name, ".wgsl"));
        Shader { name: $name, text: TEXT, workgroup_size: workgroup_size(TEXT) }
    }};
}

pub const ADAMW: Shader = shader!("adamw");
pub const MATMUL: Shader = shader!("matmul");
pub const GELU: Shader = shader!("gelu");
pub const LAYER_NORM: Shader = shader!("layer_norm");
pub const LAYER_NORM_BACKWARD: Shader = shader!("layer_norm_backward");
pub const LAYER_NORM_PARAMS_BACKWARD: Shader = shader!("layer_norm_params_backward");
pub const ATTENTION: Shader = shader!("attention");
pub const ATTENTION_BACKWARD_QUERY: Shader = shader!("attention_backward_query");
pub const ATTENTION_BACKWARD_KEY: Shader = shader!("attention_backward_key");
pub const CROSS_ENTROPY: Shader = shader!("cross_entropy");
pub const CROSS_ENTROPY_BACKWARD: Shader = shader!("cross_entropy_backward");
pub const LORA_SHRINK: Shader = shader!("lora_shrink");
pub const LORA_EXPAND: Shader = shader!("lora_expand");

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
    &LORA_SHRINK,
    &LORA_EXPAND,
];
