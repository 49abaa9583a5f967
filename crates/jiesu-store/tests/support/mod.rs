//! Helpers shared by the PostgreSQL test binaries (`pg_part1`, `pg_part2`).

/// A new database on the server `JIESU_TEST_PG` names (with or without a database of its own in
/// the URL), so that these tests run side by side (nextest runs each in its own process).
pub fn new_database(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let host_at = url.find("://").map_or(0, |i| i + 3);
    let server = match url[host_at..].find('/') {
        Some(j) => &url[..host_at + j],
        None => url,
    };
    // unique by process and a random part (a name, not a time: nothing here reads the clock)
    let db = format!("p{}_{:016x}", std::process::id(), rand::random::<u64>());
    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .expect("connect to JIESU_TEST_PG")
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create a test database");
    format!("{server}/{db}")
}
