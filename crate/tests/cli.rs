//! The CLI's contract for scripts: bad arguments exit with code 2 and a message naming the
//! problem; `scale --json` prints the documented keys.

mod common;

use std::process::{Command, Output};

use finetune_lab::checkpoint::{Checkpoint, Dtype};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_finetune-lab")).args(args).output().unwrap()
}

fn usage_error(args: &[&str], says: &str) {
    let out = cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?} should say {says:?}: {stderr}");
}

#[test]
fn bad_arguments_exit_with_code_2_and_say_why() {
    usage_error(&[], "Usage: finetune-lab <COMMAND>");
    usage_error(&["dance"], "unrecognized subcommand 'dance'");
    usage_error(&["finetune"], "required arguments were not provided:\n  --mode <full|adapter>");
    usage_error(&["finetune", "--mode", "half"], "mode must be full or adapter, got `half`");
    usage_error(
        &["finetune", "--mode", "adapter", "--rank", "0"],
        "rank must be a whole number from 1 to 128, got `0`",
    );
    usage_error(&["finetune", "--mode", "adapter", "--targets", "q,z"], "unknown LoRA target `z`");
    usage_error(
        &["finetune", "--mode", "full", "--steps", "many"],
        "steps must be a whole number from 1 to 100000, got `many`",
    );
    usage_error(&["finetune", "--mode", "full", "--steps", "1e9"], "steps must be a whole number from 1 to 100000");
    usage_error(&["finetune", "--mode", "full", "--context", "999"], "context must be a whole number from 1 to 128");
    usage_error(&["finetune", "--mode", "full", "--rank", "8"], "for adapter runs");
    usage_error(&["finetune", "--mode", "full", "--task", "poetry"], "unknown task `poetry`");
    usage_error(&["finetune", "--mode", "full", "--task", "qa", "--text-file", "x"], "not both");
    usage_error(&["finetune", "--mode", "full", "--colour", "red"], "unexpected argument '--colour'");
    usage_error(&["scale"], "required arguments were not provided:\n  --model <NAME>");
    usage_error(&["scale", "--model", "gpt5"], "unknown model `gpt5`; presets: micro, tiny, bert-large, gpt3-175b");
    usage_error(&["scale", "--model", "tiny", "--precision", "fp8"], "unknown precision `fp8`");
    usage_error(&["scale", "--model", "tiny", "--tenants", "10", "--hot", "11"], "hot ≤ tenants");
    usage_error(&["scale", "--model", "tiny", "--rank", "500", "--mode", "adapter"], "rank must be from 1 to 128");
    usage_error(&["convert", "--in", "a", "--out", "b"], "--dtype <f32|f16|i8>");
    usage_error(&["finetune", "--mode", "full", "--device", "tpu"], "[possible values: cpu, wgpu]");
    usage_error(&["convert", "--in", "a", "--out", "b", "--dtype", "bf16"], "unknown dtype `bf16`");
    usage_error(&["generate", "--temperature", "9"], "'--temperature <T>': must be from 0 to 5, got 9");
    // A setting the crate refuses is reported under the command's usage, as a bad flag is.
    usage_error(&["finetune", "--mode", "half"], "Usage: finetune-lab finetune [OPTIONS] --mode <full|adapter>");
}

/// The commands `finetune-lab --help` lists (clap's own `help` left out).
fn commands() -> Vec<String> {
    let help = String::from_utf8_lossy(&cli(&["--help"]).stdout).into_owned();
    let listed = help.split("Commands:\n").nth(1).expect("the help lists the commands");
    listed
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn every_command_answers_help_and_the_program_its_version() {
    let names = commands();
    assert_eq!(
        names,
        ["finetune", "compare", "generate", "serve", "scale", "pretrain", "convert", "export", "import", "logits"]
    );
    for name in &names {
        let out = cli(&[name, "--help"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name} --help: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("Usage: finetune-lab {name}")), "{stdout}");
    }
    // The run settings' ranges and defaults come from the crate's table (run/settings.rs).
    let help = String::from_utf8_lossy(&cli(&["finetune", "--help"]).stdout).into_owned();
    assert!(help.contains("--steps <N>") && help.contains("a whole number from 1 to 100000 [default: 300]"), "{help}");
    let version = cli(&["--version"]);
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("finetune-lab {}", env!("CARGO_PKG_VERSION")));
}

/// Words of a shell line, with '...' quoting (all the README's examples use).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (vec![], String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => (word, started) = (word + &c.to_string(), true),
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[test]
fn the_readmes_cli_examples_parse_and_cover_every_command() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("## The native CLI").nth(1).expect("the README has a CLI section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("a sh block");
    let mut shown = vec![];
    for line in block.lines() {
        let command = line.split(" #").next().unwrap().trim();
        let args = shell_words(command.strip_prefix("cargo run -p finetune-lab -- ").expect("a CLI example"));
        // `--help` after the flags: clap checks every flag and value before it, then stops.
        let mut checked: Vec<&str> = args.iter().map(String::as_str).collect();
        checked.push("--help");
        let out = cli(&checked);
        assert_eq!(out.status.code(), Some(0), "README: {command}: {}", String::from_utf8_lossy(&out.stderr));
        shown.push(args[0].clone());
    }
    for name in commands() {
        assert!(shown.contains(&name), "the README's CLI section shows no `{name}`");
    }
}

#[test]
fn scale_json_has_the_documented_keys_and_the_lessons_figure() {
    let out = cli(&["scale", "--model", "gpt3-175b", "--tenants", "1000", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "params_total",
        "params_trainable",
        "weights_bytes",
        "grads_bytes",
        "optimizer_bytes",
        "activations_bytes",
        "training_bytes",
        "checkpoint_bytes",
        "tenants",
        "storage_full_bytes",
        "storage_adapter_bytes",
        "serving_full_bytes",
        "serving_adapter_bytes",
        "cold_load_seconds",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    // Mixed precision by default at this size: fp16 weights, 2 bytes per parameter.
    assert_eq!(report["weights_bytes"].as_u64().unwrap(), 2 * report["params_total"].as_u64().unwrap());
    assert_eq!(report["storage_full_bytes"].as_u64().unwrap(), 1000 * report["checkpoint_bytes"].as_u64().unwrap());
}

#[test]
fn a_text_file_that_is_too_short_fails_with_the_needed_length() {
    let path = std::env::temp_dir().join("finetune-lab-short.txt");
    std::fs::write(&path, "just a few words").unwrap();
    let out = cli(&["finetune", "--mode", "full", "--text-file", path.to_str().unwrap(), "--steps", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("at least 514"), "{stderr}");
}

#[test]
#[cfg(not(feature = "wgpu"))]
fn asking_for_the_gpu_without_the_gpu_backend_says_how_to_build_it() {
    usage_error(&["finetune", "--mode", "full", "--task", "qa", "--steps", "1", "--device", "wgpu"], "--features wgpu");
}

#[test]
fn convert_stores_a_checkpoint_as_f16_or_i8_and_says_what_it_cost() {
    let dir = std::env::temp_dir().join(format!("finetune-lab-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f32_path = dir.join("micro.ftlab");
    std::fs::write(&f32_path, common::micro_base(1).to_bytes(Dtype::F32).unwrap()).unwrap();
    let before = std::fs::read(&f32_path).unwrap();
    for (dtype, name, at_most_percent) in [(Dtype::F16, "f16", 52), (Dtype::I8, "i8", 32)] {
        let path = dir.join(format!("micro-{name}.ftlab"));
        let out =
            cli(&["convert", "--in", f32_path.to_str().unwrap(), "--out", path.to_str().unwrap(), "--dtype", name]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // "held-out corpus loss: F32 4.571234, I8 4.571301": the rounding's cost, within 0.5%.
        let line = stderr.lines().find(|l| l.starts_with("held-out corpus loss: F32")).expect(&stderr);
        let losses: Vec<f64> = line.split(' ').filter_map(|w| w.trim_end_matches(',').parse().ok()).collect();
        assert!((losses[1] / losses[0] - 1.0).abs() <= 0.005, "{line}");
        let after = std::fs::read(&path).unwrap();
        assert!(
            after.len() * 100 < before.len() * at_most_percent,
            "{name}: {} -> {} bytes",
            before.len(),
            after.len()
        );
        assert_eq!(Checkpoint::parse(&after).unwrap().header.dtype, dtype);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serve_runs_the_shipped_demo_adapters_three_ways_and_prints_the_documented_keys() {
    let out = cli(&["serve", "--chars", "6", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tenants = report["tenants"].as_array().unwrap();
    let names: Vec<&str> = tenants.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["base", "qa", "records", "verse"]);
    for t in tenants {
        assert_eq!(t["text"].as_str().unwrap().chars().count(), 6, "{t}");
    }
    // The qa tenant answers after its prompt's "A:"; the others are served their own task's prompt.
    assert!(tenants[1]["prompt"].as_str().unwrap().ends_with("A:"));
    for way in ["mixed", "single_adapter", "one_at_a_time", "merged"] {
        assert!(report[way]["chars_per_s"].as_f64().unwrap() > 0.0, "{way}");
        assert!(report[way]["bytes_predicted"].as_u64().unwrap() > 0, "{way}");
    }
    // Measured from the counting heap: four merged copies hold several times one base + adapters.
    let held = |way: &str| report[way]["bytes_measured"].as_u64().unwrap() as f64;
    assert!(held("merged") > 3.0 * held("mixed"), "{} vs {}", held("merged"), held("mixed"));
    assert!(report["swap"]["adapter_file_bytes"].as_u64().unwrap() < 40_000);
    assert!(report["swap"]["merged_file_bytes"].as_u64().unwrap() > 3_000_000);

    usage_error(&["serve", "--chars", "0"], "'--chars <N>': must be from 1 to 1000, got 0");
    let foreign = std::env::temp_dir().join(format!("finetune-lab-foreign-{}.ftlab", std::process::id()));
    std::fs::write(&foreign, common::micro_base(1).to_bytes(Dtype::F32).unwrap()).unwrap();
    let out = cli(&["serve", "--adapter", foreign.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("this is a full model, not an adapter file"));
    std::fs::remove_file(&foreign).unwrap();
}

#[test]
fn a_demo_adapter_exported_for_peft_imports_back_as_the_same_adapter() {
    let dir = std::env::temp_dir().join(format!("finetune-lab-cli-peft-{}", std::process::id()));
    let (peft, back) = (dir.join("qa"), dir.join("qa.ftlab"));
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/base/adapters/qa.ftlab");
    let out = cli(&["export", "--format", "hf", "--in", demo, "--out", peft.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(&["import", "--peft", peft.to_str().unwrap(), "--out", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let original = finetune_lab::checkpoint::Checkpoint::parse(&std::fs::read(demo).unwrap()).unwrap();
    let imported = finetune_lab::checkpoint::Checkpoint::parse(&std::fs::read(&back).unwrap()).unwrap();
    assert_eq!((imported.header.adapter, imported.values), (original.header.adapter, original.values));
    usage_error(
        &["export", "--format", "hf", "--merge", "--out", dir.to_str().unwrap()],
        "--merge needs an adapter file",
    );
    let out = cli(&["import", "--peft", demo, "--out", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a usable .zip"));
    std::fs::remove_dir_all(&dir).unwrap();
}
