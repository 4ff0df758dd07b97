//! The benchmark's synthetic mesh stays a mesh `dpc` builds without an
//! error: otherwise `cargo bench` measures error reporting, not compiling.

#[path = "../benches/meshgen/mod.rs"]
mod meshgen;

#[test]
fn the_generated_mesh_builds_without_errors() {
    let files = meshgen::mesh(&meshgen::Options { products: 300, seed: 42 });
    let tree = dpc::load::SourceTree { files: files.into_iter().collect(), not_utf8: vec![] };
    let c = dpc::compile(tree, true);
    let errors: Vec<String> =
        c.diagnostics.iter().filter(|d| d.is_error()).take(5).map(|d| format!("{:?}: {}", d.code, d.message)).collect();
    assert!(errors.is_empty(), "the generated mesh has errors: {errors:#?}");
    assert!(c.artifacts.is_some_and(|a| a.len() > 300), "a product gives more than one artifact");
}
