//! `serve`: many tenants on one base, served together (one mixed batch through BGMV), one at a
//! time (adapter swapped per request) and as merged copies (a full model each), measured.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::data;
use finetune_lab::memory::format_bytes;
use finetune_lab::readback::block_on;
use finetune_lab::serve::limits::{self, CHARS, CHARS_DEFAULT, ROWS};
use finetune_lab::serve::{Request, ServeReport, serve_three_ways};
use serde::Serialize;

use crate::CliError;
use crate::args::{Runtime, between, ranged, read};

/// The demo adapters shipped beside the base, one per built-in task (`www/base/adapters/`).
fn demo_adapters() -> Result<Vec<PathBuf>, CliError> {
    let folder = crate::default_base_path().with_file_name("adapters");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| CliError::Failed(format!("cannot read the demo adapters in {}: {e}", folder.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ftlab"))
        .collect();
    paths.sort();
    Ok(paths)
}

#[derive(Serialize)]
struct TenantText {
    name: String,
    adapter: Option<String>,
    prompt: String,
    text: String,
}

#[derive(Serialize)]
struct Report {
    tenants: Vec<TenantText>,
    #[serde(flatten)]
    ways: ServeReport,
}

fn name_of(path: &Path) -> String {
    path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// an adapter file, one tenant; repeat for more [default: the shipped demo adapters]
    #[arg(long, value_name = "PATH")]
    adapter: Vec<PathBuf>,
    /// a prompt per row, used in turn; repeat for more [default: each tenant's task prompt]
    #[arg(long, value_name = "TEXT")]
    prompt: Vec<String>,
    #[arg(long, value_name = "N", default_value_t = CHARS_DEFAULT, value_parser = between(CHARS),
          help = ranged("characters generated per row", &CHARS))]
    chars: usize,
    #[arg(long, value_name = "R", value_parser = between(ROWS),
          help = format!("{} [default: one per tenant and the base]", ranged("rows in the batch, tenants in turn", &ROWS)))]
    batch_rows: Option<usize>,
    #[command(flatten)]
    runtime: Runtime,
}

pub fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let chars = args.chars;
    let base = args.runtime.base.load()?;
    let paths = if args.adapter.is_empty() { demo_adapters()? } else { args.adapter.clone() };
    limits::check_adapters(paths.len()).map_err(CliError::Usage)?;
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        let file = Checkpoint::parse(&read(path)?).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        file.adapter_for(&base).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        files.push(file);
    }
    // Slot 0 is the base alone, then each adapter; rows cycle through the slots.
    let slots = files.len() + 1;
    let rows = args.batch_rows.unwrap_or(slots);
    let prompts = &args.prompt;
    let own_prompt = |slot: usize| {
        let task = if slot == 0 { None } else { files[slot - 1].header.task.as_deref() };
        task.and_then(data::task).map_or("The ", |t| t.prompt).to_string()
    };
    let requests: Vec<Request> = (0..rows)
        .map(|row| {
            let slot = row % slots;
            let prompt = if prompts.is_empty() { own_prompt(slot) } else { prompts[row % prompts.len()].clone() };
            Request { slot, prompt }
        })
        .collect();

    let device = args.runtime.device()?;
    let started = Instant::now();
    let clock = || started.elapsed().as_secs_f64();
    eprintln!("serving {rows} rows ({} tenants and the base), {chars} characters each", files.len());
    let file_refs: Vec<&Checkpoint> = files.iter().collect();
    let ways =
        block_on(serve_three_ways(&base, &file_refs, &requests, chars, &device, &clock)).map_err(CliError::Failed)?;

    let tenants = requests
        .iter()
        .zip(&ways.texts)
        .map(|(r, text)| TenantText {
            name: if r.slot == 0 { "base".into() } else { name_of(&paths[r.slot - 1]) },
            adapter: (r.slot > 0).then(|| paths[r.slot - 1].display().to_string()),
            prompt: r.prompt.clone(),
            text: text.clone(),
        })
        .collect();
    let report = Report { tenants, ways };
    print(&report);
    if args.runtime.json {
        crate::emit(&serde_json::to_string(&report).expect("the report serialises"));
    }
    Ok(())
}

fn print(r: &Report) {
    for t in &r.tenants {
        eprintln!("  {:>10}: {:?} → {:?}", t.name, t.prompt, t.text);
    }
    let bytes = |b: Option<u64>| b.map_or("not measurable".into(), format_bytes);
    for (name, way) in [
        ("together (BGMV)", &r.ways.mixed),
        ("same rows, one adapter", &r.ways.single_adapter),
        ("one at a time (swap)", &r.ways.one_at_a_time),
        ("merged copies", &r.ways.merged),
    ] {
        eprintln!(
            "{name:>24}: {:8.1} chars/s, holds {} (predicted {})",
            way.chars_per_s,
            bytes(way.bytes_measured),
            format_bytes(way.bytes_predicted)
        );
    }
    let s = &r.ways.swap;
    eprintln!(
        "bring one tenant in: adapter {:.1} ms ({} B file), merged model {:.1} ms ({} B); GPT-3 175B from NVMe: {:.4} s vs {:.0} s",
        s.adapter_ms,
        s.adapter_file_bytes,
        s.merged_ms,
        s.merged_file_bytes,
        r.ways.gpt3_cold_load_adapter_seconds,
        r.ways.gpt3_cold_load_full_seconds
    );
}
