//! What the browser tests' stand-in programs share: say where they listen,
//! then serve until told to stop.

/// Prints `started` as the program's one line of output (JSON), then waits
/// for Ctrl+C, SIGTERM or the end of stdin: whoever started the program is
/// gone once its stdin closes.
pub async fn announce_and_serve(started: serde_json::Value) {
    #[expect(clippy::print_stdout, reason = "the address is the program's output")]
    {
        println!("{started}");
    }
    // A thread of its own, not the runtime's blocking pool: the runtime
    // would wait for that read at exit, and a signal would never stop the
    // program.
    let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _read = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _told = closed.send(());
    });
    tokio::select! {
        () = marquee::common::shutdown::signal() => {}
        _ = stdin_closed => {}
    }
}
