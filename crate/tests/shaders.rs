//! Every WGSL kernel in shaders/ parses and validates with naga, the WGSL front end wgpu uses,
//! as the crate renders it (at each workgroup size it launches it with); and the crate knows
//! every file there.

use finetune_lab::ops::shader::{ALL, ATTENTION, ATTENTION_BACKWARD, LAYER_NORM};

#[test]
fn every_shader_validates() {
    for shader in ALL {
        // As the file stands, and at the size a software adapter compiles it with.
        for size in [shader.workgroup_size, shader.software_workgroup_size] {
            let source = shader.source_at(size);
            let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
                panic!("shaders/{}.wgsl at {size} does not parse:\n{}", shader.name, e.emit_to_string(&source))
            });
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| panic!("shaders/{}.wgsl at {size} does not validate: {e:?}", shader.name));
            let main = module.entry_points.iter().find(|e| e.name == "main");
            let main = main.unwrap_or_else(|| panic!("shaders/{}.wgsl has no `main`", shader.name));
            assert_eq!(main.workgroup_size, [size, 1, 1], "shaders/{}.wgsl's workgroup", shader.name);
        }
    }
}

#[test]
fn shaders_validate_at_the_sizes_a_launch_declares() {
    // The attention kernels' MAX_H4 is the heads' hs / 4, one vec4 up to MAX_HEAD's sixteen; the
    // LayerNorm's MAX_RANK the larger rank of the adapters reading it, up to the model's width.
    let declared =
        [(&ATTENTION, "MAX_H4", 1..=16), (&ATTENTION_BACKWARD, "MAX_H4", 1..=16), (&LAYER_NORM, "MAX_RANK", 1..=128)];
    for (shader, name, values) in declared {
        for value in values {
            let source = shader.source_with(&[(name, value)]);
            let module = naga::front::wgsl::parse_str(&source).expect("parses");
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| {
                    panic!("shaders/{}.wgsl with {name} {value} does not validate: {e:?}", shader.name)
                });
        }
    }
}

#[test]
fn the_crate_loads_every_shader_in_the_folder() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../shaders");
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    files.sort();
    let mut known: Vec<String> = ALL.iter().map(|s| format!("{}.wgsl", s.name)).collect();
    known.sort();
    assert_eq!(files, known);
}
