//! `finetune-lab`: pretrain the shipped base, fine-tune it fully or through LoRA adapters,
//! sample from it, and compute what fine-tuning costs at any scale.
//! Progress goes to stderr; `--json` puts one object on stdout for scripts. Each command's
//! flags are declared with clap's derive beside what runs it (`*_cmd.rs`).

mod args;
mod convert_cmd;
mod export_cmd;
mod finetune_cmd;
mod generate_cmd;
mod import_cmd;
mod logits_cmd;
mod malloc_tuning;
mod pretrain_cmd;
mod scale_cmd;
mod serve_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use finetune_lab::measure::heap::Counting;

/// Fine-tune a tiny GPT fully or through LoRA adapters, serve many tenants on one base, and
/// compute what fine-tuning costs at any scale.
#[derive(Parser, Debug)]
#[command(name = "finetune-lab", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fine-tune the shipped base on a task or a text file, fully or through LoRA adapters.
    Finetune(finetune_cmd::FinetuneArgs),
    /// Both modes on the same data and seed, and what the adapter saves.
    Compare(finetune_cmd::CompareArgs),
    /// Sample from the base, or from the base with an adapter or a full checkpoint on it.
    Generate(generate_cmd::GenerateArgs),
    /// Serve tenants on one base three ways: together (one mixed batch), one at a time, as merged copies.
    Serve(serve_cmd::ServeArgs),
    /// The memory model: what fine-tuning and serving N tenants cost, for any preset model.
    Scale(scale_cmd::ScaleArgs),
    /// Pretrain the tiny base on our generated corpus (what www/base/tiny.ftlab was made with).
    Pretrain(pretrain_cmd::PretrainArgs),
    /// Store a checkpoint's values as f32, f16 or i8, and say what it cost in held-out loss.
    Convert(convert_cmd::ConvertArgs),
    /// A model as a transformers GPT-2 directory, or an adapter as a PEFT LoRA directory.
    Export(export_cmd::ExportArgs),
    /// A PEFT LoRA adapter (its directory or a .zip of it) as an adapter file for the base.
    Import(import_cmd::ImportArgs),
    /// The next-token logits at every position of a text, as JSON (to hold other code to ours).
    Logits(logits_cmd::LogitsArgs),
}

impl Command {
    fn run(&self) -> Result<(), CliError> {
        match self {
            Command::Finetune(args) => finetune_cmd::finetune(args),
            Command::Compare(args) => finetune_cmd::compare(args),
            Command::Generate(args) => generate_cmd::generate(args),
            Command::Serve(args) => serve_cmd::serve(args),
            Command::Scale(args) => scale_cmd::scale(args),
            Command::Pretrain(args) => pretrain_cmd::pretrain(args),
            Command::Convert(args) => convert_cmd::convert(args),
            Command::Export(args) => export_cmd::export(args),
            Command::Import(args) => import_cmd::import(args),
            Command::Logits(args) => logits_cmd::logits(args),
        }
    }
}

/// A usage error (exit 2, the command's usage below it) or a failure while running (exit 1).
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

/// Count the heap: on the CPU backend it is where the tensors live.
#[global_allocator]
static HEAP: Counting<std::alloc::System> = Counting(std::alloc::System);

fn main() -> ExitCode {
    malloc_tuning::keep_freed_memory();
    // Bad flags, --help and --version end here, with clap's exit codes (2, 0, 0).
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        // Settings the crate refused (a range, a mode, a task): reported as clap reports a bad
        // flag, under the command's usage, with the same exit code.
        Err(CliError::Usage(message)) => {
            let name = matches.subcommand_name().expect("a command ran");
            let mut cli = Cli::command();
            cli.build();
            let command = cli.find_subcommand_mut(name).expect("the command that ran is declared");
            command.error(ErrorKind::ValueValidation, message).exit()
        }
        Err(CliError::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
