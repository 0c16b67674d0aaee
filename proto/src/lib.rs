//! Generated protobuf types and gRPC stubs. Generated types stop at the edges of each service.

#![allow(clippy::all, clippy::pedantic)]

pub mod v1 {
    tonic::include_proto!("complaints.v1");
}

/// Encoded `FileDescriptorSet` of every schema, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("complaints_descriptor");

pub use v1::*;

/// Keeps the first `head` and the last `tail` characters of personal data, masking the rest
/// with `*` (all of it when it is that short). The one masking rule: the masking `Debug` of the
/// messages below and `complaints_domain::masking` both use it.
pub fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars[..head].iter().chain(std::iter::repeat_n(&'*', chars.len() - head - tail)).chain(&chars[chars.len() - tail..]).collect()
}

impl std::fmt::Debug for v1::CustomerContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerContact")
            .field("name", &mask(&self.name, 1, 0))
            .field("phone", &mask(&self.phone, 3, 4))
            .field("email", &mask(&self.email, 1, 0))
            .field("preferred_channel", &self.preferred_channel)
            .finish()
    }
}

impl std::fmt::Debug for v1::Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer")
            .field("name", &mask(&self.name, 1, 0))
            .field("id_type", &self.id_type)
            .field("id_number", &mask(&self.id_number, 4, 4))
            .field("phone", &mask(&self.phone, 3, 4))
            .field("email", &mask(&self.email, 1, 0))
            .field("address", &"***")
            .field("account_number", &mask(&self.account_number, 0, 4))
            .field("preferred_channel", &self.preferred_channel)
            .finish()
    }
}
