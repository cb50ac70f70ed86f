//! Control inputs: timers (how control time advances without market data) and
//! operator commands. Both are sequenced and journalled like market data.

use super::header::{Header, Kind};
use bytemuck::{Pod, Zeroable};

/// Timer kinds, carried in [`Header::sub`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The periodic housekeeping tick (order ageing, bar close, PnL sampling).
    Tick = 1,
}

/// A timer event, 64 bytes. Ingest injects one when control time crosses
/// `deadline_ns`; `header.ts_ns` equals `deadline_ns`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Timer {
    /// Common header (`kind` = [`Kind::Timer`], `sub` = [`TimerKind`]).
    pub header: Header,
    /// The deadline that fired.
    pub deadline_ns: u64,
    /// The timer's period.
    pub period_ns: u64,
    /// How many times this timer has fired, starting at 1.
    pub count: u64,
    /// Reserved (zero).
    pub reserved: u64,
}
const _: () = assert!(core::mem::size_of::<Timer>() == 64);

impl Timer {
    /// A timer record firing at `deadline_ns`.
    pub fn new(kind: TimerKind, deadline_ns: u64, period_ns: u64, count: u64) -> Self {
        Timer {
            header: Header {
                kind: Kind::Timer as u8,
                sub: kind as u8,
                ts_ns: deadline_ns,
                ..Header::default()
            },
            deadline_ns,
            period_ns,
            count,
            reserved: 0,
        }
    }
}

/// Operator command codes, carried in [`Header::sub`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// Kill switch: cancel every open order and block new ones until re-armed.
    Kill = 1,
    /// Re-arm after a kill (and leave operator reduce-only).
    Rearm = 2,
    /// Operator reduce-only: only risk-reducing orders pass, until re-armed.
    ReduceOnly = 3,
    /// Halt the instrument in `header.instrument`: its open orders cancelled,
    /// no new ones until resumed.
    Halt = 4,
    /// Resume the instrument in `header.instrument` after a halt.
    Resume = 5,
}

impl CommandKind {
    /// Decodes a command byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<CommandKind> {
        match v {
            1 => Some(CommandKind::Kill),
            2 => Some(CommandKind::Rearm),
            3 => Some(CommandKind::ReduceOnly),
            4 => Some(CommandKind::Halt),
            5 => Some(CommandKind::Resume),
            _ => None,
        }
    }
}

impl CommandKind {
    /// The command's name (`foxtrot ctl` and journals).
    pub const fn name(self) -> &'static str {
        match self {
            CommandKind::Kill => "kill",
            CommandKind::Rearm => "rearm",
            CommandKind::ReduceOnly => "reduce_only",
            CommandKind::Halt => "halt",
            CommandKind::Resume => "resume",
        }
    }
}

/// [`OperatorCommand::arg0`] of a [`CommandKind::Kill`]: who pulled the switch.
pub mod kill_cause {
    /// The operator (`foxtrot ctl kill`).
    pub const OPERATOR: u64 = 0;
    /// The FIX session store could not keep an order (a full disk): an order
    /// no store holds could be sent again after a restart.
    pub const SESSION_STORE: u64 = 1;
    /// The run's journals stopped (a full disk): what the engine did from then
    /// on could not be replayed.
    pub const RUN_JOURNAL: u64 = 2;
}

/// An operator command, 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct OperatorCommand {
    /// Common header (`kind` = [`Kind::Command`], `sub` = [`CommandKind`]).
    pub header: Header,
    /// First argument (command-specific; a kill's [`kill_cause`]).
    pub arg0: u64,
    /// Second argument (command-specific).
    pub arg1: u64,
    /// Reserved (zero).
    pub reserved: [u64; 2],
}
const _: () = assert!(core::mem::size_of::<OperatorCommand>() == 64);

impl OperatorCommand {
    /// A command issued at control time `ts_ns`.
    pub fn new(kind: CommandKind, ts_ns: u64) -> Self {
        OperatorCommand {
            header: Header {
                kind: Kind::Command as u8,
                sub: kind as u8,
                ts_ns,
                ..Header::default()
            },
            ..OperatorCommand::default()
        }
    }
}
