//! Compiles `complaints/v1/*.proto` with protox (pure Rust, no system `protoc`) and generates
//! prost messages, tonic clients and servers, and the descriptor set for gRPC reflection.

use std::path::PathBuf;

use prost::Message;

/// Messages whose generated `Debug` would print personal data in clear.
const PERSONAL_DATA_MESSAGES: [&str; 2] = ["CustomerContact", "Customer"];

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
        "complaints/v1/audit.proto",
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
        // Messages holding personal data get a masking Debug in src/lib.rs instead.
        .skip_debug(PERSONAL_DATA_MESSAGES.iter().map(|m| format!(".complaints.v1.{m}")))
        .compile_fds(descriptor_set)?;
    Ok(())
}
