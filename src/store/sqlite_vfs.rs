//! A thin SQLite VFS over the platform's default one that hands each commit's write-ahead-log frames to the
//! kernel in one `pwrite` instead of two per page.
//!
//! SQLite appends a committed transaction to the WAL frame by frame, each frame as a 24-byte header write
//! and a page write, and then syncs the WAL. A group commit of a busy hook writes ten or more frames, so
//! the writer thread made twenty-odd small system calls per commit; on virtual machines, where each one is
//! dear (every write also updates the file's times), they cost as much CPU as the statements. This VFS
//! keeps the frames SQLite writes to a WAL file in memory, as long as each write continues the last one,
//! and writes them in one call when SQLite syncs the file, reads from it, asks its size, truncates or
//! closes it, or writes anywhere else. Every other file (the database, its shared-memory index) and every
//! other method goes straight to the default VFS.
//!
//! This is only safe when the WAL is synced before a commit becomes visible, because other connections
//! read frames from the file as soon as the shared index points at them: `PRAGMA synchronous = FULL` (or
//! `EXTRA`), which syncs the WAL at every commit before the index is updated. The writer therefore opens
//! its connection with this VFS only under those settings (see [`super::sqlite`]).
//!
//! The VFS is registered with SQLite once per process under [`NAME`] (SQLite keeps its VFS list globally);
//! it is never made the default.

// The one FFI boundary of the project: SQLite calls these functions with its own file objects.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// The name the VFS is registered under; pass it when opening a connection.
pub const NAME: &str = "switchboard-wal";
const NAME_C: &CStr = c"switchboard-wal";

/// Buffered frames are written once they reach this size even without a sync, which bounds the memory
/// a large transaction (a bulk import) holds here.
const MAX_PENDING: usize = 1 << 20;

/// The most handed to the default VFS's `xWrite` at once: the Unix VFS writes at most 128 KiB per call
/// (it masks the length to 17 bits), so larger writes go in pieces.
const MAX_WRITE: usize = 124 * 1024;

/// The default VFS this one forwards to, and ours, both leaked on purpose: SQLite keeps pointers to them
/// for the life of the process.
struct Registered {
    real: *mut ffi::sqlite3_vfs,
}

// The pointers are written once, before any use, and SQLite's VFS objects are safe to share between
// threads (SQLite itself calls them from every connection's thread).
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

static REGISTERED: OnceLock<Result<Registered, String>> = OnceLock::new();

/// Registers the VFS (once; later calls return the first outcome).
pub fn register() -> Result<(), String> {
    REGISTERED
        .get_or_init(|| {
            // SAFETY: plain FFI calls into SQLite; `sqlite3_vfs_find` initialises the library if needed,
            // and the VFS object we hand to `sqlite3_vfs_register` is leaked, so it outlives every user.
            unsafe {
                let real = ffi::sqlite3_vfs_find(std::ptr::null());
                if real.is_null() {
                    return Err("SQLite has no default VFS".into());
                }
                let ours = Box::into_raw(Box::new(shim_vfs(&*real)));
                let rc = ffi::sqlite3_vfs_register(ours, 0);
                if rc != ffi::SQLITE_OK {
                    return Err(format!("registering the {NAME} VFS failed with code {rc}"));
                }
                Ok(Registered { real })
            }
        })
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    match REGISTERED.get() {
        Some(Ok(r)) => r.real,
        _ => unreachable!("the VFS is used only after it was registered"),
    }
}

/// Our VFS: a copy of the default one (whose other methods use only the fields copied with them, the
/// `pAppData` and `mxPathname`) with its own name, file size and `xOpen`.
fn shim_vfs(real: &ffi::sqlite3_vfs) -> ffi::sqlite3_vfs {
    let mut vfs = ffi::sqlite3_vfs {
        pNext: std::ptr::null_mut(),
        zName: NAME_C.as_ptr(),
        xOpen: Some(x_open),
        ..*real
    };
    vfs.szOsFile = (real_offset() + real.szOsFile as usize) as c_int;
    vfs
}

#[cfg(test)]
thread_local! {
    /// Writes handed to the kernel for WAL files by this thread, for the tests.
    static WAL_WRITES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The file object SQLite allocates for us (`szOsFile` bytes): our header, then the default VFS's file.
#[repr(C)]
struct ShimFile {
    /// Must come first: SQLite sees this as its `sqlite3_file`.
    base: ffi::sqlite3_file,
    /// `Some` for WAL files: the frames not yet handed to the kernel. Boxed, because SQLite's allocation
    /// starts uninitialised and is freed without Rust knowing; `x_open` writes it and `x_close` drops it.
    pending: Option<Box<Pending>>,
}

struct Pending {
    /// File offset of `buf[0]`.
    start: i64,
    buf: Vec<u8>,
}

const fn real_offset() -> usize {
    // The default VFS's file follows our header, 8-byte aligned as SQLite's own allocations are.
    std::mem::size_of::<ShimFile>().div_ceil(8) * 8
}

/// SAFETY (for this and the methods below): `f` is a file SQLite allocated with our `szOsFile` and opened
/// through `x_open`, so a `ShimFile` header is followed by the default VFS's opened file.
unsafe fn real(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    (f as *mut u8).add(real_offset()) as *mut ffi::sqlite3_file
}

unsafe fn methods(f: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    &*(*real(f)).pMethods
}

unsafe fn shim<'a>(f: *mut ffi::sqlite3_file) -> &'a mut ShimFile {
    &mut *(f as *mut ShimFile)
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real_vfs = real_vfs();
    let inner = real(f);
    (*inner).pMethods = std::ptr::null();
    let open = (*real_vfs).xOpen.expect("the default VFS opens files");
    let rc = open(real_vfs, name, inner, flags, out_flags);
    if (*inner).pMethods.is_null() {
        // SQLite does not call xClose on a file whose pMethods is null.
        (*f).pMethods = std::ptr::null();
        return rc;
    }
    let pending = (flags & ffi::SQLITE_OPEN_WAL != 0).then(|| {
        Box::new(Pending {
            start: 0,
            buf: Vec::new(),
        })
    });
    std::ptr::write(
        f as *mut ShimFile,
        ShimFile {
            base: ffi::sqlite3_file {
                pMethods: &IO_METHODS,
            },
            pending,
        },
    );
    rc
}

/// Hands the buffered frames to the kernel. On failure they are dropped: the transaction they belong to
/// fails with the error, and SQLite never counts frames it was not told were written.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    let Some(p) = shim(f).pending.as_deref_mut() else {
        return ffi::SQLITE_OK;
    };
    if p.buf.is_empty() {
        return ffi::SQLITE_OK;
    }
    let write = methods(f).xWrite.expect("files can be written");
    let mut rc = ffi::SQLITE_OK;
    let mut at = p.start;
    for chunk in p.buf.chunks(MAX_WRITE) {
        rc = write(
            real(f),
            chunk.as_ptr() as *const c_void,
            chunk.len() as c_int,
            at,
        );
        #[cfg(test)]
        WAL_WRITES.with(|n| n.set(n.get() + 1));
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += chunk.len() as i64;
    }
    p.buf.clear();
    if p.buf.capacity() > MAX_PENDING {
        p.buf.shrink_to(MAX_PENDING);
    }
    rc
}

unsafe extern "C" fn x_close(f: *mut ffi::sqlite3_file) -> c_int {
    let flushed = flush(f);
    let rc = (methods(f).xClose.expect("files can be closed"))(real(f));
    std::ptr::drop_in_place(f as *mut ShimFile);
    if flushed != ffi::SQLITE_OK {
        flushed
    } else {
        rc
    }
}

unsafe extern "C" fn x_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let rc = flush(f);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (methods(f).xRead.expect("files can be read"))(real(f), buf, n, off)
}

unsafe extern "C" fn x_write(
    f: *mut ffi::sqlite3_file,
    data: *const c_void,
    n: c_int,
    off: i64,
) -> c_int {
    let Some(p) = shim(f).pending.as_deref_mut() else {
        return (methods(f).xWrite.expect("files can be written"))(real(f), data, n, off);
    };
    let bytes = std::slice::from_raw_parts(data as *const u8, n.max(0) as usize);
    if !p.buf.is_empty() && p.start + p.buf.len() as i64 == off {
        p.buf.extend_from_slice(bytes);
    } else {
        // Anywhere else (a frame rewritten in place, a new header): what is buffered goes first, so writes
        // reach the file in SQLite's order.
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let p = shim(f).pending.as_deref_mut().expect("a WAL file");
        p.start = off;
        p.buf.extend_from_slice(bytes);
    }
    if shim(f)
        .pending
        .as_ref()
        .is_some_and(|p| p.buf.len() >= MAX_PENDING)
    {
        return flush(f);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let rc = flush(f);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (methods(f).xTruncate.expect("files can be truncated"))(real(f), size)
}

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let rc = flush(f);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (methods(f).xSync.expect("files can be synced"))(real(f), flags)
}

unsafe extern "C" fn x_file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    let rc = flush(f);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (methods(f).xFileSize.expect("files have a size"))(real(f), size)
}

unsafe extern "C" fn x_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (methods(f).xLock.expect("files can be locked"))(real(f), level)
}

unsafe extern "C" fn x_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (methods(f).xUnlock.expect("files can be unlocked"))(real(f), level)
}

unsafe extern "C" fn x_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    (methods(f).xCheckReservedLock.expect("locks can be checked"))(real(f), out)
}

unsafe extern "C" fn x_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // Some controls (SQLITE_FCNTL_SYNC, size hints) act on the file's contents: the frames go first.
    let rc = flush(f);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(f).xFileControl {
        Some(control) => control(real(f), op, arg),
        None => ffi::SQLITE_NOTFOUND,
    }
}

unsafe extern "C" fn x_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    match methods(f).xSectorSize {
        Some(size) => size(real(f)),
        None => 4096,
    }
}

unsafe extern "C" fn x_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    match methods(f).xDeviceCharacteristics {
        Some(dc) => dc(real(f)),
        None => 0,
    }
}

unsafe extern "C" fn x_shm_map(
    f: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    match methods(f).xShmMap {
        Some(map) if methods(f).iVersion >= 2 => map(real(f), page, size, extend, out),
        _ => ffi::SQLITE_IOERR_SHMMAP,
    }
}

unsafe extern "C" fn x_shm_lock(
    f: *mut ffi::sqlite3_file,
    off: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    match methods(f).xShmLock {
        Some(lock) if methods(f).iVersion >= 2 => lock(real(f), off, n, flags),
        _ => ffi::SQLITE_IOERR_SHMLOCK,
    }
}

unsafe extern "C" fn x_shm_barrier(f: *mut ffi::sqlite3_file) {
    if let Some(barrier) = methods(f).xShmBarrier.filter(|_| methods(f).iVersion >= 2) {
        barrier(real(f))
    }
}

unsafe extern "C" fn x_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    match methods(f).xShmUnmap {
        Some(unmap) if methods(f).iVersion >= 2 => unmap(real(f), delete),
        _ => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn x_fetch(
    f: *mut ffi::sqlite3_file,
    off: i64,
    n: c_int,
    out: *mut *mut c_void,
) -> c_int {
    match methods(f).xFetch {
        Some(fetch) if methods(f).iVersion >= 3 => {
            let rc = flush(f);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            fetch(real(f), off, n, out)
        }
        _ => {
            // "No mapping": SQLite reads the page with xRead instead.
            *out = std::ptr::null_mut();
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn x_unfetch(f: *mut ffi::sqlite3_file, off: i64, p: *mut c_void) -> c_int {
    match methods(f).xUnfetch {
        Some(unfetch) if methods(f).iVersion >= 3 => unfetch(real(f), off, p),
        _ => ffi::SQLITE_OK,
    }
}

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{params, Connection, OpenFlags};

    /// A fresh directory under the system's temporary one, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            let dir = std::env::temp_dir().join(format!("sb-vfs-{}", crate::util::random_id(12)));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(path: &std::path::Path, gathered: bool) -> Connection {
        let conn = if gathered {
            register().unwrap();
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), NAME).unwrap()
        } else {
            Connection::open(path).unwrap()
        };
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .unwrap();
        conn
    }

    fn insert(conn: &Connection, from: i64, rows: i64) {
        let tx = conn.unchecked_transaction().unwrap();
        for i in from..from + rows {
            tx.execute(
                "INSERT INTO t (id, body) VALUES (?1, ?2)",
                params![i, "x".repeat(500)],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_commit_reaches_the_wal_in_one_write() {
        let dir = Scratch::new();
        let path = dir.path().join("one.db");
        let conn = open(&path, true);
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .unwrap();
        insert(&conn, 0, 10);
        let before = WAL_WRITES.with(|n| n.get());
        insert(&conn, 10, 60); // about eight pages, sixteen writes without gathering
        assert_eq!(WAL_WRITES.with(|n| n.get()) - before, 1);
        let frames: i64 = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(frames > 8, "the commit wrote {frames} frames in all");
    }

    #[test]
    fn other_connections_see_every_commit_and_it_survives_reopening() {
        let dir = Scratch::new();
        let path = dir.path().join("seen.db");
        let writer = open(&path, true);
        writer
            .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .unwrap();
        let reader = open(&path, false);
        for round in 0..30 {
            insert(&writer, round * 20, 20);
            assert_eq!(count(&reader), (round + 1) * 20);
        }
        drop(writer);
        drop(reader);
        let again = open(&path, false);
        assert_eq!(count(&again), 600);
        let ok: String = again
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn transactions_larger_than_the_cache_commit_and_roll_back() {
        let dir = Scratch::new();
        let path = dir.path().join("big.db");
        let conn = open(&path, true);
        // A ten-page cache makes SQLite spill frames to the WAL mid-transaction and read them back.
        conn.execute_batch(
            "PRAGMA cache_size = 10; CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        )
        .unwrap();
        insert(&conn, 0, 5000); // about 2.5 MiB: over the buffer's limit too
        {
            let tx = conn.unchecked_transaction().unwrap();
            for i in 5000..8000 {
                tx.execute(
                    "INSERT INTO t (id, body) VALUES (?1, ?2)",
                    params![i, "y".repeat(500)],
                )
                .unwrap();
            }
            tx.execute("UPDATE t SET body = 'z' WHERE id < 100", [])
                .unwrap();
            tx.rollback().unwrap();
        }
        let reader = open(&path, false);
        assert_eq!(count(&reader), 5000);
        let zs: i64 = reader
            .query_row("SELECT count(*) FROM t WHERE body = 'z'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(zs, 0);
        let ok: String = reader
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}
