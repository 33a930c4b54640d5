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

/// Every command: its flags and help (`args::Command`), and what runs it.
type Run = fn(&args::Command, &[String]) -> Result<(), CliError>;
const COMMANDS: [(fn() -> args::Command, Run); 7] = [
    (finetune_cmd::finetune_command, finetune_cmd::finetune),
    (finetune_cmd::compare_command, finetune_cmd::compare),
    (generate_cmd::command, generate_cmd::generate),
    (serve_cmd::command, serve_cmd::serve),
    (scale_cmd::command, scale_cmd::scale),
    (pretrain_cmd::command, pretrain_cmd::pretrain),
    (convert_cmd::command, convert_cmd::convert),
];

/// `finetune-lab --help`: the commands, from their own declarations.
fn usage() -> String {
    let lines: Vec<String> = COMMANDS
        .iter()
        .map(|(command, _)| {
            let c = command();
            format!("  {:9} {}", c.name, c.about)
        })
        .collect();
    format!(
        "finetune-lab {}: fine-tune a tiny GPT fully or through LoRA adapters, serve many tenants on one\n\
         base, and compute what fine-tuning costs at any scale.\n\n\
         usage: finetune-lab COMMAND [flags]   (`finetune-lab COMMAND --help` lists its flags)\n\n\
         commands:\n{}\n\n  --version  print the version",
        env!("CARGO_PKG_VERSION"),
        lines.join("\n")
    )
}

/// A usage error (exit 2), a failure while running (exit 1), or the help asked for (exit 0).
pub enum CliError {
    Usage(String),
    Failed(String),
    Help(String),
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
    let Some((name, rest)) = raw.split_first() else {
        eprintln!("error: no command given\n\n{}", usage());
        return ExitCode::from(2);
    };
    let result = match name.as_str() {
        "help" | "--help" | "-h" => Err(CliError::Help(usage())),
        "--version" | "-V" => Err(CliError::Help(format!("finetune-lab {}", env!("CARGO_PKG_VERSION")))),
        name => match COMMANDS.iter().find(|(command, _)| command().name == name) {
            Some((command, run)) => run(&command(), rest).map_err(|e| match e {
                CliError::Usage(message) => CliError::Usage(format!(
                    "{message}\n\n{}\n\n(`finetune-lab --help` lists every command)",
                    command().usage()
                )),
                other => other,
            }),
            None => Err(CliError::Usage(format!("unknown command `{name}`\n\n{}", usage()))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Help(text)) => {
            emit(&text);
            ExitCode::SUCCESS
        }
        Err(CliError::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
