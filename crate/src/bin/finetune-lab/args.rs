//! Flags that several commands share, and the parsers for numbers with a range. Each command's
//! own flags are declared beside what runs it (`*_cmd.rs`) with clap's derive, so `--help`, the
//! parser and the defaults are one declaration.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::tensor::Device;
use clap::{Args, ValueEnum};
use finetune_lab::checkpoint::Checkpoint;

use crate::{CliError, default_base_path};

/// A number in `range`: for clap's `value_parser`, refusing with the range in the message.
pub fn between<T>(range: RangeInclusive<T>) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Display + Clone + Send + Sync + 'static,
{
    move |text| {
        let value: T = text.trim().parse().map_err(|_| format!("not a number: `{text}`"))?;
        if !range.contains(&value) {
            return Err(format!("must be from {} to {}, got {value}", range.start(), range.end()));
        }
        Ok(value)
    }
}

/// "what it is (1 to 1000)": a ranged flag's help, from the range its parser checks.
pub fn ranged<T: Display>(help: &str, range: &RangeInclusive<T>) -> String {
    format!("{help} ({} to {})", range.start(), range.end())
}

/// Where the tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's CPU backend
    Cpu,
    /// burn's GPU backend: Vulkan, Metal or DX12 (a `--features wgpu` build; bench/gpu.sh uses it)
    Wgpu,
}

impl Backend {
    pub fn device(self) -> Result<Device, CliError> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            Backend::Wgpu => gpu_device(),
        }
    }
}

#[cfg(feature = "wgpu")]
fn gpu_device() -> Result<Device, CliError> {
    // Natively the adapter is known only once opened, so a hardware GPU is assumed.
    finetune_lab::gpu::options(false).init().map_err(|e| CliError::Failed(format!("no GPU through wgpu: {e}")))
}

#[cfg(not(feature = "wgpu"))]
fn gpu_device() -> Result<Device, CliError> {
    Err(CliError::Usage("--device wgpu needs the GPU backend: build with `--features wgpu`".into()))
}

/// The base model a command starts from.
#[derive(Args, Debug)]
pub struct BaseArg {
    /// the base model [default: the shipped www/base/tiny.ftlab]
    #[arg(long, value_name = "PATH")]
    pub base: Option<PathBuf>,
}

impl BaseArg {
    pub fn load(&self) -> Result<Checkpoint, CliError> {
        let path = self.base.clone().unwrap_or_else(default_base_path);
        let bytes = std::fs::read(&path).map_err(|e| {
            CliError::Failed(format!(
                "cannot read the base model {}: {e} (run `finetune-lab pretrain` to make it)",
                path.display()
            ))
        })?;
        Checkpoint::parse(&bytes).map_err(CliError::Failed)
    }
}

/// The base, the backend and the report's form: what `finetune`, `compare` and `serve` share.
#[derive(Args, Debug)]
pub struct Runtime {
    #[command(flatten)]
    pub base: BaseArg,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub device: Backend,
    /// the form of the GPU kernels that have two, for comparing them (`--device wgpu` only)
    #[arg(long, value_enum, default_value_t = Kernels::ByAdapter)]
    pub kernels: Kernels,
    /// print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// `ops::kernel_form::KernelForm` on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Kernels {
    /// hardware on a hardware GPU, software on a software one (SwiftShader, lavapipe)
    ByAdapter,
    /// shaders/matmul.wgsl (each thread's 16 × 8 tile in registers, no barriers), AdamW at 64
    /// threads a workgroup
    Software,
    /// shaders/matmul_tiled.wgsl (64 × 64 blocks from operands staged in workgroup memory),
    /// AdamW at 256 threads a workgroup
    Hardware,
}

impl Runtime {
    /// The backend asked for, its kernels in the form asked for.
    pub fn device(&self) -> Result<Device, CliError> {
        use finetune_lab::ops::kernel_form::{KernelForm, use_kernel_form};
        use_kernel_form(match self.kernels {
            Kernels::ByAdapter => KernelForm::ByAdapter,
            Kernels::Software => KernelForm::Software,
            Kernels::Hardware => KernelForm::Hardware,
        });
        self.device.device()
    }
}

/// A file's bytes, or a message that names it.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Failed(format!("cannot read {}: {e}", path.display())))
}

/// A file written, or a message that names it.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
}
