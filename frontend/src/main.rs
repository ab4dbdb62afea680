//! Marquee's dashboard: mounts the app. State lives in [`state`], the
//! stream in [`connection`], rendering in [`view`].

mod api;
mod chart;
mod connection;
mod state;
mod view;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(view::App);
}
