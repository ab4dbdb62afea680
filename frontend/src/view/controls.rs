//! Operator controls: fetch, CSV import, start/stop/pause and speed, and
//! replaying a stored session. When
//! the server answers 401 the page asks for the operator token, keeps it in
//! memory only, and retries the action.

use std::time::Duration;

use leptos::prelude::*;
use marquee_shared::{
    FetchJob, FetchState, Imported, ReplayRequest, ReplayState, SimulationState, TestAlertQueued,
};

use crate::api::{self, Body, Failure};
use crate::state::Dashboard;
use crate::state::operator::{self, Action};

#[derive(Clone, Copy)]
struct Ctx {
    token: RwSignal<Option<String>>,
    asking: RwSignal<Option<Action>>,
    error: RwSignal<String>,
    job: RwSignal<Option<FetchJob>>,
    csv_status: RwSignal<String>,
    replay: RwSignal<ReplayState>,
    test_alert: RwSignal<String>,
}

#[component]
pub fn Controls(dash: RwSignal<Dashboard>) -> impl IntoView {
    let ctx = Ctx {
        token: RwSignal::new(None),
        asking: RwSignal::new(None),
        error: RwSignal::new(String::new()),
        job: RwSignal::new(None),
        csv_status: RwSignal::new(String::new()),
        replay: RwSignal::new(ReplayState::Idle),
        test_alert: RwSignal::new(String::new()),
    };
    // The last quarter of an hour, in the browser's time.
    let now = js_sys::Date::now();
    let replay_from = RwSignal::new(local_minute(now - 15.0 * 60_000.0));
    let replay_to = RwSignal::new(local_minute(now));
    let replay_speed = RwSignal::new("10".to_owned());
    let replay = move |_| {
        let (from, to) = (utc(&replay_from.get(), 0.0), utc(&replay_to.get(), 59_999.0));
        let (Some(from), Some(to)) = (from, to) else {
            ctx.error.set("pick the session's start and end".into());
            return;
        };
        let speed = replay_speed.get().parse().unwrap_or(1.0);
        run(ctx, Action::Replay(ReplayRequest { from, to, speed }));
    };
    let symbols = RwSignal::new(String::new());
    let csv_symbol = RwSignal::new(String::new());
    let token_input = RwSignal::new(String::new());
    let speed = move || {
        dash.with(|d| match d.market.simulation {
            Some(SimulationState::Running { speed, .. } | SimulationState::Paused { speed, .. }) => {
                speed.to_string()
            }
            _ => "1".to_owned(),
        })
    };
    let fetch = move |_| match operator::fetch_symbols(&symbols.get()) {
        Some(action) => run(ctx, action),
        None => ctx.error.set("type one or more symbols, e.g. IBM, MSFT".into()),
    };
    let upload = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        let symbol = csv_symbol.get().trim().to_uppercase();
        if symbol.is_empty() {
            ctx.csv_status.set("type the symbol the CSV is for first".into());
            return;
        }
        ctx.csv_status.set(format!("reading {}…", file.name()));
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => run(ctx, Action::Import { symbol, csv: text.as_string().unwrap_or_default() }),
                Err(err) => ctx.csv_status.set(format!("cannot read the file: {err:?}")),
            }
        });
        input.set_value("");
    };
    let give_token = move |_| {
        let token = token_input.get().trim().to_owned();
        if token.is_empty() {
            return;
        }
        ctx.token.set(Some(token));
        token_input.set(String::new());
        if let Some(action) = ctx.asking.get() {
            ctx.asking.set(None);
            run(ctx, action);
        }
    };
    let sim = move |action: &'static str, label: &'static str| {
        view! { <button class="btn" data-testid=format!("sim-{action}") on:click=move |_| run(ctx, Action::Simulation(action))>{label}</button> }
    };
    view! {
        <section class="panel controls" data-testid="controls" aria-label="Operator controls">
            <div class="panel-head"><h2 class="panel-title">"Operator"</h2></div>
            <div class="control-row">
                {sim("start", "▶ Start")}
                {sim("pause", "❚❚ Pause")}
                {sim("resume", "▷ Resume")}
                {sim("stop", "■ Stop")}
                <label class="inline">"Speed "
                    <select data-testid="sim-speed" prop:value=speed
                        on:change=move |ev| {
                            if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
                                run(ctx, Action::Speed(speed));
                            }
                        }>
                        {["0.5", "1", "2", "5", "10"].into_iter().map(|s| view! { <option value=s>{format!("{s}×")}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <div class="control-row">
                <input type="text" placeholder="Fetch symbols: IBM, MSFT" data-testid="fetch-symbols" aria-label="Symbols to fetch"
                    prop:value=move || symbols.get() on:input=move |ev| symbols.set(event_target_value(&ev)) />
                <button class="btn primary" data-testid="fetch-submit" on:click=fetch>"Fetch"</button>
            </div>
            <ul class="fetch-progress" data-testid="fetch-progress">
                {move || ctx.job.get().map(|job| job.entries.into_iter().map(|entry| {
                    let (state, text) = match &entry.state {
                        FetchState::Queued => ("queued", "queued".to_owned()),
                        FetchState::Fetching => ("running", "fetching…".to_owned()),
                        FetchState::Stored { records } => ("done", format!("{records} records")),
                        FetchState::Failed { reason } => ("failed", reason.clone()),
                    };
                    view! {
                        <li class=format!("fetch-entry fetch-{state}") data-testid="fetch-entry" data-symbol=entry.symbol.clone() data-state=state>
                            <b>{entry.symbol.clone()}</b> " " <span>{text}</span>
                        </li>
                    }
                }).collect_view())}
            </ul>
            <div class="control-row">
                <input type="text" placeholder="CSV symbol" data-testid="csv-symbol" aria-label="Symbol of the CSV file" class="short"
                    prop:value=move || csv_symbol.get() on:input=move |ev| csv_symbol.set(event_target_value(&ev)) />
                <label class="btn file">"Import CSV…"
                    <input type="file" accept=".csv,text/csv" data-testid="csv-file" on:change=upload />
                </label>
                <span class="muted" data-testid="csv-status">{move || ctx.csv_status.get()}</span>
            </div>
            <div class="control-row" data-testid="replay-control">
                <label class="inline">"Replay from "
                    <input type="datetime-local" data-testid="replay-from" aria-label="Replay from"
                        prop:value=move || replay_from.get() on:input=move |ev| replay_from.set(event_target_value(&ev)) />
                </label>
                <label class="inline">"to "
                    <input type="datetime-local" data-testid="replay-to" aria-label="Replay to"
                        prop:value=move || replay_to.get() on:input=move |ev| replay_to.set(event_target_value(&ev)) />
                </label>
                <select data-testid="replay-speed" aria-label="Replay speed" prop:value=move || replay_speed.get()
                    on:change=move |ev| replay_speed.set(event_target_value(&ev))>
                    {["1", "2", "5", "10", "50", "100"].into_iter().map(|s| view! { <option value=s>{format!("{s}×")}</option> }).collect_view()}
                </select>
                <button class="btn" data-testid="replay-start" on:click=replay>"⟲ Replay"</button>
                <button class="btn" data-testid="replay-stop" on:click=move |_| run(ctx, Action::StopReplay)>"■ Stop replay"</button>
            </div>
            <p class="muted" data-testid="replay-status" data-state=move || replay_state_name(&ctx.replay.get())>
                {move || describe_replay(&ctx.replay.get())}
            </p>
            <div class="control-row">
                <button class="btn" data-testid="test-alert" on:click=move |_| run(ctx, Action::TestAlert)>"Send test alert"</button>
                <span class="muted" data-testid="test-alert-status">{move || ctx.test_alert.get()}</span>
            </div>
            <Show when=move || ctx.asking.with(Option::is_some)>
                <div class="token-prompt" data-testid="token-prompt" role="dialog" aria-label="Operator token">
                    <span>"This server needs the operator token."</span>
                    <input type="password" data-testid="token-input" aria-label="Operator token" autocomplete="off"
                        prop:value=move || token_input.get() on:input=move |ev| token_input.set(event_target_value(&ev)) />
                    <button class="btn primary" data-testid="token-submit" on:click=give_token>"Use token"</button>
                </div>
            </Show>
            <p class="control-error" data-testid="control-error">{move || ctx.error.get()}</p>
        </section>
    }
}

/// Runs `action`; a 401 asks for the token and keeps the action for later.
fn run(ctx: Ctx, action: Action) {
    ctx.error.set(String::new());
    leptos::task::spawn_local(async move {
        let token = ctx.token.get_untracked();
        let result = call(&action, token.as_deref(), ctx).await;
        match result {
            Ok(()) => {}
            Err(Failure::Unauthorized(message)) => {
                if token.is_some() {
                    ctx.error.set(format!("{message}: check the token"));
                    ctx.token.set(None);
                }
                ctx.asking.set(Some(action));
            }
            Err(failure) => ctx.error.set(failure.message().to_owned()),
        }
    });
}

async fn call(action: &Action, token: Option<&str>, ctx: Ctx) -> Result<(), Failure> {
    let operator::Call { method, path, body } = action.call();
    let body = body.map(|(content_type, text)| Body { content_type, text });
    match action {
        Action::Simulation(_) | Action::Speed(_) => {
            api::operate::<SimulationState>(method, &path, token, body).await.map(drop)
        }
        Action::Fetch(_) => {
            let job: FetchJob = api::operate(method, &path, token, body).await?;
            follow(ctx, job);
            Ok(())
        }
        Action::Import { .. } => {
            let imported: Imported = api::operate(method, &path, token, body).await?;
            ctx.csv_status.set(format!("imported {} rows for {}", imported.records, imported.symbol));
            Ok(())
        }
        Action::TestAlert => {
            let queued: TestAlertQueued = api::operate(method, &path, token, body).await?;
            ctx.test_alert.set(format!("test alert queued for {}", queued.sinks.join(", ")));
            Ok(())
        }
        Action::Replay(_) | Action::StopReplay => {
            let state: ReplayState = api::operate(method, &path, token, body).await?;
            follow_replay(ctx, state);
            Ok(())
        }
    }
}

/// Shows the replay and polls it while it plays.
fn follow_replay(ctx: Ctx, state: ReplayState) {
    let playing = matches!(state, ReplayState::Playing { .. });
    ctx.replay.set(state);
    if !playing {
        return;
    }
    leptos::task::spawn_local(async move {
        loop {
            sleep(Duration::from_millis(500)).await;
            match api::get::<ReplayState>("/api/v1/replay").await {
                Ok(state) => {
                    let playing = matches!(state, ReplayState::Playing { .. });
                    ctx.replay.set(state);
                    if !playing {
                        return;
                    }
                }
                Err(failure) => {
                    ctx.error.set(format!("replay progress unavailable: {}", failure.message()));
                    return;
                }
            }
        }
    });
}

fn replay_state_name(state: &ReplayState) -> &'static str {
    match state {
        ReplayState::Idle => "idle",
        ReplayState::Playing { .. } => "playing",
        ReplayState::Finished { .. } => "finished",
    }
}

fn describe_replay(state: &ReplayState) -> String {
    use crate::chart::format_datetime;
    match state {
        ReplayState::Idle => String::new(),
        ReplayState::Playing { from, to, speed, played } => format!(
            "replaying {} to {} at {speed}×: {played} ticks so far (the simulation waits)",
            format_datetime(*from),
            format_datetime(*to)
        ),
        ReplayState::Finished { played, reason, .. } => format!("replay finished: {played} ticks, {reason}"),
    }
}

/// `ms` since the epoch as a `datetime-local` value in the browser's time.
fn local_minute(ms: f64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// A `datetime-local` value (the browser's time) plus `extra_ms`, as an
/// RFC 3339 time in UTC; `None` when it is empty or not a time.
fn utc(local: &str, extra_ms: f64) -> Option<String> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(local.trim()));
    let ms = date.get_time();
    if local.trim().is_empty() || ms.is_nan() {
        return None;
    }
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms + extra_ms)).to_iso_string()).into()
}

/// Shows a fetch job and polls it until every symbol is done.
fn follow(ctx: Ctx, job: FetchJob) {
    let id = job.id.clone();
    let finished = job.finished;
    ctx.job.set(Some(job));
    if finished {
        return;
    }
    leptos::task::spawn_local(async move {
        loop {
            sleep(Duration::from_millis(500)).await;
            match api::get::<FetchJob>(&format!("/api/v1/fetch/{id}")).await {
                Ok(job) => {
                    let finished = job.finished;
                    ctx.job.set(Some(job));
                    if finished {
                        return;
                    }
                }
                Err(failure) => {
                    ctx.error.set(format!("fetch progress unavailable: {}", failure.message()));
                    return;
                }
            }
        }
    });
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scheduled = web_sys::window().map(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, duration.as_millis() as i32)
        });
        if !matches!(scheduled, Some(Ok(_))) {
            leptos::logging::warn!("cannot schedule a timer");
        }
    });
    if let Err(err) = wasm_bindgen_futures::JsFuture::from(promise).await {
        leptos::logging::warn!("timer failed: {err:?}");
    }
}
