//! Our WGSL kernels, compiled into the crate from the repository's `shaders/` folder.
//!
//! Each file is plain WGSL that validates as it stands (`naga shaders/NAME.wgsl`). Its
//! `const WORKGROUP_SIZE: u32 = N;` is the one place its workgroup size is written, and likewise
//! any other constant the launch must agree with (the matrix product's tile): the launch reads
//! them from the text at compile time. Every build carries this table, not only GPU builds, so
//! `cargo test` validates every shader with naga whatever the features.

pub struct Shader {
    /// The file's name in `shaders/`, without `.wgsl`.
    pub name: &'static str,
    text: &'static str,
    /// Threads per workgroup: the shader's own `WORKGROUP_SIZE`.
    pub workgroup_size: u32,
    /// Threads per workgroup on a software adapter (`ops::kernel_form`): the shader's
    /// `SOFTWARE_WORKGROUP_SIZE` where it declares one, else `workgroup_size`. A launch that
    /// takes it counts its workgroups for it.
    pub software_workgroup_size: u32,
}

impl Shader {
    /// The WGSL source under a first line naming the file (which `bench/webgpu-calls.js` reads:
    /// burn labels every pipeline of ours `main`, its entry point).
    pub fn source(&self) -> String {
        self.source_at(self.workgroup_size)
    }

    /// `source`, with `WORKGROUP_SIZE` declared as `workgroup_size` threads.
    pub fn source_at(&self, workgroup_size: u32) -> String {
        self.source_with(&[("WORKGROUP_SIZE", workgroup_size)])
    }

    /// `source`, each named constant (a `const NAME: u32 = N;` of the file) declared at the given
    /// value instead: a launch specialising the shader to its sizes.
    pub fn source_with(&self, constants: &[(&str, u32)]) -> String {
        let declared = |name: &str, value: u32| format!("const {name}: u32 = {value}u;");
        let mut text = self.text.to_string();
        for &(name, value) in constants {
            let own = declared(name, self.constant(name));
            assert!(text.contains(&own), "shaders/{}.wgsl declares `{own}`", self.name);
            text = text.replacen(&own, &declared(name, value), 1);
        }
        format!("// shaders/{}.wgsl\n{text}", self.name)
    }

    /// The shader's `const NAME: u32 = N;` (see `constant`).
    pub const fn constant(&self, name: &str) -> u32 {
        constant(self.text, name)
    }
}

/// The N of `const NAME: u32 = N;` in a shader's text, for the constants the launch needs too;
/// a shader without one, or with anything but decimal digits there, fails the build.
pub const fn constant(text: &str, name: &str) -> u32 {
    match declared(text, name) {
        Some(value) => value,
        None => panic!("the shader does not declare a constant the launch needs (`const NAME: u32 = N;`)"),
    }
}

/// The N of `const NAME: u32 = N;` in a shader's text, if it declares NAME.
const fn declared(text: &str, name: &str) -> Option<u32> {
    let (text, name) = (text.as_bytes(), name.as_bytes());
    let mut at = 0;
    while at < text.len() {
        if let Some(i) = after(text, at, b"const ")
            && let Some(i) = after(text, i, name)
            && let Some(mut i) = after(text, i, b": u32 = ")
        {
            let (mut value, start) = (0u32, i);
            while i < text.len() && text[i].is_ascii_digit() {
                value = value * 10 + (text[i] - b'0') as u32;
                i += 1;
            }
            assert!(i > start, "a shader's launch constant must be a decimal literal");
            return Some(value);
        }
        at += 1;
    }
    None
}

/// Where `key` ends if `text` holds it at `at`.
const fn after(text: &[u8], at: usize, key: &[u8]) -> Option<usize> {
    let mut k = 0;
    while k < key.len() {
        if at + k >= text.len() || text[at + k] != key[k] {
            return None;
        }
        k += 1;
    }
    Some(at + k)
}

macro_rules! shader {
    ($name:literal) => {{
        const TEXT: &str = include_str!(concat!("../../../shaders/", $name, ".wgsl"));
        const SIZE: u32 = constant(TEXT, "WORKGROUP_SIZE");
        let software_workgroup_size = match declared(TEXT, "SOFTWARE_WORKGROUP_SIZE") {
            Some(size) => size,
            None => SIZE,
        };
        Shader { name: $name, text: TEXT, workgroup_size: SIZE, software_workgroup_size }
    }};
}

pub const ADAMW: Shader = shader!("adamw");
pub const MATMUL: Shader = shader!("matmul");
pub const MATMUL_TILED: Shader = shader!("matmul_tiled");
pub const MATMUL_THREE: Shader = shader!("matmul_three");
pub const GELU: Shader = shader!("gelu");
pub const LAYER_NORM: Shader = shader!("layer_norm");
pub const LAYER_NORM_BACKWARD: Shader = shader!("layer_norm_backward");
pub const ATTENTION: Shader = shader!("attention");
pub const ATTENTION_BACKWARD: Shader = shader!("attention_backward");
pub const EMBEDDING: Shader = shader!("embedding");
pub const EMBEDDING_BACKWARD: Shader = shader!("embedding_backward");
pub const CROSS_ENTROPY: Shader = shader!("cross_entropy");
pub const CROSS_ENTROPY_BACKWARD: Shader = shader!("cross_entropy_backward");
pub const LORA_SHRINK: Shader = shader!("lora_shrink");
pub const LORA_EXPAND: Shader = shader!("lora_expand");
pub const LORA_SIDE_BY_SIDE: Shader = shader!("lora_side_by_side");

/// Every shader in `shaders/` (a test checks that the folder holds no other).
pub const ALL: &[&Shader] = &[
    &ADAMW,
    &MATMUL,
    &MATMUL_TILED,
    &MATMUL_THREE,
    &GELU,
    &LAYER_NORM,
    &LAYER_NORM_BACKWARD,
    &ATTENTION,
    &ATTENTION_BACKWARD,
    &EMBEDDING,
    &EMBEDDING_BACKWARD,
    &CROSS_ENTROPY,
    &CROSS_ENTROPY_BACKWARD,
    &LORA_SHRINK,
    &LORA_EXPAND,
    &LORA_SIDE_BY_SIDE,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// From GELU's first constant to the end of its derivative: the text the product kernels
    /// copy from gelu.wgsl, since WGSL has no includes.
    fn gelu_pieces(shader: &Shader) -> &'static str {
        let start = shader.text.find("const FRAC_1_SQRT_2").expect("GELU's constants");
        let derivative = shader.text.find("fn gelu_derivative").expect("GELU's derivative");
        let end = derivative + shader.text[derivative..].find("\n}\n").expect("its end") + 3;
        &shader.text[start..end]
    }

    #[test]
    fn the_product_kernels_compute_gelu_as_its_own_kernel_does() {
        for shader in [&MATMUL, &MATMUL_TILED] {
            assert_eq!(gelu_pieces(shader), gelu_pieces(&GELU), "shaders/{}.wgsl", shader.name);
        }
    }

    #[test]
    fn a_software_adapter_compiles_adamw_at_its_own_size() {
        let source = ADAMW.source_at(ADAMW.software_workgroup_size);
        assert_eq!(ADAMW.software_workgroup_size, 64);
        assert!(source.contains("const WORKGROUP_SIZE: u32 = 64u;"));
        assert!(!source.contains("const WORKGROUP_SIZE: u32 = 256u;"));
        assert_eq!(MATMUL.software_workgroup_size, MATMUL.workgroup_size, "a shader without a software size");
    }

    #[test]
    fn attention_compiles_at_the_heads_width() {
        let source = ATTENTION_BACKWARD.source_with(&[("WORKGROUP_SIZE", 32), ("MAX_H4", 8)]);
        assert!(source.contains("const MAX_H4: u32 = 8u;") && !source.contains("const MAX_H4: u32 = 16u;"));
        assert!(source.contains("const WORKGROUP_SIZE: u32 = 32u;"));
    }

    #[test]
    fn a_constant_is_read_by_its_whole_name() {
        let text = "const TILE_ROWS: u32 = 16u;\nconst TILE: u32 = 8u; // the side\n";
        assert_eq!(constant(text, "TILE"), 8);
        assert_eq!(constant(text, "TILE_ROWS"), 16);
    }
}
