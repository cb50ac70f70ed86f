//! The crate's one error type: every way market data can fail to read, each
//! saying where (byte offset, line and column, packet block, file).

/// Errors of foxtrot-feed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No bytes at all.
    #[error("empty message")]
    EmptyMessage,
    /// The type byte is not an ITCH 5.0 message type.
    #[error("unknown message type {kind:#04x}")]
    UnknownType {
        /// The type byte.
        kind: u8,
    },
    /// Fewer bytes than the type's length.
    #[error("message type {:?} needs {expected} bytes, found {found}", *kind as char)]
    ShortMessage {
        /// The type byte.
        kind: u8,
        /// The specification's length.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The length prefix disagrees with the message type's length.
    #[error(
        "offset {offset}: length prefix {found} but message type {:?} is {expected} bytes \
         (a file whose prefixes are absent or zero reads with --framing raw or zero-prefixed, which --framing auto detects)",
        *kind as char
    )]
    LengthMismatch {
        /// Offset of the length prefix.
        offset: u64,
        /// The type byte after it.
        kind: u8,
        /// The specification's length.
        expected: usize,
        /// The prefix's value.
        found: usize,
    },
    /// After a length prefix comes a byte that is no message type.
    #[error(
        "offset {offset}: length prefix {prefix} is followed by {kind:#04x}, not an ITCH message type \
         (a file whose prefixes are absent or zero reads with --framing raw or zero-prefixed, which --framing auto detects)"
    )]
    NotAMessage {
        /// Offset of the length prefix.
        offset: u64,
        /// The prefix's value.
        prefix: usize,
        /// The byte after it.
        kind: u8,
    },
    /// The file ends inside a message or its prefix.
    #[error("offset {offset}: file ends {found} bytes into a {needed}-byte {what}")]
    Truncated {
        /// Offset where the unfinished item starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        found: usize,
    },
    /// The bytes at `offset` are not a message.
    #[error("offset {offset}: {cause}")]
    At {
        /// Offset of the message.
        offset: u64,
        /// What is wrong with it.
        cause: Box<Error>,
    },
    /// Shorter than the header.
    #[error("packet of {found} bytes is shorter than the 20-byte header")]
    ShortPacket {
        /// Datagram length.
        found: usize,
    },
    /// A block runs past the end of the datagram.
    #[error("packet offset {offset}: message block {index} of {count} needs {needed} bytes, {left} left")]
    PacketBlock {
        /// Offset of the block's length field.
        offset: usize,
        /// Block index (0-based).
        index: u16,
        /// Announced count.
        count: u16,
        /// Bytes it needs (length field included).
        needed: usize,
        /// Bytes left.
        left: usize,
    },
    /// Bytes after the last announced block.
    #[error("packet offset {offset}: {extra} bytes after the last of {count} message blocks")]
    PacketTrailing {
        /// Where they start.
        offset: usize,
        /// How many.
        extra: usize,
        /// Announced count.
        count: u16,
    },
    /// The reference is already live.
    #[error("order {0} is already live")]
    DuplicateOrder(u64),
    /// The table is at its load limit.
    #[error("order map full ({0} live orders)")]
    OrderMapFull(usize),
    /// I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a native market-data file.
    #[error("offset 0: bad magic {found:?}, expected \"FXMDv001\"")]
    BadMagic {
        /// The first eight bytes.
        found: [u8; 8],
    },
    /// A header field is out of range.
    #[error("offset {offset}: header field {field} = {value}: {expected}")]
    BadHeader {
        /// Byte offset of the field.
        offset: u64,
        /// Field name.
        field: &'static str,
        /// Value found.
        value: u64,
        /// What was expected.
        expected: &'static str,
    },
    /// The file ends inside a block or holds fewer/more records than announced.
    #[error("offset {offset}: file truncated or padded: expected {expected} bytes, found {found}")]
    Length {
        /// Offset where the mismatch starts.
        offset: u64,
        /// Bytes expected.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// A record does not decode.
    #[error("offset {offset} (record {index}): {what}")]
    BadRecord {
        /// Byte offset of the record.
        offset: u64,
        /// Record index.
        index: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A configured column is not in the header (or the index is too large).
    #[error(
        "line 1: column {name:?} not found in header {header:?} (--columns names the columns in order: \
         timestamp,bid,bid_size,ask,ask_size or timestamp,bid,ask for quotes, timestamp,price,size[,side] for \
         trades)"
    )]
    NoColumn {
        /// The column asked for.
        name: String,
        /// The header line.
        header: String,
    },
    /// A field could not be read.
    #[error("line {line}, column {column} ({field}): {what}: {text:?}")]
    Field {
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Which field.
        field: &'static str,
        /// What is wrong.
        what: &'static str,
        /// The text found.
        text: String,
    },
    /// A line has fewer fields than a configured column needs.
    #[error("line {line}: {found} fields, column {column} ({field}) needed")]
    ShortLine {
        /// 1-based line.
        line: u64,
        /// Fields on the line.
        found: usize,
        /// 1-based column needed.
        column: usize,
        /// Which field.
        field: &'static str,
    },
    /// An input could not be opened, or its compressed bytes inflated
    /// (`cause` is not a `source`: its text is said once).
    #[error("{path}: {cause}")]
    Open {
        /// The input (`-`: standard input).
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The `dbn` crate could not read the file.
    #[error("{path}: {}", dbn_text(cause))]
    Dbn {
        /// The file.
        path: String,
        /// What `dbn` said.
        cause: Box<dbn::Error>,
    },
    /// A DBN file's metadata maps an instrument to a symbol that is not
    /// printable ASCII (damaged metadata).
    #[error("{path}: the metadata maps instrument {id} to {symbol:?}, which is not printable ASCII: the metadata is damaged")]
    DbnBadSymbol {
        /// The file.
        path: String,
        /// The instrument id.
        id: u32,
        /// The symbol as read.
        symbol: String,
    },
    /// A DBN record's length is not a whole number of 8-byte words of at
    /// least a header (every DBN record is): a damaged length byte, which
    /// would leave every later record misaligned.
    #[error("{path}: record {record} (byte {at}{}): a length of {len} bytes, not a whole number of 8-byte words of at least a 16-byte header: the file is damaged", if *compressed { " of the decompressed stream" } else { "" })]
    DbnBadLength {
        /// The file.
        path: String,
        /// Its number, from 1.
        record: u64,
        /// Where it starts (in the decompressed stream of a compressed file).
        at: u64,
        /// Whether the file is compressed.
        compressed: bool,
        /// The length its header gives.
        len: u64,
    },
    /// A DBN record is shorter than its type's (its length byte damaged, or
    /// a record of another DBN version than the metadata says).
    #[error("{path}: record {record}{}: a {kind} record of {len} bytes, shorter than its {want}: the file is damaged", at.map_or(String::new(), |a| format!(" (byte {a})")))]
    DbnShortRecord {
        /// The file.
        path: String,
        /// Its number, from 1.
        record: u64,
        /// Where it starts in the file (known for an uncompressed file).
        at: Option<u64>,
        /// The record type its `rtype` names.
        kind: &'static str,
        /// The length its header gives.
        len: usize,
        /// The length of that type.
        want: usize,
    },
    /// A DBN file ends inside a record (cut short).
    #[error("{path}: the file ends {partial} bytes into a record, after {records} whole records: cut short")]
    DbnTruncated {
        /// The file.
        path: String,
        /// Records read in full.
        records: u64,
        /// Bytes of the unfinished record.
        partial: u64,
    },
}

impl Error {
    /// The byte offset an ITCH file error names (0 for other errors).
    pub fn offset(&self) -> u64 {
        match *self {
            Error::LengthMismatch { offset, .. }
            | Error::NotAMessage { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::At { offset, .. } => offset,
            _ => 0,
        }
    }
}

/// Two errors are equal when they are the same variant and say the same thing
/// (the OS and DBN errors they may carry have no equality of their own).
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && self.to_string() == other.to_string()
    }
}

/// What the `dbn` crate said, in one line without Rust debug formatting (its
/// I/O errors print their cause with `{:?}`).
fn dbn_text(e: &dbn::Error) -> String {
    match e {
        dbn::Error::Io { source, context } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("the file ends inside a record while {context}: cut short")
        }
        dbn::Error::Io { source, context } => format!("{source} while {context}"),
        dbn::Error::Utf8 { source, context } => format!("{source} while {context}"),
        other => other.to_string(),
    }
}
