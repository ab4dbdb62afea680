use leptos::prelude::*;

use super::live::LiveRows;
use super::{move_class, sign_class};
use crate::state::Dashboard;
use marquee_shared::format;

/// The scrolling "Times Square" tape. The strip is rendered twice so the
/// CSS animation can loop seamlessly; only the first copy carries test ids.
#[component]
pub fn TickerTape(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    // Runs every frame; the lists below change only when the symbols do.
    let symbols = Memo::new(move |_| dash.with(|d| d.market.symbols()));
    let strip = move |primary: bool| {
        view! {
            <div class="tape-strip" aria-hidden=(!primary).then_some("true")>
                <For each=move || symbols.get() key=|symbol| symbol.clone() let:symbol>
                    <TapeItem dash=dash live=live symbol=symbol primary=primary />
                </For>
            </div>
        }
    };
    view! {
        <div class="tape" data-testid="ticker-tape">
            <div class="tape-track">{strip(true)}{strip(false)}</div>
        </div>
    }
}

#[component]
fn TapeItem(dash: RwSignal<Dashboard>, live: LiveRows, symbol: String, primary: bool) -> impl IntoView {
    let key = symbol.clone();
    let quote = Memo::new(move |_| {
        live.track(&key);
        dash.with_untracked(|d| d.market.quote(&key).cloned())
    });
    let class = move || {
        quote.with(|q| match q {
            // Alternating the animation class restarts the flash on every tick.
            Some(q) => format!(
                "tape-item {} flash-{}-{}",
                sign_class(q.tick.change),
                move_class(q.last_move),
                q.tick.seq % 2
            ),
            None => "tape-item".to_owned(),
        })
    };
    let price = move || quote.with(|q| q.as_ref().map(|q| format::price(q.tick.price)));
    let change = move || {
        quote.with(|q| {
            q.as_ref().map(|q| {
                format!(
                    "{} {} ({})",
                    format::arrow(q.tick.change),
                    format::change(q.tick.change),
                    format::percent(q.tick.change_pct)
                )
            })
        })
    };
    let data_symbol = symbol.clone();
    view! {
        <span class=class data-testid=primary.then_some("tape-item") data-symbol=data_symbol>
            <span class="sym">{symbol}</span>
            <span class="px" data-testid=primary.then_some("tape-price")
                data-seq=move || quote.with(|q| q.as_ref().map(|q| q.tick.seq.to_string()))>{price}</span>
            <span class="chg">{change}</span>
        </span>
    }
}
