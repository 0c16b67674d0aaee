//! The approval service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        approval::SERVICE,
        approval::Config::load,
        |config| &config.common,
        approval::Application::start,
    )
    .await
}
