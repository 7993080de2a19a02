use super::*;
use crate::scenario::dns::parse_pinned;

fn dns(refresh: Option<Duration>, pinned: &[&str], hosts_file: Option<PathBuf>) -> Dns {
    Dns {
        refresh,
        pinned: pinned.iter().map(|p| parse_pinned(p).unwrap()).collect(),
        hosts_file,
    }
}

fn addresses_of(a: &Addresses) -> Vec<String> {
    a.iter().map(|t| t.address.to_string()).collect()
}

#[tokio::test]
async fn an_answer_is_kept_until_it_is_stale() {
    let r = Resolver::new("127.0.0.1", 80, &Dns::default());
    let first = r.addresses().await.unwrap().0;
    assert_eq!(addresses_of(&first), ["127.0.0.1:80"]);
    let again = r.addresses().await.unwrap().0;
    assert!(Arc::ptr_eq(&again, &first), "not looked up again");
    let s = &r.shared;
    let at = s.answer.lock().unwrap().as_ref().unwrap().at;
    assert!(!s.is_stale(at, at + Duration::from_secs(59)));
    assert!(s.is_stale(at, at + Duration::from_secs(60)));
    let once = Resolver::new("127.0.0.1", 80, &dns(None, &[], None));
    assert!(!once.shared.is_stale(at, at + Duration::from_secs(3600)));
}

#[tokio::test]
async fn pinned_addresses_are_the_answer_for_their_host_and_port_alone() {
    let d = dns(
        Some(Duration::from_secs(1)),
        &[
            "api.test:8080:127.0.0.1,127.0.0.2",
            "api.test:9090:10.0.0.1",
        ],
        None,
    );
    let r = Resolver::new("api.test", 8080, &d);
    let got = r.addresses().await.unwrap().0;
    assert_eq!(addresses_of(&got), ["127.0.0.1:8080", "127.0.0.2:8080"]);
}

/// The answer once a refresh has brought `want`, or the last one after 40 refresh periods: a
/// connect that finds the answer stale while the background refresh is still reading the
/// file gets the old one (it does not wait), so on a loaded machine one period may not do.
async fn after_refresh(r: &Resolver, refresh: Duration, want: &[&str]) -> Addresses {
    let mut got = r.addresses().await.unwrap().0;
    for _ in 0..40 {
        tokio::time::sleep(refresh).await;
        got = r.addresses().await.unwrap().0;
        if addresses_of(&got) == want {
            break;
        }
    }
    got
}

#[tokio::test]
async fn a_hosts_file_is_read_again_when_the_answer_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    std::fs::write(&path, "127.0.0.1 api.test\n").unwrap();
    let refresh = Duration::from_millis(50);
    let r = Resolver::new("api.test", 80, &dns(Some(refresh), &[], Some(path.clone())));
    let first = r.addresses().await.unwrap().0;
    assert_eq!(addresses_of(&first), ["127.0.0.1:80"]);
    std::fs::write(&path, "127.0.0.1 api.test\n127.0.0.2 api.test\n").unwrap();
    assert_eq!(
        addresses_of(&r.addresses().await.unwrap().0),
        ["127.0.0.1:80"]
    );
    let second = after_refresh(&r, refresh, &["127.0.0.1:80", "127.0.0.2:80"]).await;
    assert_eq!(addresses_of(&second), ["127.0.0.1:80", "127.0.0.2:80"]);
    // Made unreadable: the last answer stays.
    std::fs::write(&path, "not-an-address api.test\n").unwrap();
    tokio::time::sleep(refresh).await;
    assert_eq!(addresses_of(&r.addresses().await.unwrap().0).len(), 2);
    // One address gone: it is no longer listed.
    std::fs::write(&path, "127.0.0.2 api.test\n").unwrap();
    let third = after_refresh(&r, refresh, &["127.0.0.2:80"]).await;
    assert_eq!(addresses_of(&third), ["127.0.0.2:80"]);
    assert!(!second[0].is_listed() && second[1].is_listed());
}

#[tokio::test]
async fn connections_go_round_robin_and_pass_over_a_refusing_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            kept.push(s);
        }
    });
    // Nothing listens on 127.0.0.2 at that port: refused.
    let pin = format!("api.test:{port}:127.0.0.2,127.0.0.1");
    let r = Resolver::new("api.test", port, &dns(None, &[&pin], None));
    let addresses = r.addresses().await.unwrap().0;
    let deadline = || Instant::now() + Duration::from_secs(5);
    let mut to = Vec::new();
    for _ in 0..4 {
        let (_tcp, served) = r.connect(&addresses, deadline()).await.unwrap();
        to.push(served.address().ip().to_string());
    }
    assert_eq!(
        to, ["127.0.0.1"; 4],
        "every connect lands on the one that answers"
    );
    let served = r.served();
    let refusing = &served[&format!("127.0.0.2:{port}")];
    assert_eq!(refusing.refused, 1, "tried once, then passed over");
    assert_eq!(served[&format!("127.0.0.1:{port}")].connections, 4);
    accept.abort();
}

#[tokio::test]
async fn when_every_address_refuses_the_connect_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let pin = format!("api.test:{port}:127.0.0.1,127.0.0.2");
    let r = Resolver::new("api.test", port, &dns(None, &[&pin], None));
    let addresses = r.addresses().await.unwrap().0;
    let deadline = Instant::now() + Duration::from_secs(5);
    let e = r.connect(&addresses, deadline).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(r.served().values().map(|s| s.refused).sum::<u64>(), 2);
}
