//! Compiles `complaints/v1/*.proto` with protox (pure Rust, no system `protoc`) and generates
//! prost messages, tonic clients and servers, and the descriptor set for gRPC reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "complaints/v1/common.proto",
        "complaints/v1/events.proto",
        "complaints/v1/intake.proto",
        "complaints/v1/routing.proto",
        "complaints/v1/investigation.proto",
        "complaints/v1/approval.proto",
        "complaints/v1/notification.proto",
        "complaints/v1/analytics.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptor_set = protox::compile(files, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("complaints_descriptor.bin"), descriptor_set.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptor_set)?;
    Ok(())
}
