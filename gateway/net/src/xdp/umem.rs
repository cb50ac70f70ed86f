//! The UMEM: the frame area an AF_XDP socket shares with the kernel, and the
//! descriptors of its rings.
//!
//! ```text
//! UMEM  | frame 0 | frame 1 | ... | frame n-1 |     each `frame_size` bytes
//!         \___ receive frames ___/ \__ transmit frames __/
//!          (in the fill ring, the      (on this side's free list,
//!           RX ring, or being read)     the TX ring, or completion)
//! ```
//! A frame's address is its byte offset in the area. Receive frames circulate
//! fill → kernel → RX → this side → fill; transmit frames free list → TX →
//! kernel → completion → free list. The split is fixed at start, so neither
//! direction can starve the other.

/// `struct xdp_desc`: a frame in the RX or TX ring.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpDesc {
    /// Byte offset of the packet in the UMEM.
    pub addr: u64,
    /// Its length.
    pub len: u32,
    /// Options (none used).
    pub options: u32,
}

/// An anonymous, populated mapping, unmapped on drop.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a plain memory region; who reads and writes it is governed by the
// rings' protocol, not by the owner's thread.
unsafe impl Send for Mapping {}

impl Mapping {
    /// `len` bytes of zeroed memory, faulted in now (no page faults later on
    /// the receive path).
    pub fn anonymous(len: usize) -> std::io::Result<Self> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is named.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    /// Maps `len` bytes of the socket `fd` at page offset `pgoff` (a ring).
    pub fn socket(fd: libc::c_int, len: usize, pgoff: u64) -> std::io::Result<Self> {
        // SAFETY: maps the kernel's ring of a socket this process owns; the
        // kernel checks the offset and length.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                pgoff as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    /// The start of the mapping.
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Its length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty (never: mappings have a length).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes at `at .. at + n`, if inside.
    pub fn bytes(&self, at: u64, n: usize) -> Option<&[u8]> {
        let end = (at as usize).checked_add(n)?;
        if end > self.len {
            return None;
        }
        // SAFETY: inside the mapping (checked), which lives as long as `self`.
        // The kernel writes a frame only while it owns it (in the fill ring);
        // the caller reads frames it took from the RX ring.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.add(at as usize), n) })
    }

    /// The bytes at `at .. at + n`, writable, if inside.
    pub fn bytes_mut(&mut self, at: u64, n: usize) -> Option<&mut [u8]> {
        let end = (at as usize).checked_add(n)?;
        if end > self.len {
            return None;
        }
        // SAFETY: inside the mapping (checked); the caller writes a transmit
        // frame it holds (from its free list), which the kernel does not touch.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.add(at as usize), n) })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping this value made, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}
