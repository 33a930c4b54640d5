//! `finetune-lab`: pretrain the shipped base, fine-tune it fully or through LoRA adapters,
//! sample from it, and compute what fine-tuning costs at any scale.
//! Progress goes to stderr; `--json` puts one object on stdout for scripts.

mod args;
mod convert_cmd;
mod finetune_cmd;
mod generate_cmd;
mod heap;
mod pretrain_cmd;
mod scale_cmd;
mod serve_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  finetune-lab finetune --mode full|adapter [--task NAME | --text-file PATH] [--steps N]
                        [--rank R] [--alpha A] [--targets q,v] [--lr LR] [--batch B]
                        [--context T] [--seed S] [--sample CHARS] [--base PATH]
                        [--out PATH] [--json] [--device cpu|wgpu]
  finetune-lab compare  [--task NAME | --text-file PATH] [--steps N] [--batch B] [--context T]
                        [--seed S] [--sample CHARS] [--json] [--device cpu|wgpu]
  finetune-lab generate [--prompt TEXT] [--chars N] [--temperature T] [--seed S]
                        [--base PATH] [--adapter PATH]
  finetune-lab pretrain [--steps N] [--batch B] [--seed S] [--out PATH]
  finetune-lab convert  --in PATH --out PATH --dtype f16|f32
  finetune-lab serve    [--adapter PATH ...] [--prompt TEXT ...] [--chars N] [--batch-rows R]
                        [--base PATH] [--device cpu|wgpu] [--json]
  finetune-lab scale    --model micro|tiny|bert-large|gpt3-175b [--mode full|adapter]
                        [--rank R] [--targets q,v] [--precision fp32|mixed16] [--batch B]
                        [--tenants N] [--hot K] [--bandwidth nvme|pcie|network|BYTES_PER_S] [--json]
tasks: see `finetune-lab finetune --task help`";

/// A usage error (exit 2) or a failure while running (exit 1).
pub enum CliError {
    Usage(String),
    Failed(String),
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::Usage(message)
    }
}

/// Print to stdout, quietly stopping if the reader went away (`... --json | head`).
pub fn emit(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// The base model the site ships, committed at `www/base/`.
pub fn default_base_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/base/tiny.ftlab")
}

/// Count the heap: on the CPU backend it is where the tensors live (`finetune_lab::heap`).
#[global_allocator]
static HEAP: finetune_lab::heap::Counting<std::alloc::System> = finetune_lab::heap::Counting(std::alloc::System);

fn main() -> ExitCode {
    heap::keep_freed_memory();
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = raw.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "finetune" => finetune_cmd::finetune(rest),
        "compare" => finetune_cmd::compare(rest),
        "generate" => generate_cmd::generate(rest),
        "pretrain" => pretrain_cmd::pretrain(rest),
        "convert" => convert_cmd::convert(rest),
        "scale" => scale_cmd::scale(rest),
        "serve" => serve_cmd::serve(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(CliError::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
