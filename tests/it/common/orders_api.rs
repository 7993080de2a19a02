//! The emulated orders API of the per-route tests: three routes, each to its own function,
//! only orders-create with a reservation (5), every invocation held 200 ms.

/// Its `[emulator]` tables; `extra` adds keys to `[emulator]` (one per line).
pub fn emulator(extra: &str) -> String {
    format!(
        r#"
[emulator]
api = "rest"
cold_start = "0ms"
duration = "200ms"
{extra}

[[emulator.routes]]
route = "POST /orders"
function = "orders-create"

[[emulator.routes]]
route = "GET /orders/{{id}}"
function = "orders-get"

[[emulator.routes]]
route = "GET /orders"
function = "orders-list"

[emulator.functions.orders-create]
reserved_concurrency = 5

[emulator.functions.orders-get]
memory = 256

[emulator.functions.orders-list]
memory = 256
"#
    )
}

/// Two creates for every two reads and one list, as `[[requests]]`.
pub const REQUESTS: &str = r#"
[[requests]]
name = "create"
method = "POST"
path = "/orders"
body = '{"sku":"A-1"}'
weight = 2

[[requests]]
name = "get"
path = "/orders/{{seq}}"
weight = 2

[[requests]]
name = "list"
path = "/orders"
"#;
