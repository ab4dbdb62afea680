use leptos::prelude::*;

use super::{move_class, sign_class};
use crate::format;
use crate::state::MarketState;

/// Every symbol with its last price and change against the reference.
#[component]
pub fn QuoteTable(market: RwSignal<MarketState>) -> impl IntoView {
    let symbols = move || market.with(|m| m.symbols());
    view! {
        <section class="panel">
            <h2 class="panel-title">"Quotes"</h2>
            <table class="quotes" data-testid="quote-table">
                <thead>
                    <tr>
                        <th scope="col">"Symbol"</th>
                        <th scope="col" class="num">"Last"</th>
                        <th scope="col" class="num">"Change"</th>
                        <th scope="col" class="num">"Change %"</th>
                        <th scope="col" class="num">"Last size"</th>
                        <th scope="col" class="num">"Ticks"</th>
                        <th scope="col">"Source"</th>
                    </tr>
                </thead>
                <tbody>
                    <Show when=move || market.with(|m| m.symbols().is_empty())>
                        <tr><td colspan="7" class="empty">"No symbols stored yet…"</td></tr>
                    </Show>
                    <For each=symbols key=|symbol| symbol.clone() let:symbol>
                        <QuoteRow market=market symbol=symbol />
                    </For>
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn QuoteRow(market: RwSignal<MarketState>, symbol: String) -> impl IntoView {
    let key = symbol.clone();
    let quote = Memo::new(move |_| market.with(|m| m.quote(&key).cloned()));
    let cell = move |render: fn(&crate::state::Quote) -> String| {
        move || quote.with(|q| q.as_ref().map(render).unwrap_or_default())
    };
    let sign = move || quote.with(|q| q.as_ref().map_or("", |q| sign_class(q.tick.change)));
    let flash = move || {
        quote.with(|q| {
            q.as_ref()
                .map_or(String::new(), |q| format!("flash-{}-{}", move_class(q.last_move), q.tick.seq % 2))
        })
    };
    let info_key = symbol.clone();
    let source = move || market.with(|m| m.info(&info_key).map(|i| i.source.label()).unwrap_or_default());
    let data_symbol = symbol.clone();
    view! {
        <tr data-testid="quote-row" data-symbol=data_symbol>
            <th scope="row" class="sym">{symbol}</th>
            <td class=move || format!("num last {}", flash()) data-testid="last">{cell(|q| format::price(q.tick.price))}</td>
            <td class=move || format!("num {}", sign()) data-testid="change">{cell(|q| format::change(q.tick.change))}</td>
            <td class=move || format!("num {}", sign()) data-testid="change-pct">{cell(|q| format::percent(q.tick.change_pct))}</td>
            <td class="num">{cell(|q| q.tick.size.to_string())}</td>
            <td class="num muted">{cell(|q| q.ticks.to_string())}</td>
            <td class="muted" data-testid="source">{source}</td>
        </tr>
    }
}
