//! The investigation service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        investigation::SERVICE,
        investigation::Config::load,
        |config| &config.common,
        investigation::Application::start,
    )
    .await
}
