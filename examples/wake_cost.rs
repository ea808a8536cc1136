//! What handing work to another thread costs on this machine: two threads pass a token back and forth
//! through a mutex and condition variables, as a request passes between an HTTP worker, a script thread
//! and the database writer.
//!
//! ```sh
//! cargo build --release --example wake_cost
//! target/release/examples/wake_cost                  # the threads land on different CPUs
//! taskset -c 0 target/release/examples/wake_cost     # both on one CPU
//! ```
//!
//! It prints the wall time and the CPU time (both threads, user and system, from `/proc/self/stat`) of
//! one round trip, i.e. two wake-ups, first with the waiting thread going straight to sleep and then with
//! it polling for up to 50 µs before it sleeps. On virtual machines, waking a thread whose CPU has gone
//! idle can cost far more than the work handed over. Last, with no lock and no sleep at all, the round trip
//! of one cache line between two spinning threads: what every piece of data a request hands to a thread on
//! the other CPU costs at least, per 64 bytes, before any work is done on it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const ROUND_TRIPS: u32 = 50_000;

struct Baton {
    /// Whose turn it is: 0 the main thread's, 1 the other's.
    turn: AtomicU32,
    lock: Mutex<()>,
    woken: [Condvar; 2],
}

impl Baton {
    fn pass(&self, to: u32) {
        let _guard = self.lock.lock().unwrap();
        self.turn.store(to, Ordering::Release);
        self.woken[to as usize].notify_one();
    }

    fn wait(&self, me: u32, poll: Duration) {
        let started = Instant::now();
        while self.turn.load(Ordering::Acquire) != me && started.elapsed() < poll {
            std::hint::spin_loop();
        }
        let mut guard = self.lock.lock().unwrap();
        while self.turn.load(Ordering::Acquire) != me {
            guard = self.woken[me as usize].wait(guard).unwrap();
        }
    }
}

/// The process's user + system CPU time, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces; the fields after it are space-separated.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn measure(poll: Duration) -> (f64, f64) {
    let baton = Arc::new(Baton {
        turn: AtomicU32::new(0),
        lock: Mutex::new(()),
        woken: [Condvar::new(), Condvar::new()],
    });
    let other = {
        let baton = baton.clone();
        std::thread::spawn(move || {
            for _ in 0..ROUND_TRIPS {
                baton.wait(1, poll);
                baton.pass(0);
            }
        })
    };
    let cpu = cpu_seconds();
    let started = Instant::now();
    for _ in 0..ROUND_TRIPS {
        baton.pass(1);
        baton.wait(0, poll);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    other.join().expect("the other thread");
    let per = |s: f64| s / ROUND_TRIPS as f64 * 1e6;
    (per(wall), per(cpu))
}

/// One cache line passed back and forth by two threads that only spin: the wall time of a round trip.
fn line_round_trip() -> f64 {
    let line = Arc::new(AtomicU32::new(0));
    let other = {
        let line = line.clone();
        std::thread::spawn(move || {
            for i in 0..ROUND_TRIPS {
                while line.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                line.store(2 * i + 2, Ordering::Release);
            }
        })
    };
    let started = Instant::now();
    for i in 0..ROUND_TRIPS {
        line.store(2 * i + 1, Ordering::Release);
        while line.load(Ordering::Acquire) != 2 * i + 2 {
            std::hint::spin_loop();
        }
    }
    let wall = started.elapsed().as_secs_f64();
    other.join().expect("the other thread");
    wall / ROUND_TRIPS as f64 * 1e9
}

fn main() {
    for (name, poll) in [
        ("sleeping at once", Duration::ZERO),
        ("polling 50 µs first", Duration::from_micros(50)),
    ] {
        let (wall, cpu) = measure(poll);
        println!("{name:>20}: {wall:6.2} µs wall, {cpu:6.2} µs CPU per round trip (two wake-ups)");
    }
    // On one CPU the spinning threads would only take turns at the scheduler's pace.
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let ns = line_round_trip();
        println!(
            "{:>20}: {ns:6.0} ns per round trip of one cache line",
            "spinning, no lock"
        );
    }
}
