//! The analytics service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        analytics::SERVICE,
        analytics::Config::load,
        |config| &config.common,
        analytics::Application::start,
    )
    .await
}
