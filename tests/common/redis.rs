//! A real `redis-server` on a free loopback port, for the Redis store tests, and a TCP proxy in
//! front of it that can cut one client off (refuse) or leave its connection half dead (blackhole).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

/// A `redis-server` process, killed on drop. [`stop`](Self::stop) and
/// [`start_again`](Self::start_again) reuse the same port, as a restarted Redis would.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A running server on a free port.
    pub fn start() -> Self {
        // The port is free when picked but not held: another test may take it before Redis
        // binds it. Then this server exits at once and another port is tried.
        for _ in 0..5 {
            let mut server = Self::stopped();
            if server.try_start().is_ok() {
                return server;
            }
        }
        panic!("redis-server found no free port in 5 tries");
    }

    /// A port reserved for a server that is not running yet (start it with `start_again`).
    pub fn stopped() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        Self { port, child: None }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server on its port again and waits until it answers (as itself).
    pub fn start_again(&mut self) {
        if let Err(status) = self.try_start() {
            panic!(
                "redis-server on port {} exited at start ({status}): the port was taken while \
                 it was stopped",
                self.port
            );
        }
    }

    /// Starts the server on its port and waits until it answers `INFO` with its own pid; the
    /// exit status when it exits instead (its port taken, say).
    fn try_start(&mut self) -> Result<(), std::process::ExitStatus> {
        assert!(self.child.is_none(), "redis-server is already running");
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not on PATH; these tests need a real Redis: \
                 install it with `apt-get install -y redis-server`"
            ),
            Err(e) => panic!("cannot run redis-server: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        // Whoever answers on the port must be this child: another test's Redis may hold it.
        loop {
            let answering = server_pid(self.port);
            if answering == Some(child.id()) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server (pid {}) on port {port} did not answer within 10 s; the Redis \
                     answering there is pid {answering:?} (a wrapper script that does not exec?)",
                    child.id()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Kills the server (as a crash would: no goodbye to clients) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `process_id` of the Redis answering on `port`, if one does.
fn server_pid(port: u16) -> Option<u32> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream.write_all(b"INFO server\r\n").ok()?;
    // A bulk string: `$<length>\r\n`, then the text; the pid line is well within 4 KiB.
    let mut reply = Vec::new();
    let mut chunk = [0; 4096];
    while !reply.windows(11).any(|w| w == b"process_id:") || !reply.ends_with(b"\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        reply.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    let line = text.lines().find_map(|l| l.strip_prefix("process_id:"))?;
    line.trim().parse().ok()
}

/// What the proxy does with connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Relays both ways.
    Forward,
    /// Closes every connection and each new one at once.
    Refuse,
    /// Keeps connections open but relays nothing: a half-dead link.
    Blackhole,
}

/// A TCP proxy on a free loopback port in front of `upstream`. Switching to `Refuse` closes every
/// connection; switching to `Blackhole` silences the open ones without closing them; switching
/// away from `Blackhole` closes the silenced ones.
pub struct Proxy {
    port: u16,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, _) = watch::channel(Mode::Forward);
        let modes = mode.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(relay(client, upstream, modes.subscribe()));
            }
        });
        Self { port, mode, task }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut client: tokio::net::TcpStream, upstream: u16, mut mode: watch::Receiver<Mode>) {
    let current = *mode.borrow_and_update();
    match current {
        Mode::Refuse => {}
        Mode::Forward => {
            let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
            else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                _ = mode.changed() => {}
            }
            if *mode.borrow_and_update() == Mode::Blackhole {
                drop(server);
                silence(&mut client, &mut mode).await;
            }
        }
        Mode::Blackhole => silence(&mut client, &mut mode).await,
    }
}

/// Reads and drops what the client sends, answering nothing, until the mode changes.
async fn silence(client: &mut tokio::net::TcpStream, mode: &mut watch::Receiver<Mode>) {
    let mut sink = [0; 1024];
    tokio::select! {
        _ = async { while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {} } => {}
        _ = mode.changed() => {}
    }
}
