//! The API's contract, generated from the handlers' and the shared crate's
//! types: `GET /api/v1/openapi.json` (OpenAPI 3.1: every route, parameter,
//! body, error and the operator's bearer token) and `GET
//! /api/v1/ws-schema.json` (JSON Schema 2020-12 of the WebSocket messages).

use std::sync::LazyLock;

use axum::Json;
use marquee_shared::{ClientMessage, ServerMessage};
use serde_json::{Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Marquee", description = "Market data, live: the REST API of `marquee serve`. \
        Operator routes need `Authorization: Bearer $MARQUEE_OPERATOR_TOKEN` when the server has one."),
    paths(
        crate::gateway::health::get, crate::gateway::health::live, crate::gateway::health::metrics,
        crate::gateway::ws::upgrade,
        super::market::symbols, super::market::quote, super::history::bars, super::market::company,
        super::market::ticks, super::market::events, super::history::indicators, super::market::alerts,
        super::test_alert::send, super::simulation::state, super::simulation::act, super::simulation::speed,
        super::replay::state, super::replay::start, super::replay::stop, super::fetch::submit,
        super::fetch::job, super::import::import, openapi_json, ws_schema,
    ),
    components(schemas(ServerMessage, ClientMessage)),
    modifiers(&Operator, &Errors, &Bars),
    tags(
        (name = "market", description = "Symbols, quotes, ticks, alerts and events"),
        (name = "history", description = "Bars and indicators"),
        (name = "simulation", description = "The live simulation and replays"),
        (name = "ingest", description = "Fetching and importing data"),
        (name = "alerts", description = "Alert delivery"),
        (name = "stream", description = "The WebSocket"),
        (name = "operations", description = "Health, metrics and this contract"),
    ),
)]
pub struct ApiDoc;

/// The operator's bearer token.
struct Operator;

impl Modify for Operator {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let token = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "MARQUEE_OPERATOR_TOKEN; without one set on the server, operator routes are open",
            ))
            .build();
        components.add_security_scheme("operator", SecurityScheme::Http(token));
    }
}

/// `BarSeries` is untagged: the kind of bars depends on the request
/// (`interval`, `indicators`), and an array of bars with indicators is
/// also an array of bars, so the series is any of the three, not exactly one.
struct Bars;

impl Modify for Bars {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        if let Some(RefOr::T(Schema::OneOf(one))) = components.schemas.get("BarSeries") {
            let mut any = AnyOfBuilder::new().description(Some(
                "Live bars (`1m`, `5m`, `15m`), stored bars (`1d`, `1min`..`60min`), or stored bars with \
                 indicators (`indicators=true`)",
            ));
            for item in &one.items {
                any = any.item(item.clone());
            }
            components.schemas.insert("BarSeries".to_owned(), RefOr::T(Schema::AnyOf(any.build())));
        }
    }
}

/// The errors every route may answer, added where a route does not name
/// them itself: bad input (400) and a store that cannot answer (503); on
/// operator routes also the token (401), another site's page (403), a body
/// too large (413) or of the wrong type (415).
struct Errors;

impl Modify for Errors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/api/");
            for operation in
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten()
            {
                let operator = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = operation.request_body.is_some();
                let mut add = |status: &str, what: &str| add_error(operation, status, what);
                if api {
                    add(
                        "400",
                        "Bad input: `bad_query`, `bad_path`, `bad_symbol`, `bad_limit`, `bad_time`, ...",
                    );
                    add("503", "`store_unavailable`: the store cannot answer right now");
                }
                if operator {
                    add("401", "`unauthorized`: the operator token is missing or wrong");
                    add("403", "`forbidden_origin`: a page of another site");
                    add("413", "`too_large`: the body is over the limit");
                }
                if has_body {
                    add("415", "`bad_body`: not the content type the route takes");
                    add("422", "`bad_body`: JSON of the wrong shape");
                }
            }
        }
    }
}

fn add_error(operation: &mut Operation, status: &str, description: &str) {
    if operation.responses.responses.contains_key(status) {
        return;
    }
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build();
    let response: Response =
        ResponseBuilder::new().description(description).content("application/json", content).build();
    operation.responses.responses.insert(status.to_owned(), RefOr::T(response));
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    // Built once: the document is the same for the process's life.
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);
    Json(&DOCUMENT)
}

/// JSON Schema (2020-12) of the WebSocket's messages: `ServerMessage`
/// (server to browser) and `ClientMessage` (browser to server), with every
/// type they use under `$defs`.
#[utoipa::path(get, path = "/api/v1/ws-schema.json", tag = "operations",
    responses((status = 200, description = "JSON Schema 2020-12", body = Object)))]
pub async fn ws_schema() -> Json<&'static Value> {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(ws_schema_document);
    Json(&DOCUMENT)
}

pub fn ws_schema_document() -> Value {
    let mut schemas = Vec::new();
    ServerMessage::schemas(&mut schemas);
    ClientMessage::schemas(&mut schemas);
    let mut defs = serde_json::Map::new();
    defs.insert("ServerMessage".into(), json!(ServerMessage::schema()));
    defs.insert("ClientMessage".into(), json!(ClientMessage::schema()));
    for (name, schema) in schemas {
        defs.insert(name, json!(schema));
    }
    let document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://marquee.local/api/v1/ws-schema.json",
        "title": "Marquee WebSocket messages",
        "description": "Text frames of /ws, one JSON object each: the server sends ServerMessage, the client ClientMessage.",
        "oneOf": [{"$ref": "#/$defs/ServerMessage"}, {"$ref": "#/$defs/ClientMessage"}],
        "$defs": defs,
    });
    // utoipa's references point into an OpenAPI document's components.
    let text = document.to_string().replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap_or(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves is in the document (read from the
    /// source, so a new route without its `#[utoipa::path]` fails here).
    #[test]
    fn the_document_covers_every_route() {
        let document = ApiDoc::openapi();
        let mut routes = Vec::new();
        for (prefix, source) in [("/api/v1", include_str!("mod.rs")), ("", include_str!("../mod.rs"))] {
            for part in source.split(".route(").skip(1) {
                let Some(path) = part.strip_prefix('"').and_then(|rest| rest.split('"').next()) else {
                    continue;
                };
                if path.starts_with("/api") {
                    continue; // the fallbacks that answer `not_found`
                }
                routes.push(format!("{prefix}{path}"));
            }
        }
        assert!(routes.len() > 20, "{routes:?}");
        let missing: Vec<&String> =
            routes.iter().filter(|r| !document.paths.paths.contains_key(*r)).collect();
        assert!(missing.is_empty(), "routes without a #[utoipa::path]: {missing:?}");
    }

    #[test]
    fn operator_routes_name_the_bearer_scheme() {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("json");
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["components"]["securitySchemes"]["operator"]["scheme"], "bearer");
        let stop = &document["paths"]["/api/v1/replay"]["delete"];
        assert_eq!(stop["security"][0]["operator"], serde_json::json!([]));
        assert_eq!(
            stop["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiError"
        );
        assert!(document["paths"]["/api/v1/symbols"]["get"].get("security").is_none(), "reads are open");
    }

    #[test]
    fn the_websocket_schema_has_every_message_and_no_dangling_reference() {
        let schema = ws_schema_document();
        let text = schema.to_string();
        assert!(!text.contains("#/components/"), "references point into $defs");
        for reference in text.split("\"#/$defs/").skip(1) {
            let name = reference.split('"').next().expect("a name");
            assert!(schema["$defs"].get(name).is_some(), "{name} is referenced but not defined");
        }
        assert!(schema["$defs"]["ServerMessage"].is_object() && schema["$defs"]["ClientMessage"].is_object());
    }
}
