use crate::helpers::{config, spawn_app};

#[tokio::test]
async fn without_a_built_dashboard_the_server_says_so_instead_of_a_blank_page() {
    let app = spawn_app(config(5)).await;
    let response = reqwest::get(app.url("/")).await.expect("GET /");
    assert_eq!(response.status(), 503);
    let body = response.text().await.expect("body");
    assert!(body.contains("has not been built") && body.contains("trunk build"), "{body}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_built_dashboard_is_served_with_index_html_for_client_routes() {
    let dir = std::env::temp_dir().join(format!("marquee-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("index.html"), "<html>dashboard</html>").expect("index");
    std::fs::write(dir.join("app.js"), "console.log(1)").expect("asset");

    let mut config = config(5);
    config.static_dir = dir.clone();
    let app = spawn_app(config).await;
    let index = reqwest::get(app.url("/")).await.expect("GET /");
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.expect("body"), "<html>dashboard</html>");
    let asset = reqwest::get(app.url("/app.js")).await.expect("GET /app.js");
    assert_eq!(asset.text().await.expect("body"), "console.log(1)");
    let route = reqwest::get(app.url("/symbols/AAPL")).await.expect("GET client route");
    assert_eq!(route.text().await.expect("body"), "<html>dashboard</html>");
    app.stop().await.expect("clean stop");
    std::fs::remove_dir_all(dir).expect("cleanup");
}
