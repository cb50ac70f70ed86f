//! The XDP program: UDP datagrams to the configured ports go to the AF_XDP
//! socket of the queue they arrived on; everything else goes on to the kernel.
//!
//! It is written here in eBPF instructions (a dozen-line assembler below), so
//! the feature needs no BPF toolchain — no clang, no `bpf-linker`, no nightly
//! compiler — and the kernel's verifier checks it at load time like any other.
//!
//! ```text
//! frame:  0               12      14            23      26        34    36     38
//!         +---------------+-------+---- ... ----+-------+--...----+-----+------+--
//!         | MACs          |0x0800 |0x45 ...     |proto  | ...     |sport|dport | ...
//!         +---------------+-------+---- ... ----+-------+--...----+-----+------+--
//!                          ethertype  IPv4, IHL 5   17 = UDP        UDP header
//!
//! r6 = ctx; r2 = data; r3 = data_end
//! data + 42 > data_end          -> pass   (shorter than Ethernet+IPv4+UDP)
//! ethertype != IPv4             -> pass
//! version/IHL != 0x45           -> pass   (IP options: the kernel's business)
//! protocol != UDP               -> pass
//! fragment (MF or offset)       -> pass   (the kernel reassembles)
//! destination port one of ours  -> bpf_redirect_map(xsks, rx_queue_index, XDP_PASS)
//! otherwise                     -> pass
//! ```
//!
//! The redirect's fallback action is `XDP_PASS`: a datagram arriving on a queue
//! with no socket in the map reaches the kernel (and the kernel socket the feed
//! keeps bound to its port), never the floor.

/// `XDP_PASS`.
const XDP_PASS: i32 = 2;
/// The `bpf_redirect_map` helper.
const HELPER_REDIRECT_MAP: i32 = 51;

/// Registers used by the program.
#[derive(Clone, Copy)]
enum R {
    R0 = 0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
}

/// One instruction, or the first half of a 64-bit load.
fn insn(code: u8, dst: R, src: u8, off: i16, imm: i32) -> u64 {
    (code as u64)
        | ((dst as u64 | ((src as u64) << 4)) << 8)
        | ((off as u16 as u64) << 16)
        | ((imm as u32 as u64) << 32)
}

/// A jump to a label, resolved when the program is finished.
struct Fixup {
    at: usize,
    label: usize,
}

/// A small eBPF assembler: the instructions this program needs, and labels.
struct Asm {
    code: Vec<u64>,
    fixups: Vec<Fixup>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn new() -> Self {
        Asm {
            code: Vec::new(),
            fixups: Vec::new(),
            labels: Vec::new(),
        }
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn here(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }
    /// `dst = src` (64-bit).
    fn mov(&mut self, dst: R, src: R) {
        self.code.push(insn(0xbf, dst, src as u8, 0, 0));
    }
    /// `dst = imm`.
    fn mov_imm(&mut self, dst: R, imm: i32) {
        self.code.push(insn(0xb7, dst, 0, 0, imm));
    }
    /// `dst += imm`.
    fn add_imm(&mut self, dst: R, imm: i32) {
        self.code.push(insn(0x07, dst, 0, 0, imm));
    }
    /// `dst &= imm`.
    fn and_imm(&mut self, dst: R, imm: i32) {
        self.code.push(insn(0x57, dst, 0, 0, imm));
    }
    /// `dst = *(size *)(src + off)`; `size` is 1, 2 or 4 bytes.
    fn load(&mut self, size: u8, dst: R, src: R, off: i16) {
        let code = match size {
            1 => 0x71,
            2 => 0x69,
            _ => 0x61,
        };
        self.code.push(insn(code, dst, src as u8, off, 0));
    }
    fn jump(&mut self, code: u8, dst: R, src: u8, imm: i32, l: usize) {
        self.fixups.push(Fixup {
            at: self.code.len(),
            label: l,
        });
        self.code.push(insn(code, dst, src, 0, imm));
    }
    /// `if dst > src goto l` (unsigned).
    fn jgt(&mut self, dst: R, src: R, l: usize) {
        self.jump(0x2d, dst, src as u8, 0, l);
    }
    /// `if dst == imm goto l`.
    fn jeq_imm(&mut self, dst: R, imm: i32, l: usize) {
        self.jump(0x15, dst, 0, imm, l);
    }
    /// `if dst != imm goto l`.
    fn jne_imm(&mut self, dst: R, imm: i32, l: usize) {
        self.jump(0x55, dst, 0, imm, l);
    }
    /// `goto l`.
    fn ja(&mut self, l: usize) {
        self.jump(0x05, R::R0, 0, 0, l);
    }
    /// `dst = map` (the map's descriptor, relocated by the kernel).
    fn load_map(&mut self, dst: R, map_fd: i32) {
        self.code.push(insn(0x18, dst, 1, 0, map_fd));
        self.code.push(0);
    }
    fn call(&mut self, helper: i32) {
        self.code.push(insn(0x85, R::R0, 0, 0, helper));
    }
    fn exit(&mut self) {
        self.code.push(insn(0x95, R::R0, 0, 0, 0));
    }
    fn finish(mut self) -> Vec<u64> {
        for f in &self.fixups {
            let to = self.labels[f.label].expect("every label is placed");
            let off = to as i64 - f.at as i64 - 1;
            let w = &mut self.code[f.at];
            *w = (*w & !(0xFFFF << 16)) | ((off as i16 as u16 as u64) << 16);
        }
        self.code
    }
}

/// A UDP port as a 16-bit load from the packet reads it on this (little-endian)
/// machine: network byte order, seen as a native integer.
fn wire_u16(v: u16) -> i32 {
    u16::from_ne_bytes(v.to_be_bytes()) as i32
}

/// The program for `ports`, redirecting through the `XSKMAP` at `map_fd`.
pub fn redirect_udp(ports: &[u16], map_fd: i32) -> Vec<u64> {
    let mut a = Asm::new();
    let (pass, redirect) = (a.label(), a.label());
    a.mov(R::R6, R::R1);
    a.load(4, R::R2, R::R1, 0); // data
    a.load(4, R::R3, R::R1, 4); // data_end
    a.mov(R::R4, R::R2);
    a.add_imm(R::R4, 42);
    a.jgt(R::R4, R::R3, pass);
    a.load(2, R::R5, R::R2, 12);
    a.jne_imm(R::R5, wire_u16(0x0800), pass);
    a.load(1, R::R5, R::R2, 14);
    a.jne_imm(R::R5, 0x45, pass);
    a.load(1, R::R5, R::R2, 23);
    a.jne_imm(R::R5, 17, pass);
    a.load(2, R::R5, R::R2, 20);
    a.and_imm(R::R5, wire_u16(0x3FFF));
    a.jne_imm(R::R5, 0, pass);
    a.load(2, R::R5, R::R2, 36);
    for &p in ports {
        a.jeq_imm(R::R5, wire_u16(p), redirect);
    }
    a.ja(pass);
    a.here(redirect);
    a.load(4, R::R2, R::R6, 16); // rx_queue_index
    a.load_map(R::R1, map_fd);
    a.mov_imm(R::R3, XDP_PASS);
    a.call(HELPER_REDIRECT_MAP);
    a.exit();
    a.here(pass);
    a.mov_imm(R::R0, XDP_PASS);
    a.exit();
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding of a few instructions as `struct bpf_insn` lays them out
    /// (opcode; destination register in the low nibble, source in the high;
    /// 16-bit offset; 32-bit immediate): `r6 = r1`, `r2 = *(u32 *)(r1 + 4)`,
    /// the first half of loading map fd 253, `if r5 != 17 goto -3`. The
    /// kernel's verifier reading the whole program is the netns tests' part.
    #[test]
    fn instructions_encode_as_the_kernel_reads_them() {
        assert_eq!(insn(0xbf, R::R6, 1, 0, 0).to_le_bytes(), [0xbf, 0x16, 0, 0, 0, 0, 0, 0]);
        assert_eq!(insn(0x61, R::R2, 1, 4, 0).to_le_bytes(), [0x61, 0x12, 4, 0, 0, 0, 0, 0]);
        assert_eq!(
            insn(0x18, R::R1, 1, 0, 253).to_le_bytes(),
            [0x18, 0x11, 0, 0, 0xfd, 0, 0, 0]
        );
        assert_eq!(
            insn(0x55, R::R5, 0, -3, 17).to_le_bytes(),
            [0x55, 0x05, 0xfd, 0xff, 17, 0, 0, 0]
        );
    }

    #[test]
    fn jumps_land_on_their_labels() {
        let p = redirect_udp(&[26400, 26401], 7);
        // Every jump's target is inside the program and is the pass block or
        // the redirect block.
        let pass = p.len() - 2;
        let redirect = p.len() - 2 - 6;
        for (i, w) in p.iter().enumerate() {
            let code = (*w & 0xff) as u8;
            if matches!(code, 0x2d | 0x15 | 0x55 | 0x05) {
                let off = ((*w >> 16) & 0xffff) as u16 as i16 as i64;
                let to = (i as i64 + 1 + off) as usize;
                assert!(to == pass || to == redirect, "jump at {i} lands on {to}");
                if code == 0x15 {
                    assert_eq!(to, redirect);
                }
            }
        }
        // The two port comparisons use the ports as read off the wire.
        let ports: Vec<i32> = p
            .iter()
            .filter(|w| (**w & 0xff) == 0x15)
            .map(|w| (*w >> 32) as i32)
            .collect();
        assert_eq!(ports, [wire_u16(26400), wire_u16(26401)]);
        assert_eq!(wire_u16(0x0800), 0x0008);
    }
}
