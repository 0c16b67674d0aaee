//! The routing service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        routing::SERVICE,
        routing::Config::load,
        |config| &config.common,
        routing::Application::start,
    )
    .await
}
