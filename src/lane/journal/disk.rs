//! The journal's writes go through a `Disk`: the real file system, or in tests one that runs
//! out of room or fails to sync on cue, the way a full or failing disk does.

use std::{
    fmt,
    fs::File,
    io::{self, Write},
    sync::atomic::{AtomicU32, AtomicU64, Ordering},
};

/// Where the journal's bytes go.
pub trait Disk: Send + Sync + fmt::Debug {
    /// Writes all of `bytes` at the end of `file` (opened for appending).
    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    /// Waits until what was written to `file` is on disk.
    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }

    /// Cuts `file` back to its first `len` bytes, on disk.
    fn truncate(&self, file: &File, len: u64) -> io::Result<()> {
        file.set_len(len)?;
        file.sync_data()
    }
}

/// The file system as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealDisk;

impl Disk for RealDisk {}

/// For tests: a disk with `room` bytes left. A write that does not fit writes what fits and
/// fails with "no space left", as a full disk does; cutting a file back gives its bytes back.
/// `fail_syncs` makes the next syncs fail.
#[derive(Debug)]
pub struct TestDisk {
    pub room: AtomicU64,
    pub fail_syncs: AtomicU32,
}

impl Default for TestDisk {
    fn default() -> Self {
        TestDisk {
            room: AtomicU64::new(u64::MAX),
            fail_syncs: AtomicU32::new(0),
        }
    }
}

impl TestDisk {
    /// A disk with `room` bytes left.
    pub fn with_room(room: u64) -> TestDisk {
        let d = TestDisk::default();
        d.set_room(room);
        d
    }

    pub fn set_room(&self, room: u64) {
        self.room.store(room, Ordering::SeqCst);
    }

    pub fn fail_next_syncs(&self, n: u32) {
        self.fail_syncs.store(n, Ordering::SeqCst);
    }
}

fn full() -> io::Error {
    io::Error::new(
        io::ErrorKind::StorageFull,
        "No space left on device (test disk)",
    )
}

impl Disk for TestDisk {
    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        let room = self.room.load(Ordering::SeqCst);
        let fits = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
        file.write_all(&bytes[..fits])?;
        self.room.fetch_sub(fits as u64, Ordering::SeqCst);
        if fits < bytes.len() {
            return Err(full());
        }
        Ok(())
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        let failing = self
            .fail_syncs
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(io::Error::other("input/output error on sync (test disk)"));
        }
        file.sync_data()
    }

    fn truncate(&self, file: &File, len: u64) -> io::Result<()> {
        let before = file.metadata()?.len();
        file.set_len(len)?;
        let freed = before.saturating_sub(len);
        let _ = self
            .room
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
                Some(r.saturating_add(freed))
            });
        file.sync_data()
    }
}
