//! Generated protobuf types and gRPC stubs. Generated types stop at the edges of each service.

#![allow(clippy::all, clippy::pedantic)]

pub mod v1 {
    tonic::include_proto!("complaints.v1");
}

/// Encoded `FileDescriptorSet` of every schema, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("complaints_descriptor");

pub use v1::*;
