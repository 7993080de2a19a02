//! Rendering a request and reading the next row allocate nothing once the buffers have
//! grown: counted by a global allocator (this test binary's own), and timed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use stampede_mix::data::{Pick, Row, Source};
use stampede_mix::template::{Context, Position, Scope, SourceColumns, Template};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

#[test]
fn rendering_from_rows_allocates_nothing_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,email,note\n");
    for i in 0..2000 {
        text.push_str(&format!("{i},user{i}@example.com,\"a note, {i}\"\n"));
    }
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, &text).unwrap();
    let jsonl = dir.path().join("orders.jsonl");
    let lines: String = (0..2000)
        .map(|i| {
            format!("{{\"id\":{i},\"email\":\"user{i}@example.com\",\"note\":\"a note, {i}\"}}\n")
        })
        .collect();
    std::fs::write(&jsonl, lines).unwrap();

    for (path, whole_max) in [(&csv, 8 << 20), (&csv, 0), (&jsonl, 8 << 20), (&jsonl, 0)] {
        let source = Source::open_held_up_to(path, whole_max).unwrap();
        let scope = Scope {
            sources: vec![SourceColumns {
                name: None,
                columns: source.columns().to_vec(),
            }],
            captures: vec![],
            captures_note: None,
        };
        let path_t = Template::compile_at(
            "/orders/{{data.id}}?note={{data.note}}&n={{random_int 1 100}}",
            &scope,
            Position::Path,
        )
        .unwrap();
        let header_t = Template::compile_at("{{uuid}}", &scope, Position::Header).unwrap();
        let body_t = Template::compile(
            r#"{"id": "{{uuid}}", "email": "{{data.email}}", "seq": {{seq}}, "at": {{timestamp_ms}}}"#,
            &scope,
        )
        .unwrap();
        let mut reader = source.reader().unwrap();
        let mut out = Vec::with_capacity(512);
        let render = |k: u64, row: Row, out: &mut Vec<u8>| {
            let rows = [Some(row)];
            let ctx = Context {
                seq: k,
                uuid: (k as u128) << 64 | 0xdead_beef,
                random_seed: k.wrapping_mul(31),
                timestamp_ms: 1_700_000_000_000 + k,
                rows: &rows,
                env: &[],
                captured: &[],
            };
            out.clear();
            path_t.render(&ctx, out);
            header_t.render(&ctx, out);
            body_t.render(&ctx, out);
        };
        // Warm up: one pass over the file, so the buffers reach their size (a longer row
        // may grow them once).
        for k in 0..2000 {
            let row = reader.row_for(Pick::Sequential, k).unwrap().unwrap();
            render(k, row, &mut out);
        }
        let before = allocations();
        let n = 10_000u64;
        let started = Instant::now();
        for k in 2000..2000 + n {
            let row = reader.row_for(Pick::Sequential, k).unwrap().unwrap();
            render(k, row, &mut out);
        }
        let elapsed = started.elapsed();
        let allocated = allocations() - before;
        assert_eq!(allocated, 0, "{} allocations in {n} requests", allocated);
        assert!(
            out.starts_with(b"/orders/"),
            "{}",
            String::from_utf8_lossy(&out)
        );
        eprintln!(
            "{} (held whole: {}): next row + 3 templates rendered: {:?} per request",
            path.file_name().unwrap().to_string_lossy(),
            source.held_whole(),
            elapsed / n as u32
        );
    }
}
