use leptos::prelude::*;

use crate::connection::Status;

/// Live / reconnecting / offline, as a coloured badge.
#[component]
pub fn ConnectionBadge(status: RwSignal<Status>) -> impl IntoView {
    let label = move || status.get().label();
    view! {
        <span class=move || format!("conn conn-{}", label()) data-testid="connection-status" data-state=label role="status">
            <span class="dot"></span>
            {label}
        </span>
    }
}
