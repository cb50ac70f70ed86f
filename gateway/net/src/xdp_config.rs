//! What an AF_XDP endpoint is configured with: compiled with or without the
//! `af_xdp` feature, so a configuration naming AF_XDP reads the same in every
//! build and a build without it can say what is missing.

/// Where the XDP program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachMode {
    /// Native (driver) mode where the driver has it, else generic.
    Auto,
    /// Native mode only (an error where the driver lacks it).
    Native,
    /// Generic (SKB) mode: any interface, without the driver's gain.
    Generic,
}

/// Whether the socket shares its frames with the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeroCopy {
    /// Zero-copy where the driver offers it, else copy (the kernel's choice).
    Auto,
    /// Zero-copy only (an error where the driver lacks it).
    On,
    /// Copy mode.
    Off,
}

/// An AF_XDP endpoint's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdpConfig {
    /// The interface the datagrams arrive on.
    pub interface: String,
    /// Its receive queue the socket binds (the feed steered there).
    pub queue: u32,
    /// Where the program runs.
    pub mode: AttachMode,
    /// Zero-copy or copy.
    pub zero_copy: ZeroCopy,
    /// Frames in the UMEM (a power of two; half receive, half transmit).
    pub frames: u32,
    /// Bytes per frame (2048 or 4096).
    pub frame_size: u32,
    /// Busy polling of the AF_XDP socket.
    pub busy_poll: Option<crate::BusyPoll>,
}

impl XdpConfig {
    /// Defaults for `interface`: queue 0, auto mode, 4096 frames of 2048 bytes.
    pub fn new(interface: &str) -> Self {
        XdpConfig {
            interface: interface.to_string(),
            queue: 0,
            mode: AttachMode::Auto,
            zero_copy: ZeroCopy::Auto,
            frames: 4096,
            frame_size: 2048,
            busy_poll: None,
        }
    }
}

impl std::str::FromStr for AttachMode {
    type Err = String;
    /// `auto`, `native` or `generic` (the configuration's and the flags' words).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(AttachMode::Auto),
            "native" => Ok(AttachMode::Native),
            "generic" => Ok(AttachMode::Generic),
            _ => Err(format!("{s:?}: expected auto, native or generic")),
        }
    }
}

impl std::str::FromStr for ZeroCopy {
    type Err = String;
    /// `auto`, `on` or `off`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ZeroCopy::Auto),
            "on" => Ok(ZeroCopy::On),
            "off" => Ok(ZeroCopy::Off),
            _ => Err(format!("{s:?}: expected auto, on or off")),
        }
    }
}
