//! The intake service binary.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    complaints_plumbing::service::run_main(
        intake::SERVICE,
        intake::Config::load,
        |config| &config.common,
        intake::Application::start,
    )
    .await
}
