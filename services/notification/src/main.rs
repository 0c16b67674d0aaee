//! The notification service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        notification::SERVICE,
        notification::Config::load,
        |config| &config.common,
        notification::Application::start,
    )
    .await
}
